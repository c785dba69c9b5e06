import type { ConfigAnswer, ConfigDecision, ConfigRequestError, ErrorCode, InfrastructureErrorCode } from '@otao/core';

/**
 * The CDTP column of docs/errors.md: the status code a ConfigResponse carries for each error code
 * that can reach a CDTP answer. A test keeps this table and docs/errors.md in step.
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

/** The fields of a ConfigResponse OTAO decides, and the outcome label counted for it. */
export interface CdtpAnswer {
  /** For metrics and logs: what kind of answer this is. */
  readonly outcome: CdtpOutcome;
  readonly statusCode: number;
  readonly reasonPhrase: string | null;
  readonly configId: string | null;
  /** UTF-8 JSON text of the specification (link injected), or null. */
  readonly content: string | null;
}

/** The outcome labels of answered requests (the `outcome` label of the CDTP request counter). */
export type CdtpOutcome =
  ConfigAnswer['outcome'] | 'unknown_config_name' | 'unknown_app_version' | 'invalid_config_id' | 'unavailable' | 'internal_error' | 'overloaded';

/** Status and reason phrase of each answer the core decides (spec §4.2 steps 6–8). */
const ANSWERS: { readonly [K in ConfigAnswer['outcome']]: { readonly statusCode: number; readonly reasonPhrase: string | null } } = {
  new: { statusCode: 200, reasonPhrase: 'OK' },
  unchanged: { statusCode: 200, reasonPhrase: null },
  none: { statusCode: 200, reasonPhrase: 'no software available' },
};

/** Outcome label and reason phrase of each refusal the core returns (spec §4.2 steps 2–4); the status is {@link CDTP_STATUS}'s. */
const REFUSALS: {
  readonly [K in ConfigRequestError['code']]: { readonly outcome: CdtpOutcome; readonly reasonPhrase: (req: { readonly configId?: string | null }) => string };
} = {
  'config.unknown_name': { outcome: 'unknown_config_name', reasonPhrase: () => 'unknown configuration name' },
  'application_version.not_found': { outcome: 'unknown_app_version', reasonPhrase: () => 'unknown application version' },
  'config.invalid_config_id': {
    outcome: 'invalid_config_id',
    reasonPhrase: (req) => `configId ${JSON.stringify((req.configId ?? '').slice(0, 100))} is not a SemVer version`,
  },
};

/** Status and reason of an answer to an unexpected failure inside decide(). */
export const INTERNAL_ERROR = { statusCode: 500, reasonPhrase: 'internal error' } as const satisfies { statusCode: number; reasonPhrase: string };

/** Status and reason of the answer to a request refused because too many requests are waiting (the queue is full). */
export const OVERLOADED = { statusCode: 503, reasonPhrase: 'service unavailable: overloaded' } as const satisfies { statusCode: number; reasonPhrase: string };

/** Status and reason for an infrastructure failure thrown by decide(). */
export function unavailableAnswer(code: InfrastructureErrorCode): { statusCode: number; reasonPhrase: string } {
  return { statusCode: CDTP_STATUS[code] ?? 503, reasonPhrase: `service unavailable: ${code}` };
}

/** The ConfigResponse fields for what the core decided about `req`. */
export function cdtpAnswer(decision: ConfigDecision, req: { readonly configId?: string | null }): CdtpAnswer {
  if (decision.ok) {
    const d = decision.value;
    const a = ANSWERS[d.outcome];
    return d.outcome === 'new'
      ? { outcome: 'new', statusCode: a.statusCode, reasonPhrase: a.reasonPhrase, configId: d.configId, content: d.content }
      : { outcome: d.outcome, statusCode: a.statusCode, reasonPhrase: a.reasonPhrase, configId: null, content: null };
  }
  const code = decision.error.code;
  const r = REFUSALS[code];
  return { outcome: r.outcome, statusCode: CDTP_STATUS[code] ?? INTERNAL_ERROR.statusCode, reasonPhrase: r.reasonPhrase(req), configId: null, content: null };
}

/** The ConfigResponse fields for an infrastructure failure (`OtaoError`) thrown by decide(). */
export function cdtpUnavailable(code: InfrastructureErrorCode): CdtpAnswer {
  return { outcome: 'unavailable', ...unavailableAnswer(code), configId: null, content: null };
}

/** The ConfigResponse fields for an unexpected failure. */
export const INTERNAL_ERROR_ANSWER: CdtpAnswer = { outcome: 'internal_error', ...INTERNAL_ERROR, configId: null, content: null };
