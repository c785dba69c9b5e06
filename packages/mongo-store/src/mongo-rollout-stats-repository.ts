import { isOtaoError, versionKey } from '@otao/core';
import {
  type ActiveRollout,
  BUCKET_RETENTION_MS,
  bucketStart,
  type HistoryBucket,
  ROLLOUT_COUNTERS,
  type RolloutCounter,
  type RolloutCounts,
  type RolloutHistoryBucket,
  type RolloutStatsRepository,
  ZERO_COUNTS,
} from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { BulkWriter } from './batching';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf, idRange, wallClock } from './keys';

/** The counters of one software: incremented with `$inc`, atomic on MongoDB and FerretDB v2. */
export interface RolloutStatsDocument {
  /** idOf(tenantId, appName, versionKey) */
  _id: string;
  tenantId: string;
  appName: string;
  versionKey: string;
  offered: number;
  applied: number;
  failed: number;
  /** Absent in documents written before issue 12: read as 0. */
  timedOut?: number;
  rolledBack?: number;
  /** When the software was last counted offered (`active`). */
  lastOfferedAt?: number;
}

/** The changes of the counters of one software within one bucket (spec §6.3). */
export interface RolloutHistoryDocument {
  /** idOf(tenantId, appName, versionKey, bucket, start zero-padded): a software's buckets are one `_id` range, in time order. */
  _id: string;
  tenantId: string;
  appName: string;
  versionKey: string;
  bucket: HistoryBucket;
  start: number;
  offered: number;
  applied: number;
  failed: number;
  timedOut: number;
  rolledBack: number;
}

type Delta = Record<RolloutCounter, number>;

interface Change {
  readonly delta: Delta;
  readonly at: number;
}

interface Waiter extends Change {
  resolve(c: RolloutCounts): void;
  reject(e: unknown): void;
}

interface Owed {
  counts: Delta;
  lastOfferedAt?: number;
  /** History changes not written yet, by bucket document `_id`. */
  history: Map<string, { bucket: HistoryBucket; start: number; delta: Delta }>;
  retryMs: number;
  timer?: NodeJS.Timeout | undefined;
}

const zero = (): Delta => ({ offered: 0, applied: 0, failed: 0, timedOut: 0, rolledBack: 0 });

function countsOf(d: Partial<Record<RolloutCounter, number>>): RolloutCounts {
  return { offered: d.offered ?? 0, applied: d.applied ?? 0, failed: d.failed ?? 0, timedOut: d.timedOut ?? 0, rolledBack: d.rolledBack ?? 0 };
}

function plus(c: RolloutCounts, d: Delta, sign = 1): RolloutCounts {
  const out = { ...c };
  for (const k of ROLLOUT_COUNTERS) out[k] += sign * d[k];
  return out;
}

const isZero = (d: Delta): boolean => ROLLOUT_COUNTERS.every((k) => d[k] === 0);

/** `start` as fixed-width text, so that a software's buckets sort by time within its `_id` range. */
const pad = (start: number): string => String(Math.max(0, start)).padStart(16, '0');

const historyId = (tenantId: string, appName: string, vk: string, bucket: HistoryBucket, start: number): string =>
  idOf(tenantId, appName, vk, bucket, pad(start));

/**
 * RolloutStatsRepository on a MongoDB-wire store. Increments of one software that arrive while one
 * is being written are combined into one `$inc` (each caller still gets its own "counts after", in a
 * serial order), so a burst of reports or offers costs a few round trips, not one each; the same
 * changes go to their minute and hour buckets (`rollout_history`) with one gathered bulk write of
 * `$inc` upserts. Across replicas the server's atomic `$inc` keeps every increment.
 *
 * An increment is never lost to a store outage: when the write fails, the increments are kept here
 * (five numbers per software, plus the few buckets of the outage: bounded memory) and written with
 * the next write of that software, or by a retry with backoff; the callers get the counts as far as
 * known, not an error (an error would make them repeat the work, and count twice). Only a crash of
 * this process loses what it owes.
 */
export class MongoRolloutStatsRepository implements RolloutStatsRepository {
  private readonly docs: Collection<RolloutStatsDocument>;
  private readonly buckets: Collection<RolloutHistoryDocument>;
  private readonly bucketWriter: BulkWriter<RolloutHistoryDocument>;
  private readonly queues = new Map<string, Waiter[]>();
  /** Increments accepted but not written yet (the store was unavailable), by software. */
  private readonly owed = new Map<string, Owed>();
  /** The last counts the store returned, by software (the base of the counts reported while it is down). */
  private readonly known = new Map<string, RolloutCounts>();

  constructor(db: Db) {
    this.docs = db.collection<RolloutStatsDocument>(COLLECTIONS.rolloutStats);
    this.buckets = db.collection<RolloutHistoryDocument>(COLLECTIONS.rolloutHistory);
    this.bucketWriter = new BulkWriter(this.buckets, 'stats.history');
  }

  increment(tenantId: string, appName: string, version: string, counter: RolloutCounter, by = 1, at: number = wallClock()): Promise<RolloutCounts> {
    const delta = zero();
    delta[counter] = by;
    return this.enqueue(tenantId, appName, version, delta, at);
  }

  move(tenantId: string, appName: string, version: string, from: RolloutCounter, to: RolloutCounter, at: number = wallClock()): Promise<RolloutCounts> {
    const delta = zero();
    delta[from] -= 1;
    delta[to] += 1;
    return this.enqueue(tenantId, appName, version, delta, at);
  }

  async get(tenantId: string, appName: string, version: string): Promise<RolloutCounts> {
    const d = await run('stats.get', () => this.docs.findOne({ _id: idOf(tenantId, appName, versionKey(version)) }));
    return d ? countsOf(d) : ZERO_COUNTS;
  }

  async history(
    tenantId: string,
    appName: string,
    version: string,
    query: { bucket: HistoryBucket; since: number; until: number },
  ): Promise<RolloutHistoryBucket[]> {
    const vk = versionKey(version);
    if (query.until <= query.since) return [];
    const lo = historyId(tenantId, appName, vk, query.bucket, query.since);
    const hi = historyId(tenantId, appName, vk, query.bucket, query.until);
    const docs = await run('stats.history', () =>
      this.buckets
        .find({ _id: { $gte: lo, $lt: hi } })
        .sort({ _id: 1 })
        .toArray(),
    );
    return docs.map((d) => ({ start: d.start, ...countsOf(d) }));
  }

  async active(since: number, limit: number): Promise<ActiveRollout[]> {
    if (limit <= 0) return [];
    const docs = await run('stats.active', () =>
      this.docs
        .find({ lastOfferedAt: { $gte: since } })
        .sort({ lastOfferedAt: -1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map((d) => ({
      tenantId: d.tenantId,
      appName: d.appName,
      version: d.versionKey,
      counts: countsOf(d),
      lastOfferedAt: d.lastOfferedAt as number,
    }));
  }

  async prune(now: number): Promise<number> {
    let n = 0;
    for (const bucket of ['minute', 'hour'] as const) {
      const r = await run('stats.prune', () => this.buckets.deleteMany({ bucket, start: { $lt: now - BUCKET_RETENTION_MS[bucket] } }));
      n += r.deletedCount;
    }
    return n;
  }

  async delete(tenantId: string, appName: string, version: string): Promise<void> {
    const vk = versionKey(version);
    const { lo, hi } = idRange(tenantId, appName, vk);
    await run('stats.delete', () => this.docs.deleteOne({ _id: idOf(tenantId, appName, vk) }));
    await run('stats.delete', () => this.buckets.deleteMany({ _id: { $gt: lo, $lt: hi } }));
  }

  async deleteTenant(tenantId: string): Promise<void> {
    const { lo, hi } = idRange(tenantId);
    await run('stats.deleteTenant', () => this.docs.deleteMany({ tenantId }));
    await run('stats.deleteTenant', () => this.buckets.deleteMany({ _id: { $gt: lo, $lt: hi } }));
  }

  /** Increments accepted and not yet written (the store was unavailable), for tests and metrics. */
  owedCount(): number {
    let n = 0;
    for (const o of this.owed.values()) for (const k of ROLLOUT_COUNTERS) n += Math.abs(o.counts[k]);
    return n;
  }

  private enqueue(tenantId: string, appName: string, version: string, delta: Delta, at: number): Promise<RolloutCounts> {
    const vk = versionKey(version);
    const id = idOf(tenantId, appName, vk);
    return new Promise<RolloutCounts>((resolve, reject) => {
      const w: Waiter = { delta, at, resolve, reject };
      const queue = this.queues.get(id);
      if (queue) {
        queue.push(w);
        return;
      }
      this.queues.set(id, [w]);
      setImmediate(() => void this.drain(id, tenantId, appName, vk));
    });
  }

  private owe(id: string): Owed {
    let o = this.owed.get(id);
    if (!o) this.owed.set(id, (o = { counts: zero(), history: new Map(), retryMs: 200 }));
    return o;
  }

  /** A retry of what `id` owes, with backoff. */
  private retryLater(id: string, tenantId: string, appName: string, vk: string): void {
    const o = this.owed.get(id);
    if (!o || o.timer) return;
    o.timer = setTimeout(() => {
      o.timer = undefined;
      if (!this.queues.has(id)) {
        this.queues.set(id, []);
        void this.drain(id, tenantId, appName, vk);
      }
    }, o.retryMs);
    o.timer.unref?.();
    o.retryMs = Math.min(5000, o.retryMs * 2);
  }

  /** Writes the queued increments of one software (and what it owes), batch by batch, until none is left. Never rejects. */
  private async drain(id: string, tenantId: string, appName: string, vk: string): Promise<void> {
    for (;;) {
      const batch = this.queues.get(id) ?? [];
      const owed = this.owed.get(id);
      if (batch.length === 0 && (!owed || owed.timer)) {
        this.queues.delete(id);
        return;
      }
      this.queues.set(id, []);
      // The history of this round: what is owed plus the batch's buckets.
      const history = new Map(owed?.history ?? []);
      for (const w of batch) {
        for (const bucket of ['minute', 'hour'] as const) {
          const start = bucketStart(bucket, w.at);
          const hid = historyId(tenantId, appName, vk, bucket, start);
          const h = history.get(hid) ?? { bucket, start, delta: zero() };
          history.set(hid, { bucket, start, delta: plus(h.delta, w.delta) });
        }
      }
      const carried: Change[] = owed && !isZero(owed.counts) ? [{ delta: owed.counts, at: owed.lastOfferedAt ?? Number.NEGATIVE_INFINITY }] : [];
      // The counts and their buckets in parallel; the callers are answered once both are settled (a
      // history read right after an increment sees it).
      const [totals, buckets] = await Promise.allSettled([
        this.add(id, tenantId, appName, vk, [...carried, ...batch]),
        this.addHistory(tenantId, appName, vk, history),
      ]);
      if (buckets.status === 'rejected' || totals.status === 'rejected') {
        // Kept and retried (whatever the error of the buckets: nobody waits for them alone).
        const o = this.owe(id);
        o.history = buckets.status === 'rejected' ? history : new Map<string, { bucket: HistoryBucket; start: number; delta: Delta }>();
        this.retryLater(id, tenantId, appName, vk);
      } else if (owed) {
        if (owed.timer) clearTimeout(owed.timer);
        this.owed.delete(id);
      }
      if (totals.status === 'rejected') {
        const e: unknown = totals.reason;
        if (!isOtaoError(e)) {
          for (const w of batch) w.reject(e);
          continue;
        }
        // The store is unavailable: keep the increments (also those queued meanwhile), answer with the counts as far as known.
        const o = this.owe(id);
        let c: RolloutCounts = plus(this.known.get(id) ?? ZERO_COUNTS, o.counts);
        const inBatch = new Set(batch);
        for (const w of [...batch, ...(this.queues.get(id) ?? [])]) {
          for (const bucket of ['minute', 'hour'] as const) {
            if (inBatch.has(w)) break; // the batch's buckets are written or already owed
            const start = bucketStart(bucket, w.at);
            const hid = historyId(tenantId, appName, vk, bucket, start);
            const h = o.history.get(hid) ?? { bucket, start, delta: zero() };
            o.history.set(hid, { bucket, start, delta: plus(h.delta, w.delta) });
          }
          o.counts = plus(o.counts, w.delta);
          if (w.delta.offered > 0) o.lastOfferedAt = Math.max(o.lastOfferedAt ?? w.at, w.at);
          c = plus(c, w.delta);
          w.resolve(c);
        }
        this.queues.delete(id);
        return;
      }
      const after = totals.value;
      const o = this.owed.get(id);
      if (o) {
        o.counts = zero();
        delete o.lastOfferedAt;
      }
      batch.forEach((w, i) => w.resolve(after[carried.length + i]!));
      const last = after[after.length - 1];
      if (last) this.known.set(id, last);
      if (o && (this.queues.get(id) ?? []).length === 0) {
        // Only the buckets failed: retried by the timer, not in a tight loop.
        this.queues.delete(id);
        return;
      }
    }
  }

  /** One `$inc` holding all `changes`; returns the counts after each of them, in order. */
  private async add(id: string, tenantId: string, appName: string, vk: string, changes: readonly Change[]): Promise<RolloutCounts[]> {
    // Every counter is named (zeros too), so the document created by the first increment has all of them.
    let inc = zero();
    let lastOfferedAt: number | undefined;
    for (const w of changes) {
      inc = plus(inc, w.delta);
      if (w.delta.offered > 0 && Number.isFinite(w.at)) lastOfferedAt = Math.max(lastOfferedAt ?? w.at, w.at);
    }
    const write = () =>
      this.docs.findOneAndUpdate(
        // _id and tenant: an upsert filtering on `_id` alone loses concurrent first writes on FerretDB v2 (see upsertFilter in the endpoint repository)
        { _id: id, tenantId },
        { $inc: inc, $setOnInsert: { appName, versionKey: vk }, ...(lastOfferedAt !== undefined ? { $max: { lastOfferedAt } } : {}) },
        { upsert: true, returnDocument: 'after' },
      );
    // Two first increments of a software race to insert its document: the loser's retry updates it.
    const done = (await runUnlessDuplicate('stats.increment', write)) ?? { value: await run('stats.increment', write) };
    const d = done.value;
    if (!d) throw new Error('stats.increment: upsert returned no document');
    // Walk back from the final counts so that the i-th caller sees the counts right after its own increment.
    let c: RolloutCounts = countsOf(d);
    const after: RolloutCounts[] = new Array<RolloutCounts>(changes.length);
    for (let i = changes.length - 1; i >= 0; i--) {
      after[i] = c;
      c = plus(c, changes[i]!.delta, -1);
    }
    return after;
  }

  /** The buckets' `$inc` upserts, gathered with other software's into bulk writes; a lost first-insert race is retried as an update. */
  private async addHistory(
    tenantId: string,
    appName: string,
    vk: string,
    history: ReadonlyMap<string, { bucket: HistoryBucket; start: number; delta: Delta }>,
  ): Promise<void> {
    await Promise.all(
      [...history].map(async ([_id, h]) => {
        if (isZero(h.delta)) return;
        const op = {
          updateOne: {
            filter: { _id, tenantId },
            update: { $inc: h.delta, $setOnInsert: { appName, versionKey: vk, bucket: h.bucket, start: h.start } },
            upsert: true,
          },
        };
        if ((await this.bucketWriter.write(op)) === 'duplicate') await this.bucketWriter.write(op);
      }),
    );
  }
}
