export interface RolloutCounts {
  readonly offered: number;
  readonly applied: number;
  readonly failed: number;
  /** Endpoints offered the version that reported nothing within `failurePolicy.reportTimeoutMinutes` (spec §4.11). */
  readonly timedOut: number;
  /** Endpoints that reported the version applied, then a lower version within its soak (spec §4.8). */
  readonly rolledBack: number;
}

export type RolloutCounter = keyof RolloutCounts;

/** Every counter, in the order of {@link RolloutCounts}. */
export const ROLLOUT_COUNTERS: readonly RolloutCounter[] = ['offered', 'applied', 'failed', 'timedOut', 'rolledBack'];

export const ZERO_COUNTS: RolloutCounts = Object.freeze({ offered: 0, applied: 0, failed: 0, timedOut: 0, rolledBack: 0 });

/** The size of a history bucket (spec §6.3): minute buckets are kept 48 h, hour buckets 90 days. */
export type HistoryBucket = 'minute' | 'hour';

export const BUCKET_MS: Readonly<Record<HistoryBucket, number>> = { minute: 60_000, hour: 3_600_000 };
/** How long buckets are kept (spec §4.8); older ones are removed by `prune`. */
export const BUCKET_RETENTION_MS: Readonly<Record<HistoryBucket, number>> = { minute: 48 * 3_600_000, hour: 90 * 86_400_000 };

/**
 * The changes of the counters within one bucket, starting at `start` (epoch ms, a multiple of the
 * bucket size, UTC). A change that moves an endpoint from one state to another (a timed-out
 * endpoint reporting later) shows as −1 and +1 in the bucket of the move, so the sum of the buckets
 * equals the counts.
 */
export interface RolloutHistoryBucket extends RolloutCounts {
  readonly start: number;
}

/** The counts of one software that was offered recently (see `active`). */
export interface ActiveRollout {
  readonly tenantId: string;
  readonly appName: string;
  /** The version without build metadata (`versionKey`). */
  readonly version: string;
  readonly counts: RolloutCounts;
  /** When the version was last counted offered (epoch ms). */
  readonly lastOfferedAt: number;
}

/**
 * Per-software counters of spec §4.8 and their history per time bucket (§6.3). Increments are
 * atomic: concurrent increments from several replicas are never lost. Throws
 * `OtaoError('store.unavailable')` when the store cannot be reached (except where said otherwise).
 */
export interface RolloutStatsRepository {
  /**
   * Adds `by` (default 1, a positive integer) to the counter and returns all counts after the
   * increment (upsert). `at` (epoch ms; default: the adapter's wall clock) names the minute and hour
   * buckets that get the same increment, and, for `offered`, the software's `lastOfferedAt`. An
   * accepted increment is never lost to a store outage: adapters keep it and write it when the
   * store returns, answering meanwhile with the counts as far as known (so a caller never repeats —
   * and double-counts — work because of a failed count).
   */
  increment(tenantId: string, appName: string, version: string, counter: RolloutCounter, by?: number, at?: number): Promise<RolloutCounts>;
  /**
   * Moves one count from `from` to `to` in one atomic step (an endpoint whose latest state changed,
   * e.g. timed out → applied), with the history buckets of `at`; returns the counts after it. Same
   * outage behaviour as `increment`.
   */
  move(tenantId: string, appName: string, version: string, from: RolloutCounter, to: RolloutCounter, at?: number): Promise<RolloutCounts>;
  /** The counts, zeros when nothing was counted. */
  get(tenantId: string, appName: string, version: string): Promise<RolloutCounts>;
  /**
   * The buckets of one software whose `start` lies in [since, until), oldest first; buckets without
   * any change are absent. Buckets older than their retention may be gone (`prune`).
   */
  history(
    tenantId: string,
    appName: string,
    version: string,
    query: { readonly bucket: HistoryBucket; readonly since: number; readonly until: number },
  ): Promise<RolloutHistoryBucket[]>;
  /**
   * Every software (all tenants) counted offered at or after `since`, with its counts, most recently
   * offered first, at most `limit`. Served by an index; for the rollout gauges and the report-timeout scan.
   */
  active(since: number, limit: number): Promise<ActiveRollout[]>;
  /** Removes the buckets older than their retention at `now` ({@link BUCKET_RETENTION_MS}). Idempotent; returns how many went. */
  prune(now: number): Promise<number>;
  /** Forgets the counts and history of one software. Idempotent. */
  delete(tenantId: string, appName: string, version: string): Promise<void>;
  /** Forgets every count and history of the tenant. Idempotent. */
  deleteTenant(tenantId: string): Promise<void>;
}

/** The start of the bucket holding `at`. */
export function bucketStart(bucket: HistoryBucket, at: number): number {
  const size = BUCKET_MS[bucket];
  return Math.floor(at / size) * size;
}
