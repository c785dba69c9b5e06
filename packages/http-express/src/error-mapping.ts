import type { ErrorCode } from '@otao/core';

/**
 * The one table mapping core error codes to HTTP statuses (docs/errors.md, HTTP column).
 * Codes that have no REST meaning map to 500: they are never returned by a REST use case.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  'request.invalid': 400,
  'request.invalid_json': 400,
  'request.too_large': 413,
  'request.unsupported_media_type': 415,
  'route.not_found': 404,
  'method.not_allowed': 405,
  'software.invalid': 400,
  'software.not_found': 404,
  'software.version_conflict': 409,
  'software.cycle': 409,
  'software.precondition_failed': 412,
  'software.edit_conflict': 409,
  'software.specification_too_large': 413,
  'software.specification_not_object': 409,
  'software.concurrent_change': 409,
  'rollout.not_phased': 409,
  'rollout.suspended': 409,
  'rollout.last_phase': 409,
  'application.not_found': 404,
  'application_version.not_found': 404,
  'endpoint.not_found': 404,
  'file.not_found': 404,
  'file.invalid_name': 400,
  'file.too_large': 413,
  'consent.invalid_version': 400,
  'config.unknown_name': 500,
  'config.invalid_config_id': 500,
  'auth.unauthenticated': 401,
  'auth.forbidden': 403,
  internal: 500,
  'store.unavailable': 503,
  'dependency.unavailable': 503,
};

/** The error body of every non-2xx answer. */
export interface ErrorBody {
  readonly message: string;
  readonly code: string;
}

/** An expected failure to answer with; thrown inside handlers, rendered by the error middleware. */
export class HttpFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}
