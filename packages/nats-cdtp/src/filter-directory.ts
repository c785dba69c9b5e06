import { exponentialBackoff, type FilterDirectory, isOtaoError, type Logger, noopLogger, OtaoError } from '@otao/core';
import { ErrorCode, type NatsError } from 'nats';
import { codecs } from './codecs';
import type { NatsConnection } from './connection';
import { completeObserver, type EfmpOperation, type EfmpOutcome, type NatsCdtpObserver } from './observer';
import { subjects } from './subjects';

export interface FilterDirectoryConfig {
  /** EPR's service instance name (OTAO_EPR_INSTANCE_NAME). */
  readonly eprInstanceName: string;
  /** ep-list-by-filter: per-attempt timeout (default 10 000 ms; large filters are one big message). */
  readonly listTimeoutMs?: number;
  /** ep-list-by-filter: retries after the first attempt (default 2). */
  readonly listRetries?: number;
  /** ep-filters (asked during a pull, so short): per-attempt timeout (default 500 ms). */
  readonly filtersTimeoutMs?: number;
  /** ep-filters: retries after the first attempt (default 1). */
  readonly filtersRetries?: number;
  /** First retry delay, doubled per retry (default 100 ms). */
  readonly retryDelayMs?: number;
}

export interface FilterDirectoryClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
  readonly now?: () => number;
}

interface StatusRecord {
  readonly statusCode: number;
  readonly reasonPhrase: string | null;
}

/**
 * FilterDirectory over 20/EFMP request/reply to EPR. A timeout, no responder, a 5xx answer or a
 * closed connection is retried with backoff; a 4xx answer is not. Whatever finally fails throws
 * `OtaoError('dependency.unavailable')`.
 */
export class NatsFilterDirectory implements FilterDirectory {
  private readonly logger: Logger;
  private readonly observer: NatsCdtpObserver;
  private readonly now: () => number;

  constructor(
    private readonly connection: NatsConnection,
    private readonly config: FilterDirectoryConfig,
    clients: FilterDirectoryClients = {},
  ) {
    this.logger = clients.logger ?? noopLogger;
    this.observer = completeObserver(clients.observer);
    this.now = clients.now ?? Date.now;
  }

  async endpointsByFilter(filterId: string, correlationId: string): Promise<ReadonlyMap<string, readonly string[]>> {
    const timeoutMs = this.config.listTimeoutMs ?? 10_000;
    const r = await this.call(
      'ep-list-by-filter',
      subjects.efmpEndpointListByFilter(this.config.eprInstanceName),
      () => codecs.endpointListByFilterRequest.encode({ correlationId, timestamp: this.now(), timeout: timeoutMs, filterId }),
      (data) => codecs.endpointListByFilterResponse.decode(data),
      timeoutMs,
      this.config.listRetries ?? 2,
      { filterId, correlationId },
    );
    const out = new Map<string, readonly string[]>();
    for (const [appVersionName, ids] of Object.entries(r.appVersionsToEndpoints)) out.set(appVersionName, ids);
    return out;
  }

  async filtersOfEndpoint(endpointId: string, correlationId: string): Promise<readonly string[]> {
    const timeoutMs = this.config.filtersTimeoutMs ?? 500;
    const r = await this.call(
      'ep-filters',
      subjects.efmpEndpointFilters(this.config.eprInstanceName),
      () => codecs.endpointFiltersRequest.encode({ correlationId, timestamp: this.now(), timeout: timeoutMs, endpointId }),
      (data) => codecs.endpointFiltersResponse.decode(data),
      timeoutMs,
      this.config.filtersRetries ?? 1,
      { endpointId, correlationId },
    );
    return r.filterIds;
  }

  private async call<T extends StatusRecord>(
    op: EfmpOperation,
    subject: string,
    encode: () => Buffer,
    decode: (data: Uint8Array) => T,
    timeoutMs: number,
    retries: number,
    context: Record<string, string>,
  ): Promise<T> {
    const baseDelay = this.config.retryDelayMs ?? 100;
    let last = 'no attempt';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, exponentialBackoff(attempt, baseDelay)));
      const started = performance.now();
      const done = (outcome: EfmpOutcome): void => this.observer.efmpRequest(op, outcome, (performance.now() - started) / 1000);
      let data: Uint8Array;
      try {
        const nc = this.connection.client();
        data = (await nc.request(subject, encode(), { timeout: timeoutMs })).data;
      } catch (e) {
        const code = isOtaoError(e) ? undefined : (e as NatsError).code;
        const outcome: EfmpOutcome = code === ErrorCode.Timeout ? 'timeout' : code === ErrorCode.NoResponders ? 'no_responders' : 'unavailable';
        done(outcome);
        last = `${outcome}: ${(e as Error).message}`;
        continue;
      }
      let r: T;
      try {
        r = decode(data);
      } catch (e) {
        done('undecodable');
        this.logger.warn({ ...context, error: (e as Error).message }, `EPR ${op} answer undecodable`);
        throw new OtaoError('dependency.unavailable', `EPR ${op}: undecodable answer`, { cause: e });
      }
      if (r.statusCode >= 200 && r.statusCode < 300) {
        done('ok');
        return r;
      }
      done('error_status');
      last = `status ${r.statusCode}${r.reasonPhrase ? ` ${r.reasonPhrase}` : ''}`;
      if (r.statusCode < 500) break;
    }
    this.logger.warn({ ...context, error: last }, `EPR ${op} failed`);
    throw new OtaoError('dependency.unavailable', `EPR ${op} failed: ${last}`);
  }
}
