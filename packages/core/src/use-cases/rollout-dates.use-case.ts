import { currentSpan, nextWindowOpening } from '../domain/window';
import type { CoreDeps, CoreOptions } from './core-deps';

export const ROLLOUT_DATES_LEASE = 'rollout-dates';

export interface RolloutDatesRun {
  /** Whether this replica held the lease and ran. */
  readonly ran: boolean;
  /** Filters whose rollout date passed in the window: a durable push job was stored for each. */
  readonly filters: number;
  /** Software whose maintenance window opened since the last run: a durable push job was stored for each (spec §4.12). */
  readonly windows: number;
  /** The earliest rollout date still ahead (for the caller's next wake-up), if any. */
  readonly nextDate?: number;
}

/** The ports RolloutDatesService uses. */
export type RolloutDatesServiceDeps = Pick<CoreDeps, 'software' | 'lease' | 'clock' | 'work' | 'zones'>;

/** The options RolloutDatesService reads. */
export type RolloutDatesServiceOptions = Pick<CoreOptions, 'schedulerLeaseMs'>;

/**
 * Spec §4.3 and §4.12: finding the filters whose `rolloutDate` passed, and the software whose
 * maintenance window opened, runs under a lease (one replica at a
 * time); each such filter becomes a durable push job (stored before the checkpoint moves), which any
 * replica runs and resumes after a crash. The tick itself is short — a scan of the targeted software
 * and a few inserts — well inside the lease. The last processed time is kept as a checkpoint in the
 * store, so dates that passed while no replica ran are caught up at the next start. Call `tick`
 * periodically (e.g. every few seconds).
 */
export class RolloutDatesService {
  constructor(
    private readonly deps: RolloutDatesServiceDeps,
    private readonly options: RolloutDatesServiceOptions,
  ) {}

  async tick(replicaId: string): Promise<RolloutDatesRun> {
    const now = this.deps.clock.now();
    if (!(await this.deps.lease.tryAcquire(ROLLOUT_DATES_LEASE, replicaId, this.options.schedulerLeaseMs, now))) {
      return { ran: false, filters: 0, windows: 0 };
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
        await this.deps.work.enqueuePushes({
          kind: 'filter',
          tenantId: sw.tenantId,
          appName: sw.appName,
          filterId: f.filterId,
          reason: `rollout date of ${sw.version} passed`,
        });
      }
    }
    // A window that opened since the last run and is still open: the app's pushes (the planner now
    // finds the software eligible). One that opened and closed while no replica ran needs none.
    let windows = 0;
    for (const sw of await this.deps.software.listWindowed()) {
      const w = sw.maintenanceWindow;
      if (!w || sw.rolloutStrategy === 'suspended') continue;
      const span = currentSpan(this.deps.zones, w, now);
      if (span && span.opensAt > since) {
        windows++;
        await this.deps.work.enqueuePushes({ kind: 'app', tenantId: sw.tenantId, appName: sw.appName, reason: `maintenance window of ${sw.version} opened` });
      }
      const opening = nextWindowOpening(this.deps.zones, w, now);
      if (opening !== undefined && (nextDate === undefined || opening < nextDate)) nextDate = opening;
    }
    // Only after every due job is stored: a failure above throws and the window is retried next tick.
    await this.deps.lease.setCheckpoint(ROLLOUT_DATES_LEASE, now);
    return nextDate === undefined ? { ran: true, filters, windows } : { ran: true, filters, windows, nextDate };
  }
}
