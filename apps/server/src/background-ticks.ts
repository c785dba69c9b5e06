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

/** One periodic task: what it runs, when it runs next, what it logs. */
export interface TickLoop<R> {
  /** Used in the warning when a run fails: `${name} failed; retrying`. */
  readonly name: string;
  readonly firstDelayMs: number;
  readonly run: () => Promise<R>;
  /** The delay before the next run after a successful one. */
  readonly next: (result: R) => number;
  /** The delay before the next run after a failed one. */
  readonly retryMs: number;
  /** Logs what a successful run did (when worth a line). */
  readonly report?: (result: R) => void;
  /** Whether its timer may not keep the process alive (default false). */
  readonly unref?: boolean;
}

/**
 * Runs periodic tasks, each rescheduling itself after its run — also after a failure (logged) —
 * and none before the registry's first load (spec §10: time-based triggers wait for it; checked every
 * second). `stop()` starts no run any more; `settled()` waits for the runs under way.
 */
export class TickLoops {
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly registry: { readonly loaded: boolean },
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  start<R>(loop: TickLoop<R>): void {
    this.schedule(loop, loop.firstDelayMs);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private schedule<R>(loop: TickLoop<R>, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.registry.loaded) return this.schedule(loop, 1000);
      const run = loop
        .run()
        .then(
          (r) => {
            loop.report?.(r);
            return loop.next(r);
          },
          (e: unknown) => {
            this.log.warn({ err: (e as Error).message }, `${loop.name} failed; retrying`);
            return loop.retryMs;
          },
        )
        .then((next) => this.schedule(loop, next))
        .finally(() => this.running.delete(run));
      this.running.add(run);
    }, ms);
    if (loop.unref) timer.unref();
    this.timers.add(timer);
  }
}

/**
 * The time-based work of one replica, each under its store lease (one replica at a time): rollout
 * dates (§4.3), audit maintenance (§4.13), phased rollouts (§4.10), report timeouts (§4.11); and
 * the rollout gauges' source (§6.5).
 */
export class BackgroundTicks {
  private readonly loops: TickLoops;

  constructor(private readonly deps: BackgroundTicksDeps) {
    this.loops = new TickLoops(deps.registry, deps.log);
  }

  /** Starts every tick (after the store, NATS and the registry have started). */
  start(): void {
    const { core, log, replicaId } = this.deps;
    // Rollout dates (§4.3): every 5 s, or at the next rollout date if sooner.
    this.loops.start({
      name: 'rollout date tick',
      firstDelayMs: 0,
      run: () => core.rolloutDates.tick(replicaId),
      next: (r) => (r.nextDate === undefined ? 5000 : Math.max(50, Math.min(5000, r.nextDate - Date.now() + 10))),
      retryMs: 5000,
      report: (r) => {
        if (r.ran && r.filters > 0) log.info(r, 'rollout dates processed');
      },
    });
    // Audit maintenance (§4.13), every minute: the reconciler resolves entries left pending by a
    // crash, then entries older than OTAO_AUDIT_RETENTION_DAYS are pruned; both in batches (docs/audit.md).
    this.loops.start({
      name: 'audit log maintenance',
      firstDelayMs: AUDIT_TICK_MS,
      run: () => core.audit.maintain(replicaId),
      next: () => AUDIT_TICK_MS,
      retryMs: AUDIT_TICK_MS,
      report: (r) => {
        if (r.committed + r.discarded + r.pruned > 0) log.info(r, 'audit log maintained');
      },
      unref: true,
    });
    // Phased rollouts (§4.10): every `phaseCheckMs` (5 s), or at the next soak end if sooner; at once
    // again after an advance (the next phase may be due: soak 0).
    const period = core.options.phaseCheckMs;
    this.loops.start({
      name: 'phase tick',
      firstDelayMs: 0,
      run: () => core.phases.tick(replicaId),
      next: (r) => (r.nextCheckAt === undefined ? period : Math.max(50, Math.min(period, r.nextCheckAt - Date.now() + 10))),
      retryMs: period,
      report: (r) => {
        if (r.ran && (r.advanced > 0 || r.caughtUp > 0)) log.info(r, 'phased rollouts processed');
      },
    });
    // Report timeouts (§4.11) and history pruning, every 30 s.
    this.loops.start({
      name: 'report timeout tick',
      firstDelayMs: REPORT_TIMEOUT_TICK_MS,
      run: () => core.reportTimeouts.tick(replicaId),
      next: () => REPORT_TIMEOUT_TICK_MS,
      retryMs: REPORT_TIMEOUT_TICK_MS,
      report: (r) => {
        if (r.ran && (r.timedOut > 0 || r.pruned > 0)) log.info(r, 'report timeouts processed');
      },
    });
    this.deps.metrics.setRolloutSource(() => this.activeRollouts(), ROLLOUT_GAUGE_REFRESH_MS);
  }

  /** No tick starts any more (one running finishes by itself). */
  stop(): void {
    this.loops.stop();
  }

  /** Resolves when the ticks under way have ended. */
  settled(): Promise<void> {
    return this.loops.settled();
  }

  /** Gives the leases back, so another replica takes the work over at once; on failure they expire by themselves. */
  async releaseLeases(): Promise<void> {
    const { lease } = this.deps.store;
    const replicaId = this.deps.replicaId;
    try {
      for (const name of [ROLLOUT_DATES_LEASE, AUDIT_MAINTENANCE_LEASE, PHASES_LEASE, REPORT_TIMEOUTS_LEASE]) await lease.release(name, replicaId);
    } catch {
      // the lease expires by itself
    }
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
