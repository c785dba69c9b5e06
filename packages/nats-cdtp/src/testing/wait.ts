/** Polls `cond` every 10 ms; rejects after `timeoutMs` with `describe()`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, describe: () => string = () => 'condition not met'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
