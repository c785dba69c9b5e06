import type { Lease } from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf, wallClock } from './keys';

/**
 * One term of a lease: the latest term is the current holder. Acquiring, renewing and releasing all
 * insert the next term, so the unique `_id` decides between contenders (no update is relied on for
 * atomicity: FerretDB v1 has none).
 */
export interface LeaseTermDocument {
  /** idOf(name, term) */
  _id: string;
  name: string;
  term: number;
  /** null once released. */
  holder: string | null;
  until: number;
  /** Wall-clock time of the insert, for garbage collection only. */
  at: number;
}

export interface CheckpointDocument {
  _id: string;
  value: number;
}

export interface MongoLeaseOptions {
  readonly keepTerms?: number;
  readonly gcAgeMs?: number;
}

const MAX_ATTEMPTS = 100;

/** Lease and checkpoint on a MongoDB-wire store. */
export class MongoLease implements Lease {
  private readonly terms: Collection<LeaseTermDocument>;
  private readonly checkpoints: Collection<CheckpointDocument>;
  private readonly keepTerms: number;
  private readonly gcAgeMs: number;

  constructor(db: Db, options: MongoLeaseOptions = {}) {
    this.terms = db.collection<LeaseTermDocument>(COLLECTIONS.leases);
    this.checkpoints = db.collection<CheckpointDocument>(COLLECTIONS.checkpoints);
    this.keepTerms = options.keepTerms ?? 16;
    this.gcAgeMs = options.gcAgeMs ?? 300_000;
  }

  async tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const cur = await this.latest('lease.tryAcquire', name);
      if (cur && cur.holder !== null && cur.holder !== holder && cur.until > now) return false;
      if (await this.append('lease.tryAcquire', name, cur, holder, now + ttlMs)) return true;
      // Another contender appended first: decide again on its term.
    }
    return false;
  }

  async release(name: string, holder: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const cur = await this.latest('lease.release', name);
      if (!cur || cur.holder !== holder) return;
      if (await this.append('lease.release', name, cur, null, 0)) return;
    }
  }

  async getCheckpoint(name: string): Promise<number | undefined> {
    const d = await run('lease.getCheckpoint', () => this.checkpoints.findOne({ _id: name }));
    return d?.value;
  }

  async setCheckpoint(name: string, value: number): Promise<void> {
    const write = () => this.checkpoints.updateOne({ _id: name }, { $set: { value } }, { upsert: true });
    if (!(await runUnlessDuplicate('lease.setCheckpoint', write))) await run('lease.setCheckpoint', write);
  }

  private async latest(op: string, name: string): Promise<LeaseTermDocument | null> {
    return run(op, () => this.terms.find({ name }).sort({ term: -1 }).limit(1).next());
  }

  private async append(op: string, name: string, cur: LeaseTermDocument | null, holder: string | null, until: number): Promise<boolean> {
    const term = (cur?.term ?? 0) + 1;
    const ok = await runUnlessDuplicate(op, () => this.terms.insertOne({ _id: idOf(name, term), name, term, holder, until, at: wallClock() }));
    if (ok && term % 8 === 0) {
      await this.terms.deleteMany({ name, term: { $lte: term - this.keepTerms }, at: { $lt: wallClock() - this.gcAgeMs } }).catch(() => undefined);
    }
    return ok !== undefined;
  }
}
