import type { RolloutCounter, RolloutCounts } from '@otao/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One active rollout (non-suspended software offered in the last 7 days) as the gauges show it. */
export interface RolloutSample {
  readonly tenantId: string;
  readonly appName: string;
  readonly version: string;
  readonly counts: RolloutCounts;
  /** The open phase's percent (100 when not phased). */
  readonly phasePercent: number;
}

/** The most series per rollout gauge; the rollouts beyond it (least recently offered) are dropped and counted. */
export const ROLLOUT_SERIES_LIMIT = 1000;

const ROLLOUT_GAUGES: readonly [RolloutCounter, string][] = [
  ['offered', 'otao_rollout_offered'],
  ['applied', 'otao_rollout_applied'],
  ['failed', 'otao_rollout_failed'],
  ['timedOut', 'otao_rollout_timed_out'],
  ['rolledBack', 'otao_rollout_rolled_back'],
];

/**
 * Prometheus metrics of spec §6.5 (docs/operations.md explains each): CDTP requests by status and
 * their latency, pushes, applied and failed reports, dropped messages, HTTP requests by route and
 * status, store latency and store commands (round trips); plus process metrics.
 */
export class OtaoMetrics {
  readonly registry = new Registry();
  readonly cdtpRequests = new Counter({
    name: 'otao_cdtp_requests_total',
    help: 'CDTP ConfigRequests answered, by status code and outcome',
    labelNames: ['status', 'outcome'],
    registers: [this.registry],
  });
  readonly cdtpLatency = new Histogram({
    name: 'otao_cdtp_request_duration_seconds',
    help: 'Time from receiving a ConfigRequest to publishing its answer',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly pushes = new Counter({ name: 'otao_pushes_total', help: 'ConfigUpdated events published', registers: [this.registry] });
  readonly reports = new Counter({
    name: 'otao_reports_total',
    help: 'ConfigApplied reports handled, by outcome (applied, failed, duplicate, ignored)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'otao_dropped_messages_total',
    help: 'NATS messages dropped, by reason (undecodable, expired, no_reply, unknown_app_version, handler_failed, …)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'otao_events_total',
    help: 'Inbound events handled (ELCE, EFE, TLE, software, SCMP), by kind and outcome',
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'otao_http_requests_total',
    help: 'REST requests, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  readonly httpLatency = new Histogram({
    name: 'otao_http_request_duration_seconds',
    help: 'REST request latency by route pattern',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly storeCommands = new Counter({
    name: 'otao_store_commands_total',
    help: "Commands (round trips) sent to the store, by command name (find, insert, update, findAndModify, getMore, …), from the driver's command monitoring",
    labelNames: ['command'],
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: 'otao_store_operation_duration_seconds',
    help: 'State store operations, by repository method and result',
    labelNames: ['operation', 'result'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly backgroundJobs = new Counter({
    name: 'otao_background_jobs_total',
    help: 'Background push computations and filter bootstraps, by kind and result',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  });
  readonly recounts = new Histogram({
    name: 'otao_fleet_recount_duration_seconds',
    help: 'Background recounts of the endpoints of a large application (stored counts of its lists and previews), by result',
    labelNames: ['result'],
    buckets: [0.05, 0.25, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly fileOrphans = new Counter({
    name: 'otao_file_orphans_total',
    help: 'S3 objects (or version prefixes) left behind because their deletion failed after the record changed (see docs/files.md)',
    registers: [this.registry],
  });
  readonly up = new Gauge({
    name: 'otao_dependency_up',
    help: '1 when the dependency is reachable (nats, store, s3, registry)',
    labelNames: ['dependency'],
    registers: [this.registry],
  });

  readonly storeReconnects = new Counter({
    name: 'otao_store_client_replacements_total',
    help: 'Times the store client was replaced because it no longer reached a store that a fresh client reached (docs/mongo-store.md)',
    registers: [this.registry],
  });

  readonly rolloutsDropped = new Gauge({
    name: 'otao_rollout_series_dropped',
    help: `Active rollouts left out of the otao_rollout_* gauges (more than ${ROLLOUT_SERIES_LIMIT}; the least recently offered go)`,
    registers: [this.registry],
  });

  private readonly storeCommandChildren = new Map<string, { inc(): void }>();
  private rolloutSource: (() => Promise<readonly RolloutSample[]>) | undefined;
  private rolloutRefreshMs = 30_000;
  private rolloutSnapshot: readonly RolloutSample[] = [];
  private rolloutLoadedAt = Number.NEGATIVE_INFINITY;
  private rolloutLoading = false;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'otao_process_' });
    // Per active rollout: computed at scrape time from a cached snapshot (never a store query per scrape).
    const gauges: [string, string, (s: RolloutSample) => number][] = [
      ...ROLLOUT_GAUGES.map(([counter, name]): [string, string, (s: RolloutSample) => number] => [
        name,
        `Endpoints ${counter} of an active rollout (spec §4.8), by tenant, app and version`,
        (s) => s.counts[counter],
      ]),
      ['otao_rollout_phase_percent', 'The open phase percent of an active rollout (100 when not phased)', (s) => s.phasePercent],
    ];
    const refresh = (): void => this.refreshRollouts();
    const snapshot = (): readonly RolloutSample[] => this.rolloutSnapshot;
    for (const [name, help, value] of gauges) {
      new Gauge({
        name,
        help,
        labelNames: ['tenant', 'app', 'version'],
        registers: [this.registry],
        collect(this: Gauge) {
          refresh();
          this.reset();
          for (const s of snapshot()) this.set({ tenant: s.tenantId, app: s.appName, version: s.version }, value(s));
        },
      });
    }
  }

  /**
   * Where the rollout gauges come from: `source` (most recently offered first) is asked at most every
   * `refreshMs`, in the background of a scrape; a scrape shows the last snapshot (the first scrapes
   * after start: none yet). At most {@link ROLLOUT_SERIES_LIMIT} rollouts are kept.
   */
  setRolloutSource(source: () => Promise<readonly RolloutSample[]>, refreshMs: number): void {
    this.rolloutSource = source;
    this.rolloutRefreshMs = refreshMs;
    this.refreshRollouts();
  }

  private refreshRollouts(): void {
    const source = this.rolloutSource;
    if (!source || this.rolloutLoading || Date.now() - this.rolloutLoadedAt < this.rolloutRefreshMs) return;
    this.rolloutLoading = true;
    source()
      .then((all) => {
        this.rolloutSnapshot = all.slice(0, ROLLOUT_SERIES_LIMIT);
        this.rolloutsDropped.set(Math.max(0, all.length - ROLLOUT_SERIES_LIMIT));
      })
      .catch(() => undefined) // the store is down: the last snapshot stays, tried again after refreshMs
      .finally(() => {
        this.rolloutLoading = false;
        this.rolloutLoadedAt = Date.now();
      });
  }

  /** Counts one store command (the store's `onCommand` hook): called on every round trip, so the labelled child is cached. */
  storeCommand(commandName: string): void {
    let child = this.storeCommandChildren.get(commandName);
    if (!child) {
      child = this.storeCommands.labels({ command: commandName });
      this.storeCommandChildren.set(commandName, child);
    }
    child.inc();
  }

  /**
   * Wraps every async method of a repository to time it (store latency by operation). Errors are
   * timed and rethrown unchanged.
   */
  instrument<T extends object>(name: string, target: T): T {
    const h = this.storeLatency;
    return new Proxy(target, {
      get(obj, prop, receiver) {
        const v = Reflect.get(obj, prop, receiver) as unknown;
        if (typeof v !== 'function' || typeof prop !== 'string' || prop === 'stream')
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
        return (...args: unknown[]) => {
          const end = h.startTimer({ operation: `${name}.${prop}` });
          let r: unknown;
          try {
            r = (v as (...a: unknown[]) => unknown).apply(obj, args);
          } catch (e) {
            end({ result: 'error' });
            throw e;
          }
          if (r instanceof Promise) {
            return r.then(
              (x: unknown) => {
                end({ result: 'ok' });
                return x;
              },
              (e: unknown) => {
                end({ result: 'error' });
                throw e;
              },
            );
          }
          end({ result: 'ok' });
          return r;
        };
      },
    });
  }
}
