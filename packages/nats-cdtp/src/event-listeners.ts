import { exponentialBackoff, isOtaoError, type Logger, noopLogger, type OtaoCore } from '@otao/core';
import type { Msg, Subscription } from 'nats';
import { codecs } from './codecs';
import type { NatsConnection } from './connection';
import { completeObserver, type EventOutcome, type InboundKind, type NatsCdtpObserver } from './observer';
import { parseSoftwareEvent } from './software-events';
import { subjects } from './subjects';
import { ThrottledLog } from './throttled-log';
import { WorkQueue } from './work-queue';

export interface EventListenersConfig {
  /** OTAO's service instance name: queue group of the load-balanced listeners, software event subject. */
  readonly instanceName: string;
  /** The software consumer (CMX) whose ConfigApplied events count (default name `cmx-ota`). */
  readonly softwareConsumerInstanceName: string;
  /** EPR: 9/ELCE and 18/EFE originator. */
  readonly eprInstanceName: string;
  /** Tenant Manager: 21/TLE originator. */
  readonly tenantManagerInstanceName: string;
  /** Event handlers running at once (default 64). Events of one endpoint run one after the other. */
  readonly maxConcurrentEvents?: number;
  /** Events waiting for a slot before new ones are dropped as `overloaded` (default 100 000). */
  readonly maxQueuedEvents?: number;
  /**
   * How long an event is retried while a dependency is unavailable (OTAO_EVENT_RETRY_SECONDS,
   * default 600 s), from its first attempt; delays start at `eventRetryDelayMs` (default 200 ms),
   * doubling, capped at 5 s. Events behind a retried one wait in the bounded queue.
   */
  readonly eventRetryMs?: number;
  readonly eventRetryDelayMs?: number;
}

export interface EventListenersClients {
  readonly logger?: Logger;
  readonly observer?: Partial<NatsCdtpObserver>;
  /** 21/TLE `tenant.lifecycle.updated` (every replica): e.g. refresh the tenant's security config. */
  readonly onTenantUpdated?: (tenantId: string, correlationId: string) => void | Promise<void>;
  /**
   * 21/TLE `tenant.lifecycle.unregistered` on every replica (the data is deleted by one): e.g. stop
   * accepting the tenant's tokens. Counted as kind `tenant.access-revoked`.
   */
  readonly onTenantUnregistered?: (tenantId: string, correlationId: string) => void | Promise<void>;
}

/** The part of the core the listeners drive. */
export type ListenerCore = Pick<OtaoCore, 'reports' | 'endpointEvents' | 'tenants'>;

interface Listener<R> {
  readonly kind: InboundKind;
  readonly subject: string;
  /** Queue group, or none when every replica must see the event. */
  readonly queue: string | undefined;
  decode(msg: Msg): R | undefined;
  key(r: R): string;
  handle(r: R): Promise<EventOutcome>;
}

/**
 * The event listeners of spec §4.4–§4.7 and §4.9: 6/CDTP ConfigApplied, 9/ELCE, 18/EFE, 21/TLE and
 * OTAO's software events. A handler failing with OtaoError (store down, registry not loaded yet) is
 * retried with backoff for `eventRetryMs` (spec §10: OTAO_EVENT_RETRY_SECONDS) in bounded memory —
 * at most `maxConcurrentEvents` retrying, at most `maxQueuedEvents` waiting; what still fails, or
 * finds the queue full, is counted (`failed_after_retries`, `overloaded`) and logged.
 */
export class EventListeners {
  private readonly subs: Subscription[] = [];
  private readonly queue: WorkQueue;
  private readonly logger: Logger;
  private readonly observer: NatsCdtpObserver;
  private readonly throttled: ThrottledLog;
  private stopping = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly core: ListenerCore,
    private readonly config: EventListenersConfig,
    private readonly clients: EventListenersClients = {},
  ) {
    this.logger = clients.logger ?? noopLogger;
    this.observer = completeObserver(clients.observer);
    this.throttled = new ThrottledLog(this.logger);
    this.queue = new WorkQueue(config.maxConcurrentEvents ?? 64, config.maxQueuedEvents ?? 100_000, (e) =>
      this.logger.error({ error: String(e) }, 'event handler failed unexpectedly'),
    );
  }

  /** The subjects and queue groups listened to (for docs, logs and tests). */
  listeners(): readonly { kind: InboundKind; subject: string; queue: string | undefined }[] {
    return this.definitions().map(({ kind, subject, queue }) => ({ kind, subject, queue }));
  }

  /** Subscribes everything (after the connection started). Idempotent. */
  start(): void {
    if (this.subs.length > 0) return;
    this.stopping = false;
    const nc = this.connection.clientForSubscriptions();
    for (const l of this.definitions()) {
      this.subs.push(
        nc.subscribe(l.subject, {
          ...(l.queue !== undefined ? { queue: l.queue } : {}),
          callback: (err, msg) => {
            if (err) this.logger.error({ subject: l.subject, error: err.message }, 'event subscription error');
            else this.onMessage(l, msg);
          },
        }),
      );
    }
  }

  /** Stops listening, gives up pending retries, and waits for running handlers. */
  async stop(): Promise<void> {
    this.stopping = true;
    const subs = this.subs.splice(0);
    await Promise.all(
      subs.map(async (s) => {
        try {
          if (!s.isClosed()) await s.drain();
        } catch (e) {
          this.logger.warn({ error: (e as Error).message }, 'event subscription drain failed');
        }
      }),
    );
    await this.queue.idle();
  }

  private onMessage(l: Listener<unknown>, msg: Msg): void {
    let r: unknown;
    try {
      r = l.decode(msg);
    } catch (e) {
      r = undefined;
      this.throttled.warn(`undecodable:${l.kind}`, 'undecodable event dropped', { kind: l.kind, subject: msg.subject, error: (e as Error).message });
    }
    if (r === undefined) {
      this.observer.dropped(l.kind, 'undecodable');
      return;
    }
    if (!this.queue.offer(() => this.run(l, r), l.key(r))) {
      this.observer.dropped(l.kind, 'overloaded');
      this.throttled.warn(`overloaded:${l.kind}`, 'event dropped: too many events waiting', { kind: l.kind });
    }
  }

  private async run<R>(l: Listener<R>, r: R): Promise<void> {
    const retryMs = Math.max(0, this.config.eventRetryMs ?? 600_000);
    const firstDelay = this.config.eventRetryDelayMs ?? 200;
    const giveUpAt = Date.now() + retryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        this.observer.eventHandled(l.kind, await l.handle(r));
        return;
      } catch (e) {
        if (!isOtaoError(e)) {
          this.observer.eventHandled(l.kind, 'internal_error');
          this.logger.error({ kind: l.kind, error: (e as Error)?.stack ?? String(e) }, 'event handler failed');
          return;
        }
        const delay = exponentialBackoff(attempt, firstDelay, 5000, 20);
        if (Date.now() + delay > giveUpAt || this.stopping) {
          this.observer.eventHandled(l.kind, 'failed_after_retries');
          this.logger.error({ kind: l.kind, attempts: attempt, code: e.code, event: r }, 'event lost after retries: dependency unavailable');
          return;
        }
        this.observer.eventRetried(l.kind);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private definitions(): Listener<unknown>[] {
    const c = this.config;
    const core = this.core;
    const avro =
      <R>(decode: (d: Uint8Array) => R) =>
      (m: Msg): R =>
        decode(m.data);
    const list = [
      {
        kind: 'config.applied',
        subject: subjects.configApplied(c.softwareConsumerInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.configApplied.decode(d)),
        key: (r) => `ep:${r.endpointId}`,
        handle: (r) =>
          core.reports.applied({
            appVersionName: r.appVersionName,
            endpointId: r.endpointId,
            configId: r.configId,
            statusCode: r.statusCode,
            reasonPhrase: r.reasonPhrase,
            correlationId: r.correlationId,
          }),
      } satisfies Listener<ReturnType<typeof codecs.configApplied.decode>>,
      {
        kind: 'endpoint.unregistered',
        subject: subjects.endpointUnregistered(c.eprInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.endpointUnregistered.decode(d)),
        key: (r) => `ep:${r.endpointId}`,
        handle: (r) => core.endpointEvents.unregistered(r.appVersionName, r.endpointId),
      } satisfies Listener<ReturnType<typeof codecs.endpointUnregistered.decode>>,
      {
        kind: 'endpoint.appversion-updated',
        subject: subjects.endpointAppVersionUpdated(c.eprInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.appVersionUpdated.decode(d)),
        key: (r) => `ep:${r.endpointId}`,
        handle: (r) => core.endpointEvents.appVersionUpdated(r.endpointId, r.appVersionName, r.previousAppVersionName),
      } satisfies Listener<ReturnType<typeof codecs.appVersionUpdated.decode>>,
      {
        kind: 'filter.ep-matched',
        subject: subjects.filterMatched(c.eprInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.filterMatched.decode(d)),
        key: (r) => `ep:${r.endpointId}`,
        handle: (r) => core.endpointEvents.filterMatched(r.appVersionName, r.filterId, r.endpointId, r.correlationId),
      } satisfies Listener<ReturnType<typeof codecs.filterMatched.decode>>,
      {
        kind: 'filter.ep-unmatched',
        subject: subjects.filterUnmatched(c.eprInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.filterUnmatched.decode(d)),
        key: (r) => `ep:${r.endpointId}`,
        handle: (r) => core.endpointEvents.filterUnmatched(r.appVersionName, r.filterId, r.endpointId),
      } satisfies Listener<ReturnType<typeof codecs.filterUnmatched.decode>>,
      {
        kind: 'filter.deleted',
        subject: subjects.filterDeleted(c.eprInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.filterDeleted.decode(d)),
        key: (r) => `filter:${r.applicationName}:${r.filterId}`,
        handle: (r) => core.endpointEvents.filterDeleted(r.applicationName, r.filterId),
      } satisfies Listener<ReturnType<typeof codecs.filterDeleted.decode>>,
      {
        kind: 'tenant.updated',
        subject: subjects.tenantUpdated(c.tenantManagerInstanceName),
        queue: undefined,
        decode: avro((d) => codecs.tenantUpdated.decode(d)),
        key: (r) => `tenant:${r.tenantId}`,
        handle: async (r) => {
          const cb = this.clients.onTenantUpdated;
          if (!cb) return 'ignored';
          await cb(r.tenantId, r.correlationId);
          return 'done';
        },
      } satisfies Listener<ReturnType<typeof codecs.tenantUpdated.decode>>,
      {
        kind: 'tenant.unregistered',
        subject: subjects.tenantUnregistered(c.tenantManagerInstanceName),
        queue: c.instanceName,
        decode: avro((d) => codecs.tenantUnregistered.decode(d)),
        key: (r) => `tenant:${r.tenantId}`,
        handle: async (r) => {
          await core.tenants.removed(r.tenantId);
          return 'done';
        },
      } satisfies Listener<ReturnType<typeof codecs.tenantUnregistered.decode>>,
      {
        kind: 'tenant.access-revoked',
        subject: subjects.tenantUnregistered(c.tenantManagerInstanceName),
        queue: undefined, // every replica holds its own token cache and tenant directory
        decode: avro((d) => codecs.tenantUnregistered.decode(d)),
        key: (r) => `tenant-access:${r.tenantId}`,
        handle: async (r) => {
          const cb = this.clients.onTenantUnregistered;
          if (!cb) return 'ignored';
          await cb(r.tenantId, r.correlationId);
          return 'done';
        },
      } satisfies Listener<ReturnType<typeof codecs.tenantUnregistered.decode>>,
      {
        kind: 'software.lifecycle',
        subject: subjects.softwareLifecycle(c.instanceName),
        queue: undefined,
        decode: (m) => parseSoftwareEvent(m.subject, m.data),
        key: (r) => `app:${r.tenantId}:${r.appName}`,
        handle: async (r) => {
          core.endpointEvents.softwareChangedElsewhere(r.tenantId, r.appName);
          return 'done';
        },
      } satisfies Listener<NonNullable<ReturnType<typeof parseSoftwareEvent>>>,
    ];
    return list;
  }
}
