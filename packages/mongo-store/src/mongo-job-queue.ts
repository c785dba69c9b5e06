import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { JobQueue, QueuedJob } from '@otao/core';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';

/** A job, its state and its claim. */
export interface JobDocument {
  _id: string;
  kind: string;
  key: string;
  payload: string;
  createdAt: number;
  /** Not claimable before this time (retry back-off). */
  availableAt: number;
  /**
   * The coalescing slot (unique index): the job's `key` while it waits, a fresh token of its own once
   * claimed. So at most one job per key waits, and a new job with that key joins it.
   */
  slot: string;
  /** The replica holding the claim, null while waiting. */
  holder: string | null;
  /** End of the claim; 0 while waiting. A claim not renewed in time expires and the job is claimable again. */
  until: number;
  /** The number of the latest claim. */
  attempts: number;
}

/**
 * The durable JobQueue on the MongoDB wire protocol. Every transition is one atomic conditional
 * write: a claim is a `findOneAndUpdate` of the oldest available job whose claim is absent or
 * expired (so a replica that dies mid-claim leaves nothing half-done, and a dead claim expires by
 * itself); renew and release match the holder and its unexpired claim.
 */
export class MongoJobQueue implements JobQueue {
  private readonly jobs: Collection<JobDocument>;

  constructor(db: Db) {
    this.jobs = db.collection<JobDocument>(COLLECTIONS.jobs);
  }

  async enqueue(kind: string, key: string, payload: string, now: number): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const _id = randomUUID();
      const job: JobDocument = { _id, kind, key, payload, createdAt: now, availableAt: now, slot: key, holder: null, until: 0, attempts: 0 };
      if (await runUnlessDuplicate('jobs.enqueue', () => this.jobs.insertOne(job))) return _id;
      // A job with this key is waiting: it will do the work (unless it was claimed in between: try again).
      const waiting = await run('jobs.enqueue', () => this.jobs.findOne({ slot: key }, { projection: { _id: 1 } }));
      if (waiting) return waiting._id;
    }
    throw new Error(`jobs.enqueue: the waiting job of ${key} kept changing`);
  }

  async claim(holder: string, now: number, leaseMs: number): Promise<QueuedJob | undefined> {
    const job = await run('jobs.claim', () =>
      this.jobs.findOneAndUpdate(
        { availableAt: { $lte: now }, until: { $lte: now } },
        { $set: { holder, until: now + leaseMs, slot: `claimed:${randomUUID()}` }, $inc: { attempts: 1 } },
        { sort: { availableAt: 1, createdAt: 1 }, returnDocument: 'after' },
      ),
    );
    return job ? { id: job._id, kind: job.kind, key: job.key, payload: job.payload, attempts: job.attempts } : undefined;
  }

  async renew(id: string, holder: string, now: number, leaseMs: number): Promise<boolean> {
    const r = await run('jobs.renew', () => this.jobs.updateOne({ _id: id, holder, until: { $gte: now } }, { $set: { until: now + leaseMs } }));
    return r.matchedCount === 1;
  }

  async complete(id: string): Promise<void> {
    await run('jobs.complete', () => this.jobs.deleteOne({ _id: id }));
  }

  async release(id: string, holder: string, retryAt: number): Promise<void> {
    const job = await run('jobs.release', () => this.jobs.findOne({ _id: id, holder }, { projection: { key: 1 } }));
    if (!job) return;
    const back = () => this.jobs.updateOne({ _id: id, holder }, { $set: { holder: null, until: 0, availableAt: retryAt, slot: job.key } });
    // Another job with the same key is waiting already: it does the same work, so this one is done.
    if (!(await runUnlessDuplicate('jobs.release', back))) await run('jobs.release', () => this.jobs.deleteOne({ _id: id, holder }));
  }

  async size(): Promise<number> {
    return run('jobs.size', () => this.jobs.countDocuments({}));
  }
}
