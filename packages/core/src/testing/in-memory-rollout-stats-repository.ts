import { versionKey } from '../domain/upgrade-graph';
import {
  type ActiveRollout,
  type Clock,
  BUCKET_RETENTION_MS,
  bucketStart,
  type HistoryBucket,
  ROLLOUT_COUNTERS,
  type RolloutCounter,
  type RolloutCounts,
  type RolloutHistoryBucket,
  type RolloutStatsRepository,
  ZERO_COUNTS,
} from '../ports';
import { FaultSwitch } from './faults';

type Delta = Partial<Record<RolloutCounter, number>>;

function plus(c: RolloutCounts, d: Delta): RolloutCounts {
  const out = { ...c };
  for (const k of ROLLOUT_COUNTERS) out[k] += d[k] ?? 0;
  return Object.freeze(out);
}

/** RolloutStatsRepository in memory; increments without `at` use `clock` (time 0 without one). */
export class InMemoryRolloutStatsRepository implements RolloutStatsRepository {
  readonly faults = new FaultSwitch();

  constructor(private readonly clock?: Clock) {}

  private readonly counts = new Map<string, { tenantId: string; appName: string; version: string; counts: RolloutCounts; lastOfferedAt?: number }>();
  /** tenant\0app\0versionKey\0bucket -> start -> changes */
  private readonly buckets = new Map<string, Map<number, RolloutCounts>>();

  private key(tenantId: string, appName: string, version: string): string {
    return `${tenantId}\u0000${appName}\u0000${versionKey(version)}`;
  }

  private add(tenantId: string, appName: string, version: string, delta: Delta, at: number): RolloutCounts {
    const k = this.key(tenantId, appName, version);
    const cur = this.counts.get(k) ?? { tenantId, appName, version: versionKey(version), counts: ZERO_COUNTS };
    const next = { ...cur, counts: plus(cur.counts, delta), ...((delta.offered ?? 0) > 0 ? { lastOfferedAt: Math.max(cur.lastOfferedAt ?? at, at) } : {}) };
    this.counts.set(k, next);
    for (const bucket of ['minute', 'hour'] as const) {
      const bk = `${k}\u0000${bucket}`;
      const m = this.buckets.get(bk) ?? this.buckets.set(bk, new Map()).get(bk)!;
      const start = bucketStart(bucket, at);
      m.set(start, plus(m.get(start) ?? ZERO_COUNTS, delta));
    }
    return next.counts;
  }

  async increment(
    tenantId: string,
    appName: string,
    version: string,
    counter: RolloutCounter,
    by = 1,
    at: number = this.clock?.now() ?? 0,
  ): Promise<RolloutCounts> {
    this.faults.check('stats.increment');
    return this.add(tenantId, appName, version, { [counter]: by }, at);
  }

  async move(
    tenantId: string,
    appName: string,
    version: string,
    from: RolloutCounter,
    to: RolloutCounter,
    at: number = this.clock?.now() ?? 0,
  ): Promise<RolloutCounts> {
    this.faults.check('stats.move');
    return this.add(tenantId, appName, version, from === to ? {} : { [from]: -1, [to]: 1 }, at);
  }

  async get(tenantId: string, appName: string, version: string): Promise<RolloutCounts> {
    this.faults.check('stats.get');
    return this.counts.get(this.key(tenantId, appName, version))?.counts ?? ZERO_COUNTS;
  }

  async history(
    tenantId: string,
    appName: string,
    version: string,
    query: { bucket: HistoryBucket; since: number; until: number },
  ): Promise<RolloutHistoryBucket[]> {
    this.faults.check('stats.history');
    const m = this.buckets.get(`${this.key(tenantId, appName, version)}\u0000${query.bucket}`);
    if (!m) return [];
    return [...m]
      .filter(([start]) => start >= query.since && start < query.until)
      .sort((a, b) => a[0] - b[0])
      .map(([start, c]) => ({ start, ...c }));
  }

  async active(since: number, limit: number): Promise<ActiveRollout[]> {
    this.faults.check('stats.active');
    return [...this.counts.values()]
      .filter((e) => e.lastOfferedAt !== undefined && e.lastOfferedAt >= since)
      .sort((a, b) => (b.lastOfferedAt as number) - (a.lastOfferedAt as number))
      .slice(0, Math.max(0, limit))
      .map((e) => ({ tenantId: e.tenantId, appName: e.appName, version: e.version, counts: e.counts, lastOfferedAt: e.lastOfferedAt as number }));
  }

  async prune(now: number): Promise<number> {
    this.faults.check('stats.prune');
    let n = 0;
    for (const [bk, m] of this.buckets) {
      const bucket: HistoryBucket = bk.endsWith('\u0000minute') ? 'minute' : 'hour';
      for (const start of [...m.keys()]) {
        if (start < now - BUCKET_RETENTION_MS[bucket]) {
          m.delete(start);
          n++;
        }
      }
    }
    return n;
  }

  async delete(tenantId: string, appName: string, version: string): Promise<void> {
    this.faults.check('stats.delete');
    const k = this.key(tenantId, appName, version);
    this.counts.delete(k);
    for (const bk of [...this.buckets.keys()]) if (bk.startsWith(`${k}\u0000`)) this.buckets.delete(bk);
  }

  async deleteTenant(tenantId: string): Promise<void> {
    this.faults.check('stats.deleteTenant');
    for (const k of [...this.counts.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.counts.delete(k);
    for (const k of [...this.buckets.keys()]) if (k.startsWith(`${tenantId}\u0000`)) this.buckets.delete(k);
  }
}
