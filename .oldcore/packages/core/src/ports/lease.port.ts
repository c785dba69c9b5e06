/**
 * A named lease with expiry, used to elect the one replica that runs rollout-date pushes, and a
 * checkpoint (the last rollout time processed) that survives restarts.
 * Throws `OtaoError('store.unavailable')` when the store cannot be reached.
 */
export interface Lease {
  /**
   * Acquires or renews the lease for `holder` until `now + ttlMs`. Returns true when `holder` holds
   * it afterwards: it was free, expired, or already held by `holder`. Atomic across replicas.
   */
  tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Releases the lease if `holder` holds it. Idempotent. */
  release(name: string, holder: string): Promise<void>;
  /** The stored checkpoint of `name`, or undefined. */
  getCheckpoint(name: string): Promise<number | undefined>;
  /** Stores the checkpoint of `name`. */
  setCheckpoint(name: string, value: number): Promise<void>;
}
