/**
 * The delay before retry number `attempt` (1 = the first retry): `baseMs` doubled with each further
 * attempt, at most `maxMs`. `maxDoublings` bounds the exponent, so the delay stays finite however
 * long a loop keeps retrying. Pure: jitter, if wanted, is the caller's (the core reads no randomness).
 */
export function exponentialBackoff(attempt: number, baseMs: number, maxMs = Number.POSITIVE_INFINITY, maxDoublings = Number.POSITIVE_INFINITY): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, maxDoublings));
}
