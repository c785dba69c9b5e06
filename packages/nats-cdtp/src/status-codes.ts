import type { ErrorCode } from '@otao/core';

/**
 * The CDTP column of docs/errors.md: the status code a ConfigResponse carries for each error code
 * that can reach a CDTP answer. The core builds the answers of the codes it returns itself
 * (ConfigRequestService.decide); the transport uses this table for what escapes decide().
 * A test keeps this table and docs/errors.md in step.
 */
export const CDTP_STATUS: Partial<Record<ErrorCode, number>> = {
  'request.invalid': 400,
  'application.not_found': 404,
  'application_version.not_found': 404,
  'config.unknown_name': 404,
  'config.invalid_config_id': 400,
  internal: 500,
  'store.unavailable': 503,
  'dependency.unavailable': 503,
};

/** Status and reason of an answer to an unexpected failure inside decide(). */
export const INTERNAL_ERROR = { statusCode: 500, reasonPhrase: 'internal error' } as const satisfies { statusCode: number; reasonPhrase: string };

/** Status and reason of the answer to a request refused because too many requests are waiting (the queue is full). */
export const OVERLOADED = { statusCode: 503, reasonPhrase: 'service unavailable: overloaded' } as const satisfies { statusCode: number; reasonPhrase: string };

/** Status and reason for an infrastructure failure that escaped decide() (the core's own wording). */
export function unavailableAnswer(code: 'store.unavailable' | 'dependency.unavailable'): { statusCode: number; reasonPhrase: string } {
  return { statusCode: CDTP_STATUS[code] ?? 503, reasonPhrase: `service unavailable: ${code}` };
}
