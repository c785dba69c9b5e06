import { MAX_REPORT_TIMEOUT_MINUTES } from '../domain/software';
import type { CoreDeps, CoreOptions } from './core-deps';
import type { PendingOffer } from '../ports';
import type { RolloutSafety } from './rollout-safety';

export const REPORT_TIMEOUTS_LEASE = 'report-timeouts';

/** Versions looked at per tick: those offered within the longest report timeout (plus a day). */
const LOOKBACK_MS = (MAX_REPORT_TIMEOUT_MINUTES + 1440) * 60_000;
/** The most versions one tick looks at (most recently offered first). */
const MAX_VERSIONS = 10_000;
/** History buckets are pruned at most this often. */
const PRUNE_EVERY_MS = 10 * 60_000;

export interface ReportTimeoutsRun {
  /** Whether this replica held the lease and ran. */
  readonly ran: boolean;
  /** Versions with a report timeout that were scanned. */
  readonly versions: number;
  /** Endpoints newly counted timed out. */
  readonly timedOut: number;
  /** History buckets removed (retention). */
  readonly pruned: number;
}

/** The ports ReportTimeoutsService uses. */
export type ReportTimeoutsServiceDeps = Pick<CoreDeps, 'software' | 'endpoints' | 'stats' | 'lease' | 'clock' | 'ids' | 'registry'>;

/** The options ReportTimeoutsService reads. */
export type ReportTimeoutsServiceOptions = Pick<CoreOptions, 'schedulerLeaseMs' | 'timeoutBatchSize'>;

/**
 * Spec §4.11: under a lease (one replica at a time), finds for every recently offered version with
 * `failurePolicy.reportTimeoutMinutes` the pending offers older than the timeout — a batch at a time
 * through an indexed store query, never the fleet in memory — marks them timed out (a compare-and-set
 * per endpoint: once), counts them and applies the failure policy. The lease is renewed between
 * batches; a tick that loses it stops. Also prunes the rollout history (spec §4.8). Call `tick`
 * periodically (e.g. every 30 s).
 */
export class ReportTimeoutsService {
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: ReportTimeoutsServiceDeps,
    private readonly options: ReportTimeoutsServiceOptions,
    private readonly safety: RolloutSafety,
  ) {}

  async tick(replicaId: string): Promise<ReportTimeoutsRun> {
    const lease = (): Promise<boolean> => this.deps.lease.tryAcquire(REPORT_TIMEOUTS_LEASE, replicaId, this.options.schedulerLeaseMs, this.deps.clock.now());
    if (!(await lease())) return { ran: false, versions: 0, timedOut: 0, pruned: 0 };
    const start = this.deps.clock.now();
    let versions = 0;
    let timedOut = 0;
    const batchSize = Math.max(1, this.options.timeoutBatchSize);
    for (const a of await this.deps.stats.active(start - LOOKBACK_MS, MAX_VERSIONS)) {
      if (!this.deps.registry.settings(a.tenantId, a.appName)) continue;
      const sw = await this.deps.software.get(a.tenantId, a.appName, a.version);
      const minutes = sw?.failurePolicy?.reportTimeoutMinutes;
      if (!sw || minutes === undefined) continue;
      versions++;
      const offeredBefore = this.deps.clock.now() - minutes * 60_000;
      const correlationId = this.deps.ids.newId();
      let after: PendingOffer | undefined;
      for (;;) {
        const due = await this.deps.endpoints.findTimedOut(a.tenantId, a.appName, sw.version, offeredBefore, batchSize, after);
        if (due.length === 0) break;
        const n = await this.deps.endpoints.markTimedOut(
          a.tenantId,
          a.appName,
          sw.version,
          due.map((o) => o.endpointId),
        );
        timedOut += n;
        await this.safety.timedOut(a.tenantId, a.appName, sw.version, n, correlationId);
        if (!(await lease())) return { ran: true, versions, timedOut, pruned: 0 };
        if (due.length < batchSize) break;
        after = due[due.length - 1];
      }
    }
    let pruned = 0;
    const now = this.deps.clock.now();
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      pruned = await this.deps.stats.prune(now);
      this.lastPrune = now;
    }
    return { ran: true, versions, timedOut, pruned };
  }
}
