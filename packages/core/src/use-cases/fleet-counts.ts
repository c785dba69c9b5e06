import { versionKey } from '../domain/upgrade-graph';
import type { EndpointShape, StoredCounts } from '../ports';
import type { CoreDeps, CoreOptions } from './core-deps';

/** The ports FleetCounts uses. */
export type FleetCountsDeps = Pick<CoreDeps, 'endpoints' | 'clock' | 'lease' | 'ids'>;

/** The options FleetCounts reads. */
export type FleetCountsOptions = Pick<CoreOptions, 'exactCountsBelow' | 'countsMaxAgeMs' | 'onRecount'>;

/** Counts of more shapes than this are not stored (one store document each): such an application is counted at each request. */
export const MAX_STORED_SHAPES = 10_000;

/** The counts an answer carries, and when they were counted (epoch ms): `now` for counts made for it. */
export interface FleetCount {
  readonly shapes: readonly EndpointShape[];
  readonly total: number;
  readonly countedAt: number;
  /** The cohort boundaries the shapes are split by (`EndpointRepository.shapes`); absent or empty: not split. */
  readonly cohortBoundaries?: readonly number[];
}

/** The cohort boundaries of the application's catalogue (`AppCatalogue.cohortBoundaries`). */
export type CohortBoundariesOf = (tenantId: string, appName: string) => Promise<readonly number[]>;

/** Whether counts split by `a` are split by `b`. */
export function sameBoundaries(a: readonly number[] | undefined, b: readonly number[]): boolean {
  const x = a ?? [];
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

/** How many of the counted endpoints are on `version` (by precedence, as the list filters). */
export function countOnVersion(count: Pick<FleetCount, 'shapes'>, version: string): number {
  const want = versionKey(version);
  let n = 0;
  for (const s of count.shapes) if (s.currentVersion !== undefined && versionKey(s.currentVersion) === want) n += s.count;
  return n;
}

/**
 * The endpoint counts of the lists and the preview (spec §6.3, §6.4), decided in one place
 * (docs/operations.md "Lists and previews of large fleets"):
 * - an application below `exactCountsBelow` endpoints is counted exactly for every answer;
 * - a larger one answers from the counts stored by its last count (`EndpointRepository.storeCounts`),
 *   with their time; counts older than `countsMaxAgeMs` are recounted in the background — by one
 *   replica (a store lease), once per process at a time — and the next answer has them.
 * Counts are split by the catalogue's cohort boundaries (spec §4.10), so that the preview of a phased
 * rollout is answered from them too. Those boundaries change only when a software's `phases` do (not
 * when a phase advances); counts split by other boundaries still answer the lists, are recounted in
 * the background, and the preview waits for a count split by the current ones.
 * Reading every endpoint of a million-endpoint application takes seconds on the store; an answer
 * from the stored counts costs one read.
 */
export class FleetCounts {
  private readonly recounts = new Map<string, Promise<void>>();
  private readonly holder: string;

  constructor(
    private readonly deps: FleetCountsDeps,
    private readonly options: FleetCountsOptions,
    private readonly boundariesOf: CohortBoundariesOf = async () => [],
  ) {
    this.holder = `fleet-counts-${deps.ids.newId()}`;
  }

  /** The stored counts of a large application (recounted in the background when old), or undefined for one counted exactly. */
  async stored(tenantId: string, appName: string): Promise<StoredCounts | undefined> {
    const stored = await this.deps.endpoints.storedCounts(tenantId, appName);
    if (!stored || stored.total < this.options.exactCountsBelow) return undefined;
    if (this.deps.clock.now() - stored.countedAt > this.options.countsMaxAgeMs) this.recountInBackground(tenantId, appName);
    else if (!sameBoundaries(stored.cohortBoundaries, await this.boundariesOf(tenantId, appName))) this.recountInBackground(tenantId, appName);
    return stored;
  }

  /**
   * The application's shapes split by its catalogue's cohort boundaries: the stored counts of a large
   * application (when split by the current boundaries), else counted now (and stored when it has
   * grown large).
   */
  async shapes(tenantId: string, appName: string): Promise<FleetCount> {
    const boundaries = await this.boundariesOf(tenantId, appName);
    const stored = await this.stored(tenantId, appName);
    if (stored && sameBoundaries(stored.cohortBoundaries, boundaries)) return stored;
    // A large application's first count (or its count by new boundaries) is under way here (started
    // by a list): wait for it rather than read the whole application a second time at once.
    const running = this.recounts.get(JSON.stringify([tenantId, appName]));
    if (running) {
      await running;
      const counted = await this.stored(tenantId, appName);
      if (counted && sameBoundaries(counted.cohortBoundaries, boundaries)) return counted;
    }
    return this.countAndStore(tenantId, appName, false, boundaries);
  }

  /**
   * Told that an exact count found `total` endpoints: a large application gets stored counts (in the
   * background) so that its next answers need not count.
   */
  counted(tenantId: string, appName: string, total: number): void {
    if (total >= this.options.exactCountsBelow) this.recountInBackground(tenantId, appName);
  }

  /** Resolves when the background recounts started so far have ended (tests, graceful stop). */
  async settled(): Promise<void> {
    while (this.recounts.size > 0) await Promise.allSettled([...this.recounts.values()]);
  }

  /** Counts now; stores the counts of a large application — with `always`, of any (it may have become small). */
  private async countAndStore(tenantId: string, appName: string, always: boolean, boundaries: readonly number[]): Promise<FleetCount> {
    const countedAt = this.deps.clock.now();
    const shapes = await this.deps.endpoints.shapes(tenantId, appName, boundaries);
    let total = 0;
    for (const s of shapes) total += s.count;
    const count: FleetCount = { shapes, total, countedAt, ...(boundaries.length > 0 ? { cohortBoundaries: boundaries } : {}) };
    if ((always || total >= this.options.exactCountsBelow) && shapes.length <= MAX_STORED_SHAPES) {
      await this.deps.endpoints.storeCounts(tenantId, appName, count);
    }
    return count;
  }

  private recountInBackground(tenantId: string, appName: string): void {
    const key = JSON.stringify([tenantId, appName]);
    if (this.recounts.has(key)) return;
    const run = (async () => {
      const lease = `fleet-counts:${key}`;
      if (!(await this.deps.lease.tryAcquire(lease, this.holder, this.options.countsMaxAgeMs, this.deps.clock.now()))) return; // another replica counts
      const started = this.deps.clock.now();
      try {
        const { total } = await this.countAndStore(tenantId, appName, true, await this.boundariesOf(tenantId, appName));
        this.options.onRecount?.({ tenantId, appName, ok: true, total, ms: this.deps.clock.now() - started });
      } catch (error) {
        this.options.onRecount?.({ tenantId, appName, ok: false, error, ms: this.deps.clock.now() - started });
      } finally {
        await this.deps.lease.release(lease, this.holder);
      }
    })()
      .catch((error: unknown) => this.options.onRecount?.({ tenantId, appName, ok: false, error, ms: 0 })) // the lease itself failed
      .finally(() => this.recounts.delete(key));
    this.recounts.set(key, run);
  }
}
