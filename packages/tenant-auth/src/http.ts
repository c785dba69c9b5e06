import { OtaoError } from '@otao/core';

/** fetch with a timeout; network failures and timeouts become OtaoError('dependency.unavailable'). */
export async function fetchWithTimeout(url: string, init: RequestInit & { timeoutMs: number; what: string }): Promise<Response> {
  const { timeoutMs, what, ...rest } = init;
  try {
    return await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new OtaoError('dependency.unavailable', `${what} unreachable`, { cause: e });
  }
}
