import { isOtaoError, versionKey } from '@otao/core';
import type { RolloutCounter, RolloutCounts, RolloutStatsRepository } from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf } from './keys';

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
}

interface Waiter {
  readonly counter: RolloutCounter;
  readonly by: number;
  resolve(c: RolloutCounts): void;
  reject(e: unknown): void;
}

const ZERO: RolloutCounts = Object.freeze({ offered: 0, applied: 0, failed: 0 });

/**
 * RolloutStatsRepository on a MongoDB-wire store. Increments of one software that arrive while one
 * is being written are combined into one `$inc` (each caller still gets its own "counts after", in a
 * serial order), so a burst of reports or offers costs a few round trips, not one each. Across
 * replicas the server's atomic `$inc` keeps every increment.
 *
 * An increment is never lost to a store outage: when the write fails, the increments are kept here
 * (three numbers per software: bounded memory) and written with the next write of that software,
 * or by a retry with backoff; the callers get the counts as far as known, not an error (an error
 * would make them repeat the work, and count twice). Only a crash of this process loses what it owes.
 */
export class MongoRolloutStatsRepository implements RolloutStatsRepository {
  private readonly docs: Collection<RolloutStatsDocument>;
  private readonly queues = new Map<string, Waiter[]>();
  /** Increments accepted but not written yet (the store was unavailable), by software. */
  private readonly owed = new Map<string, { counts: Record<RolloutCounter, number>; retryMs: number; timer?: NodeJS.Timeout | undefined }>();
  /** The last counts the store returned, by software (the base of the counts reported while it is down). */
  private readonly known = new Map<string, RolloutCounts>();

  constructor(db: Db) {
    this.docs = db.collection<RolloutStatsDocument>(COLLECTIONS.rolloutStats);
  }

  increment(tenantId: string, appName: string, version: string, counter: RolloutCounter, by = 1): Promise<RolloutCounts> {
    const vk = versionKey(version);
    const id = idOf(tenantId, appName, vk);
    return new Promise<RolloutCounts>((resolve, reject) => {
      const queue = this.queues.get(id);
      if (queue) {
        queue.push({ counter, by, resolve, reject });
        return;
      }
      this.queues.set(id, [{ counter, by, resolve, reject }]);
      setImmediate(() => void this.drain(id, tenantId, appName, vk));
    });
  }

  async get(tenantId: string, appName: string, version: string): Promise<RolloutCounts> {
    const d = await run('stats.get', () => this.docs.findOne({ _id: idOf(tenantId, appName, versionKey(version)) }));
    return d ? { offered: d.offered, applied: d.applied, failed: d.failed } : ZERO;
  }

  async delete(tenantId: string, appName: string, version: string): Promise<void> {
    await run('stats.delete', () => this.docs.deleteOne({ _id: idOf(tenantId, appName, versionKey(version)) }));
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('stats.deleteTenant', () => this.docs.deleteMany({ tenantId }));
  }

  /** Increments accepted and not yet written (the store was unavailable), for tests and metrics. */
  owedCount(): number {
    let n = 0;
    for (const o of this.owed.values()) n += o.counts.offered + o.counts.applied + o.counts.failed;
    return n;
  }

  /** Writes the queued increments of one software (and what it owes), batch by batch, until none is left. Never rejects. */
  private async drain(id: string, tenantId: string, appName: string, vk: string): Promise<void> {
    for (;;) {
      const batch = this.queues.get(id) ?? [];
      const owed = this.owed.get(id);
      if (batch.length === 0 && !owed) {
        this.queues.delete(id);
        return;
      }
      this.queues.set(id, []);
      const carried = owed ? (['offered', 'applied', 'failed'] as const).filter((c) => owed.counts[c] > 0).map((c) => ({ counter: c, by: owed.counts[c] })) : [];
      try {
        const after = await this.add(id, tenantId, appName, vk, [...carried, ...batch]);
        if (owed?.timer) clearTimeout(owed.timer);
        this.owed.delete(id);
        batch.forEach((w, i) => w.resolve(after[carried.length + i]!));
        const last = after[after.length - 1];
        if (last) this.known.set(id, last);
      } catch (e) {
        if (!isOtaoError(e)) {
          for (const w of batch) w.reject(e);
          continue;
        }
        // The store is unavailable: keep the increments, answer with the counts as far as known.
        const o = owed ?? { counts: { offered: 0, applied: 0, failed: 0 }, retryMs: 200 };
        let c: RolloutCounts = this.known.get(id) ?? ZERO;
        c = { offered: c.offered + o.counts.offered, applied: c.applied + o.counts.applied, failed: c.failed + o.counts.failed };
        for (const w of batch) {
          o.counts[w.counter] += w.by;
          c = { ...c, [w.counter]: c[w.counter] + w.by };
          w.resolve(c);
        }
        this.owed.set(id, o);
        if (!o.timer) {
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
        this.queues.delete(id);
        return;
      }
    }
  }

  /** One `$inc` holding all `increments`; returns the counts after each of them, in order. */
  private async add(id: string, tenantId: string, appName: string, vk: string, increments: readonly Pick<Waiter, 'counter' | 'by'>[]): Promise<RolloutCounts[]> {
    // Every counter is named (zeros too), so the document created by the first increment has all of them.
    const inc: Record<RolloutCounter, number> = { offered: 0, applied: 0, failed: 0 };
    for (const w of increments) inc[w.counter] += w.by;
    const write = () =>
      this.docs.findOneAndUpdate(
        // _id and tenant: an upsert filtering on `_id` alone loses concurrent first writes on FerretDB v2 (see upsertFilter in the endpoint repository)
        { _id: id, tenantId },
        { $inc: inc, $setOnInsert: { appName, versionKey: vk } },
        { upsert: true, returnDocument: 'after' },
      );
    // Two first increments of a software race to insert its document: the loser's retry updates it.
    const done = (await runUnlessDuplicate('stats.increment', write)) ?? { value: await run('stats.increment', write) };
    const d = done.value;
    if (!d) throw new Error('stats.increment: upsert returned no document');
    // Walk back from the final counts so that the i-th caller sees the counts right after its own increment.
    let c: RolloutCounts = { offered: d.offered, applied: d.applied, failed: d.failed };
    const after: RolloutCounts[] = new Array<RolloutCounts>(increments.length);
    for (let i = increments.length - 1; i >= 0; i--) {
      after[i] = c;
      const w = increments[i]!;
      c = { ...c, [w.counter]: c[w.counter] - w.by };
    }
    return after;
  }
}
