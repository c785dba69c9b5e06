import type { CoreDeps, CoreOptions } from './core-deps';

export const ROLLOUT_DATES_LEASE = 'rollout-dates';

export interface RolloutDatesRun {
  /** Whether this replica held the lease and ran. */
  readonly ran: boolean;
  /** Filters whose rollout date passed in the window: a durable push job was stored for each. */
  readonly filters: number;
  /** The earliest rollout date still ahead (for the caller's next wake-up), if any. */
  readonly nextDate?: number;
}

/**
 * Spec §4.3: finding the filters whose `rolloutDate` passed runs under a lease (one replica at a
 * time); each such filter becomes a durable push job (stored before the checkpoint moves), which any
 * replica runs and resumes after a crash. The tick itself is short — a scan of the targeted software
 * and a few inserts — well inside the lease. The last processed time is kept as a checkpoint in the
 * store, so dates that passed while no replica ran are caught up at the next start. Call `tick`
 * periodically (e.g. every few seconds).
 */
export class RolloutDatesService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly options: CoreOptions,
  ) {}

  async tick(replicaId: string): Promise<RolloutDatesRun> {
    const now = this.deps.clock.now();
    if (!(await this.deps.lease.tryAcquire(ROLLOUT_DATES_LEASE, replicaId, this.options.schedulerLeaseMs, now))) {
      return { ran: false, filters: 0 };
    }
    const since = (await this.deps.lease.getCheckpoint(ROLLOUT_DATES_LEASE)) ?? Number.NEGATIVE_INFINITY;
    let filters = 0;
    let nextDate: number | undefined;
    for (const sw of await this.deps.software.listTargeted()) {
      for (const f of sw.filters) {
        const d = f.rolloutDate;
        if (d === undefined) continue;
        if (d > now) {
          if (nextDate === undefined || d < nextDate) nextDate = d;
          continue;
        }
        if (d <= since) continue;
        filters++;
        await this.deps.work.enqueuePushes({ kind: 'filter', tenantId: sw.tenantId, appName: sw.appName, filterId: f.filterId, reason: `rollout date of ${sw.version} passed` });
      }
    }
    // Only after every due job is stored: a failure above throws and the window is retried next tick.
    await this.deps.lease.setCheckpoint(ROLLOUT_DATES_LEASE, now);
    return nextDate === undefined ? { ran: true, filters } : { ran: true, filters, nextDate };
  }
}
