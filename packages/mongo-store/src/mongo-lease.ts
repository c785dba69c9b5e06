import type { Lease } from '@otao/core';
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';

/** A lease: who holds it, until when (`holder` null once released). */
export interface LeaseDocument {
  /** The lease name. */
  _id: string;
  holder: string | null;
  until: number;
}

export interface CheckpointDocument {
  _id: string;
  value: number;
}

/**
 * Lease and checkpoint on a MongoDB-wire store. Acquiring is one conditional upsert: the filter
 * matches a lease that is free, expired or already ours; a lease held by someone else makes the
 * upsert's insert collide with its `_id` (duplicate key), so exactly one contender wins.
 */
export class MongoLease implements Lease {
  private readonly leases: Collection<LeaseDocument>;
  private readonly checkpoints: Collection<CheckpointDocument>;

  constructor(db: Db) {
    this.leases = db.collection<LeaseDocument>(COLLECTIONS.leases);
    this.checkpoints = db.collection<CheckpointDocument>(COLLECTIONS.checkpoints);
  }

  async tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const won = await runUnlessDuplicate('lease.tryAcquire', () =>
      this.leases.updateOne(
        { _id: name, $or: [{ holder }, { holder: null }, { until: { $lte: now } }] },
        { $set: { holder, until: now + ttlMs } },
        { upsert: true },
      ),
    );
    return won !== undefined;
  }

  async release(name: string, holder: string): Promise<void> {
    await run('lease.release', () => this.leases.updateOne({ _id: name, holder }, { $set: { holder: null, until: 0 } }));
  }

  async getCheckpoint(name: string): Promise<number | undefined> {
    const d = await run('lease.getCheckpoint', () => this.checkpoints.findOne({ _id: name }));
    return d?.value;
  }

  async setCheckpoint(name: string, value: number): Promise<void> {
    const write = () => this.checkpoints.updateOne({ _id: name }, { $set: { value } }, { upsert: true });
    if (!(await runUnlessDuplicate('lease.setCheckpoint', write))) await run('lease.setCheckpoint', write);
  }
}
