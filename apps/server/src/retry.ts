import { exponentialBackoff } from '@otao/core';
import type { Logger } from 'pino';

/**
 * Runs `fn` until it succeeds or `stopped()` says to give up (then undefined), waiting 0.5 s, 1 s,
 * 2 s… up to 10 s between attempts and logging each failure.
 */
export async function retry<T>(what: string, log: Logger, stopped: () => boolean, fn: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      return await fn();
    } catch (e) {
      const delay = exponentialBackoff(attempt, 500, 10_000);
      log.warn({ err: (e as Error).message, attempt, retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return undefined;
}

/** Waits for `work` (its failure is not this wait's), but at most `ms`: a graceful stop's grace. */
export async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
