import { AUDIT_MAINTENANCE_LEASE, type OtaoCore, openPercent, PHASES_LEASE, REPORT_TIMEOUTS_LEASE, ROLLOUT_DATES_LEASE } from '@otao/core';
import type { MongoStore } from '@otao/mongo-store';
import type { Logger } from 'pino';
import type { OtaoMetrics, RolloutSample } from './metrics';

/** How often the audit log is maintained (reconciler and retention). */
const AUDIT_TICK_MS = 60_000;
/** How often the report-timeout scan runs (under its lease: one replica at a time). */
const REPORT_TIMEOUT_TICK_MS = 30_000;
/** How old the rollout gauges may be; and how many active rollouts are read for them. */
const ROLLOUT_GAUGE_REFRESH_MS = 30_000;
const ROLLOUT_GAUGE_SCAN_LIMIT = 10_000;

export interface BackgroundTicksDeps {
  readonly core: OtaoCore;
  readonly store: Pick<MongoStore, 'stats' | 'lease'>;
  /** Spec §10: no time-based trigger runs before the registry has loaded once. */
  readonly registry: { readonly loaded: boolean };
  readonly log: Logger;
  readonly metrics: OtaoMetrics;
  readonly replicaId: string;
}

/**
 * The time-based work of one replica, each under its store lease (one replica at a time): rollout
 * dates (§4.3), audit maintenance (§4.13), phased rollouts (§4.10), report timeouts (§4.11); and
 * the rollout gauges' source (§6.5). Each tick reschedules itself, also after a failure.
 */
export class BackgroundTicks {
  private stopped = false;
  private rolloutTicker: NodeJS.Timeout | undefined;
  private auditTicker: NodeJS.Timeout | undefined;
  private phaseTicker: NodeJS.Timeout | undefined;
  private timeoutTicker: NodeJS.Timeout | undefined;

  constructor(private readonly deps: BackgroundTicksDeps) {}

  /** Starts every tick (after the store, NATS and the registry have started). */
  start(): void {
    this.scheduleRolloutTick(0);
    this.scheduleAuditTick(AUDIT_TICK_MS);
    this.schedulePhaseTick(0);
    this.scheduleTimeoutTick(REPORT_TIMEOUT_TICK_MS);
    this.deps.metrics.setRolloutSource(() => this.activeRollouts(), ROLLOUT_GAUGE_REFRESH_MS);
  }

  /** No tick starts any more (one running finishes by itself). */
  stop(): void {
    this.stopped = true;
    if (this.rolloutTicker) clearTimeout(this.rolloutTicker);
    if (this.auditTicker) clearTimeout(this.auditTicker);
    if (this.phaseTicker) clearTimeout(this.phaseTicker);
    if (this.timeoutTicker) clearTimeout(this.timeoutTicker);
  }

  /** Gives the leases back, so another replica takes the work over at once; on failure they expire by themselves. */
  async releaseLeases(): Promise<void> {
    const { lease } = this.deps.store;
    const replicaId = this.deps.replicaId;
    try {
      await lease.release(ROLLOUT_DATES_LEASE, replicaId);
      await lease.release(AUDIT_MAINTENANCE_LEASE, replicaId);
      await lease.release(PHASES_LEASE, replicaId);
      await lease.release(REPORT_TIMEOUTS_LEASE, replicaId);
    } catch {
      // the lease expires by itself
    }
  }

  /** Rollout dates (§4.3) under the store lease: every 5 s, or at the next rollout date if sooner. */
  private scheduleRolloutTick(ms: number): void {
    if (this.stopped) return;
    const { core, registry, log, replicaId } = this.deps;
    this.rolloutTicker = setTimeout(() => {
      // spec §10: time-based triggers wait for the registry's first load
      if (!registry.loaded) {
        this.scheduleRolloutTick(1000);
        return;
      }
      void core.rolloutDates
        .tick(replicaId)
        .then((r) => {
          if (r.ran && r.filters > 0) log.info(r, 'rollout dates processed');
          const next = r.nextDate === undefined ? 5000 : Math.max(50, Math.min(5000, r.nextDate - Date.now() + 10));
          this.scheduleRolloutTick(next);
        })
        .catch((e: unknown) => {
          log.warn({ err: (e as Error).message }, 'rollout date tick failed; retrying');
          this.scheduleRolloutTick(5000);
        });
    }, ms);
  }

  /**
   * Audit log maintenance (spec §4.13) under the store lease, every minute: the reconciler resolves
   * entries left pending by a crash, then entries older than OTAO_AUDIT_RETENTION_DAYS are pruned;
   * both in batches (docs/audit.md).
   */
  private scheduleAuditTick(ms: number): void {
    if (this.stopped) return;
    const { core, registry, log, replicaId } = this.deps;
    this.auditTicker = setTimeout(() => {
      // the reconciler may finish a tenant deletion or read software: after the registry's first load, like every background task
      if (!registry.loaded) {
        this.scheduleAuditTick(1000);
        return;
      }
      void core.audit
        .maintain(replicaId)
        .then((r) => {
          if (r.committed + r.discarded + r.pruned > 0) log.info(r, 'audit log maintained');
          this.scheduleAuditTick(AUDIT_TICK_MS);
        })
        .catch((e: unknown) => {
          log.warn({ err: (e as Error).message }, 'audit log maintenance failed; retrying');
          this.scheduleAuditTick(AUDIT_TICK_MS);
        });
    }, ms);
    this.auditTicker.unref();
  }

  /**
   * Phased rollouts (§4.10) under their own store lease: every `phaseCheckMs` (5 s), or at the next
   * soak end if sooner; at once again after an advance (the next phase may be due: soak 0).
   */
  private schedulePhaseTick(ms: number): void {
    if (this.stopped) return;
    const { core, registry, log, replicaId } = this.deps;
    this.phaseTicker = setTimeout(() => {
      if (!registry.loaded) {
        this.schedulePhaseTick(1000);
        return;
      }
      const period = core.options.phaseCheckMs;
      void core.phases
        .tick(replicaId)
        .then((r) => {
          if (r.ran && (r.advanced > 0 || r.caughtUp > 0)) log.info(r, 'phased rollouts processed');
          const next = r.nextCheckAt === undefined ? period : Math.max(50, Math.min(period, r.nextCheckAt - Date.now() + 10));
          this.schedulePhaseTick(next);
        })
        .catch((e: unknown) => {
          log.warn({ err: (e as Error).message }, 'phase tick failed; retrying');
          this.schedulePhaseTick(period);
        });
    }, ms);
  }

  /** Report timeouts (§4.11) and history pruning under the store lease `report-timeouts`, every 30 s. */
  private scheduleTimeoutTick(ms: number): void {
    if (this.stopped) return;
    const { core, registry, log, replicaId } = this.deps;
    this.timeoutTicker = setTimeout(() => {
      if (!registry.loaded) {
        this.scheduleTimeoutTick(1000);
        return;
      }
      void core.reportTimeouts
        .tick(replicaId)
        .then((r) => {
          if (r.ran && (r.timedOut > 0 || r.pruned > 0)) log.info(r, 'report timeouts processed');
        })
        .catch((e: unknown) => log.warn({ err: (e as Error).message }, 'report timeout tick failed; retrying'))
        .finally(() => this.scheduleTimeoutTick(REPORT_TIMEOUT_TICK_MS));
    }, ms);
  }

  /** The rollout gauges' snapshot (spec §6.5): non-suspended software offered in the last 7 days, most recently offered first. */
  private async activeRollouts(): Promise<RolloutSample[]> {
    const { core, store } = this.deps;
    const out: RolloutSample[] = [];
    for (const a of await store.stats.active(Date.now() - 7 * 86_400_000, ROLLOUT_GAUGE_SCAN_LIMIT)) {
      const sw = (await core.catalogues.planner(a.tenantId, a.appName)).catalogue.find(a.version);
      if (!sw || sw.rolloutStrategy === 'suspended') continue;
      out.push({ tenantId: a.tenantId, appName: a.appName, version: a.version, counts: a.counts, phasePercent: openPercent(sw) });
    }
    return out;
  }
}
