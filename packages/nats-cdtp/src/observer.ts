import type { CdtpOutcome } from './status-codes';

/** The NATS messages OTAO consumes, for drop and event counters. */
export type InboundKind =
  | 'cdtp.request'
  | 'config.applied'
  | 'endpoint.unregistered'
  | 'endpoint.appversion-updated'
  | 'filter.ep-matched'
  | 'filter.ep-unmatched'
  | 'filter.deleted'
  | 'tenant.updated'
  | 'tenant.unregistered'
  | 'tenant.access-revoked'
  | 'software.lifecycle';

/** Why an inbound message was not processed. */
export type DropReason = 'undecodable' | 'expired' | 'no_reply_subject' | 'overloaded' | 'reply_failed';

/**
 * What answering a CDTP request ended in: the core's answer or refusal, `unavailable` (503: the
 * store or a dependency failed), `internal_error` (500), or `overloaded` (503 without deciding: too
 * many requests were waiting). Labels and status codes come from the table in `status-codes.ts`.
 */
export type RequestOutcome = CdtpOutcome;

/**
 * Outcome of an event handler: the core's own outcome string (`done`, `applied`, `failed`,
 * `duplicate`, `unknown_app_version`, …), `failed_after_retries` when the store stayed unavailable
 * through every retry, or `internal_error` for an unexpected exception.
 */
export type EventOutcome = string;

export type EfmpOperation = 'ep-filters' | 'ep-list-by-filter';
export type EfmpOutcome = 'ok' | 'error_status' | 'timeout' | 'no_responders' | 'undecodable' | 'unavailable';

export type ConnectionStatus = 'connected' | 'reconnecting' | 'closed';

/**
 * Metrics hooks. apps/server implements them with prom-client; the package stays free of it.
 * Every method must be cheap and must not throw.
 */
export interface NatsCdtpObserver {
  /** A CDTP request was answered: outcome, status code sent, seconds from receipt to reply. */
  requestHandled(outcome: RequestOutcome, statusCode: number, seconds: number): void;
  /** An inbound message was dropped without being processed (counted, never silent). */
  dropped(kind: InboundKind, reason: DropReason): void;
  /** One ConfigUpdated was handed to the NATS client. */
  pushPublished(): void;
  /** A ConfigUpdated could not be published (the core un-marks it and retries). */
  pushFailed(): void;
  /** An event handler finished. */
  eventHandled(kind: InboundKind, outcome: EventOutcome): void;
  /** An event handler is retried after a store/dependency failure. */
  eventRetried(kind: InboundKind): void;
  /** One 20/EFMP request attempt to EPR, with its duration. */
  efmpRequest(operation: EfmpOperation, outcome: EfmpOutcome, seconds: number): void;
  /** The NATS connection changed status. */
  connectionStatus(status: ConnectionStatus): void;
}

export const noopObserver: NatsCdtpObserver = {
  requestHandled: () => undefined,
  dropped: () => undefined,
  pushPublished: () => undefined,
  pushFailed: () => undefined,
  eventHandled: () => undefined,
  eventRetried: () => undefined,
  efmpRequest: () => undefined,
  connectionStatus: () => undefined,
};

/** Binds the members an observer has (class instances too) and fills the others with no-ops. */
export function completeObserver(partial: Partial<NatsCdtpObserver> | undefined): NatsCdtpObserver {
  if (!partial) return noopObserver;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(noopObserver) as (keyof NatsCdtpObserver)[]) {
    const f = partial[k] as ((...args: unknown[]) => void) | undefined;
    out[k] = typeof f === 'function' ? f.bind(partial) : noopObserver[k];
  }
  return out as unknown as NatsCdtpObserver;
}
