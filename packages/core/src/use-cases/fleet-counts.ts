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
 * Reading every endpoint of a million-endpoint application takes seconds on the store; an answer
 * from the stored counts costs one read.
 */
export class FleetCounts {
  private readonly recounts = new Map<string, Promise<void>>();
  private readonly holder: string;

  constructor(
    private readonly deps: FleetCountsDeps,
    private readonly options: FleetCountsOptions,
  ) {
    this.holder = `fleet-counts-${deps.ids.newId()}`;
  }

  /** The stored counts of a large application (recounted in the background when old), or undefined for one counted exactly. */
  async stored(tenantId: string, appName: string): Promise<StoredCounts | undefined> {
    const stored = await this.deps.endpoints.storedCounts(tenantId, appName);
    if (!stored || stored.total < this.options.exactCountsBelow) return undefined;
    if (this.deps.clock.now() - stored.countedAt > this.options.countsMaxAgeMs) this.recountInBackground(tenantId, appName);
    return stored;
  }

  /** The application's shapes: the stored counts of a large application, else counted now (and stored when it has grown large). */
  async shapes(tenantId: string, appName: string): Promise<FleetCount> {
    const stored = await this.stored(tenantId, appName);
    if (stored) return stored;
    // A large application's first count is under way here (started by a list): wait for it rather
    // than read the whole application a second time at once.
    const running = this.recounts.get(JSON.stringify([tenantId, appName]));
    if (running) {
      await running;
      const counted = await this.stored(tenantId, appName);
      if (counted) return counted;
    }
    return this.countAndStore(tenantId, appName, false);
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
  private async countAndStore(tenantId: string, appName: string, always: boolean): Promise<FleetCount> {
    const countedAt = this.deps.clock.now();
    const shapes = await this.deps.endpoints.shapes(tenantId, appName);
    let total = 0;
    for (const s of shapes) total += s.count;
    const count = { shapes, total, countedAt };
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
        const { total } = await this.countAndStore(tenantId, appName, true);
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
