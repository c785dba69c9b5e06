/**
 * Every error code OTAO's core can produce, with the meaning operators see in docs/errors.md.
 * Adapters map these codes to HTTP statuses (http-express) and CDTP status codes (nats-cdtp) in one
 * table each; a test keeps this list, those tables and docs/errors.md in step.
 */
export const ERROR_CODES = {
  'request.invalid': 'The input is malformed; the message names the field and the rule.',
  'software.invalid': 'A software definition breaks a rule of spec §2; the message names the field.',
  'software.not_found': 'No software with this version exists in the application (or the caller may not see it).',
  'software.version_conflict': 'A software with the same version (by SemVer precedence) already exists.',
  'software.cycle': 'The change would close a cycle in the upgrade graph; the message names the cycle.',
  'software.precondition_failed': 'If-Match does not match the current revision of the software.',
  'software.edit_conflict': 'A change without If-Match lost to other writers of the same software on every attempt (a storm of concurrent writes); retry.',
  'software.specification_too_large': 'The serialized specification or metadata exceeds the configured maximum.',
  'software.specification_not_object': 'A file is attached, so the specification must stay a JSON object.',
  'software.concurrent_change':
    'Other changes to the software kept interleaving with this one (its compare-and-set was retried too often); nothing was changed: retry.',
  'rollout.not_phased': 'The software has no phases: there is nothing to advance or hold.',
  'rollout.suspended': 'The software is suspended: its phases do not advance (or its first phase has not opened yet).',
  'rollout.last_phase': 'The rollout is on its last phase: there is no next phase to open.',
  'application.not_found': 'The application is unknown to the application registry of the tenant.',
  'application_version.not_found': 'The application version name is unknown to the application registry.',
  'endpoint.not_found': 'OTAO knows nothing of this endpoint in this application.',
  'file.not_found': 'The software has no file attached.',
  'file.invalid_name': 'A file name is empty, longer than 255 bytes, or contains a slash, a backslash, `..` or a control character.',
  'file.too_large': 'The uploaded file exceeds the configured maximum (OTAO_S3_MAX_FILE_BYTES); nothing was stored.',
  'consent.invalid_version': 'A consent names neither a SemVer version nor `*`.',
  'config.unknown_name': 'A CDTP request names a configuration other than `default`.',
  'config.invalid_config_id': 'A CDTP request or report carries a configId that is not a SemVer version.',
  'auth.unauthenticated': 'The bearer token is missing, malformed, expired, not yet valid, forged, or from an unknown issuer.',
  'auth.forbidden': 'The caller has some permission on the application but not the scope this operation needs.',
  'request.invalid_json': 'The request body is not valid JSON.',
  'request.too_large': 'The request body exceeds the configured size limit.',
  'request.unsupported_media_type': 'The request body must be application/json.',
  'route.not_found': 'No such route.',
  'method.not_allowed': 'The route exists but not with this method.',
  internal: 'An unexpected error; it is logged with the correlation id.',
  'store.unavailable': 'The state store cannot be reached or timed out.',
  'dependency.unavailable': 'A dependency other than the store (NATS, S3, EPR, tenant manager) is unavailable.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes of thrown infrastructure failures. */
export type InfrastructureErrorCode = 'store.unavailable' | 'dependency.unavailable';

/**
 * A thrown infrastructure failure. Adapters translate their driver's errors into this one type in
 * one place; driver error types never cross a port.
 */
export class OtaoError extends Error {
  override readonly name = 'OtaoError';
  constructor(
    readonly code: InfrastructureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isOtaoError(e: unknown): e is OtaoError {
  return e instanceof OtaoError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'OtaoError');
}
