/** What one attempt of {@link retryCompareAndSet} returns when its compare-and-set lost to another writer. */
export const CAS_LOST: unique symbol = Symbol('compare-and-set lost');

/**
 * A read-modify-write loop: runs `attempt` (read, decide, compare-and-set on the revision read)
 * until it returns anything but {@link CAS_LOST}, at most `attempts` times; then `exhausted()`.
 */
export async function retryCompareAndSet<R, X>(attempts: number, attempt: () => Promise<R | typeof CAS_LOST>, exhausted: () => X): Promise<R | X> {
  for (let i = 0; i < attempts; i++) {
    const r = await attempt();
    if (r !== CAS_LOST) return r;
  }
  return exhausted();
}
