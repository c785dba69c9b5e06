export interface RolloutCounts {
  readonly offered: number;
  readonly applied: number;
  readonly failed: number;
}

export type RolloutCounter = keyof RolloutCounts;

/**
 * Per-software counters of spec §4.8. Increments are atomic: concurrent increments from several
 * replicas are never lost. Throws `OtaoError('store.unavailable')` when the store cannot be reached.
 */
export interface RolloutStatsRepository {
  /**
   * Adds `by` (default 1, a positive integer) to the counter and returns all counts after the
   * increment (upsert). An accepted increment is never lost to a store outage: adapters keep it and
   * write it when the store returns, answering meanwhile with the counts as far as known (so a
   * caller never repeats — and double-counts — work because of a failed count).
   */
  increment(tenantId: string, appName: string, version: string, counter: RolloutCounter, by?: number): Promise<RolloutCounts>;
  /** The counts, zeros when nothing was counted. */
  get(tenantId: string, appName: string, version: string): Promise<RolloutCounts>;
  /** Forgets the counts of one software. Idempotent. */
  delete(tenantId: string, appName: string, version: string): Promise<void>;
  /** Forgets every count of the tenant. Idempotent. */
  deleteTenant(tenantId: string): Promise<void>;
}
