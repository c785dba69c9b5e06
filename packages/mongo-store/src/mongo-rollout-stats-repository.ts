import { OtaoError, versionKey } from '@otao/core';
import type { RolloutCounter, RolloutCounts, RolloutStatsRepository } from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS, deleteAll } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf, wallClock } from './keys';

/**
 * One state of the counters of one software: the states form a log numbered by `seq`, the latest
 * is the current counts. An increment inserts state seq+1; the unique `_id` makes exactly one of
 * concurrent writers win (FerretDB v1's `$inc` is a non-atomic read-modify-write, see docs/mongo-store.md).
 */
export interface RolloutStatsDocument {
  /** idOf(tenantId, appName, versionKey, seq) */
  _id: string;
  tenantId: string;
  appName: string;
  versionKey: string;
  seq: number;
  offered: number;
  applied: number;
  failed: number;
  /** Wall-clock time of the insert, for garbage collection only. */
  at: number;
}

export interface MongoRolloutStatsOptions {
  /** States kept behind the latest one before garbage collection may remove them. */
  readonly keepStates?: number;
  /** Minimum age of a removed state: a writer that read a state this old cannot still be about to write. */
  readonly gcAgeMs?: number;
}

interface Waiter {
  readonly counter: RolloutCounter;
  resolve(c: RolloutCounts): void;
  reject(e: unknown): void;
}

const ZERO: RolloutCounts = Object.freeze({ offered: 0, applied: 0, failed: 0 });
const MAX_ATTEMPTS = 1000;

/**
 * RolloutStatsRepository on a MongoDB-wire store. Concurrent increments of one software within this
 * instance are combined into one compare-and-set (each caller still gets its own "counts after",
 * in a serial order); across instances the inserts of the log arbitrate.
 */
export class MongoRolloutStatsRepository implements RolloutStatsRepository {
  private readonly states: Collection<RolloutStatsDocument>;
  private readonly queues = new Map<string, Waiter[]>();
  private readonly keepStates: number;
  private readonly gcAgeMs: number;

  constructor(db: Db, options: MongoRolloutStatsOptions = {}) {
    this.states = db.collection<RolloutStatsDocument>(COLLECTIONS.rolloutStats);
    this.keepStates = options.keepStates ?? 64;
    this.gcAgeMs = options.gcAgeMs ?? 300_000;
  }

  increment(tenantId: string, appName: string, version: string, counter: RolloutCounter): Promise<RolloutCounts> {
    const vk = versionKey(version);
    const k = idOf(tenantId, appName, vk);
    return new Promise<RolloutCounts>((resolve, reject) => {
      const queue = this.queues.get(k);
      if (queue) {
        queue.push({ counter, resolve, reject });
        return;
      }
      this.queues.set(k, [{ counter, resolve, reject }]);
      void this.drain(k, tenantId, appName, vk);
    });
  }

  async get(tenantId: string, appName: string, version: string): Promise<RolloutCounts> {
    const latest = await this.latest('stats.get', tenantId, appName, versionKey(version));
    return latest ? { offered: latest.offered, applied: latest.applied, failed: latest.failed } : ZERO;
  }

  async delete(tenantId: string, appName: string, version: string): Promise<void> {
    await run('stats.delete', () => this.states.deleteMany({ tenantId, appName, versionKey: versionKey(version) }));
  }

  async deleteTenant(tenantId: string): Promise<void> {
    await run('stats.deleteTenant', () => deleteAll(this.states, { tenantId }));
  }

  /** Commits the queued increments of one software batch by batch until none is left. Never rejects. */
  private async drain(k: string, tenantId: string, appName: string, vk: string): Promise<void> {
    for (;;) {
      const batch = this.queues.get(k) ?? [];
      if (batch.length === 0) {
        this.queues.delete(k);
        return;
      }
      this.queues.set(k, []);
      try {
        const after = await this.commit(tenantId, appName, vk, batch.map((w) => w.counter));
        batch.forEach((w, i) => w.resolve(after[i]!));
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
  }

  /** Appends one state holding all `counters`; returns the counts after each of them, in order. */
  private async commit(tenantId: string, appName: string, vk: string, counters: readonly RolloutCounter[]): Promise<RolloutCounts[]> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const latest = await this.latest('stats.increment', tenantId, appName, vk);
      let c: RolloutCounts = latest ? { offered: latest.offered, applied: latest.applied, failed: latest.failed } : ZERO;
      const after = counters.map((counter) => (c = { ...c, [counter]: c[counter] + 1 }));
      const seq = (latest?.seq ?? 0) + 1;
      const doc: RolloutStatsDocument = { _id: idOf(tenantId, appName, vk, seq), tenantId, appName, versionKey: vk, seq, ...c, at: wallClock() };
      if (await runUnlessDuplicate('stats.increment', () => this.states.insertOne(doc))) {
        if (seq % 16 === 0) await this.collect(tenantId, appName, vk, seq);
        return after;
      }
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, 1 + attempt)));
    }
    throw new OtaoError('store.unavailable', `stats.increment: no free state after ${MAX_ATTEMPTS} attempts (contention)`);
  }

  private async latest(op: string, tenantId: string, appName: string, vk: string): Promise<RolloutStatsDocument | null> {
    return run(op, () => this.states.find({ tenantId, appName, versionKey: vk }).sort({ seq: -1 }).limit(1).next());
  }

  /** Best effort: removes states far behind the latest and old enough that no writer still works from them. */
  private async collect(tenantId: string, appName: string, vk: string, seq: number): Promise<void> {
    await this.states
      .deleteMany({ tenantId, appName, versionKey: vk, seq: { $lte: seq - this.keepStates }, at: { $lt: wallClock() - this.gcAgeMs } })
      .catch(() => undefined);
  }
}
