import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { JobQueue, QueuedJob } from '@otao/core';
import { COLLECTIONS } from './collections';
import { run, runUnlessDuplicate } from './errors';
import { idOf } from './keys';

/** A job: its data and when it may be claimed. `attempts` is the number of the latest claim. */
export interface JobDocument {
  _id: string;
  kind: string;
  key: string;
  payload: string;
  createdAt: number;
  availableAt: number;
  /** True while never claimed or released: a new job with the same key joins it. */
  waiting: boolean;
  attempts: number;
}

/** One claim of a job: `_id` = [jobId, attempt]. Inserting it is the claim (unique `_id`: atomic on FerretDB v1 too). */
export interface JobClaimDocument {
  _id: string;
  jobId: string;
  holder: string;
  until: number;
}

/**
 * The durable JobQueue on the MongoDB wire protocol. Claims are inserts of a claim record whose
 * `_id` names (job, attempt number): exactly one replica wins an attempt even where the server
 * does not make updates atomic (FerretDB v1). Only the winner then updates the job and renews its
 * claim, so every update has a single writer.
 */
export class MongoJobQueue implements JobQueue {
  private readonly jobs: Collection<JobDocument>;
  private readonly claims: Collection<JobClaimDocument>;

  constructor(db: Db) {
    this.jobs = db.collection<JobDocument>(COLLECTIONS.jobs);
    this.claims = db.collection<JobClaimDocument>(COLLECTIONS.jobClaims);
  }

  async enqueue(kind: string, key: string, payload: string, now: number): Promise<string> {
    const waiting = await run('jobs.enqueue', () => this.jobs.findOne({ key, waiting: true }, { projection: { _id: 1 } }));
    if (waiting) return waiting._id;
    const _id = randomUUID();
    await run('jobs.enqueue', () => this.jobs.insertOne({ _id, kind, key, payload, createdAt: now, availableAt: now, waiting: true, attempts: 0 }));
    return _id;
  }

  async claim(holder: string, now: number, leaseMs: number): Promise<QueuedJob | undefined> {
    const candidates = await run('jobs.claim', () => this.jobs.find({ availableAt: { $lte: now } }).sort({ createdAt: 1, _id: 1 }).limit(20).toArray());
    for (const job of candidates) {
      if (job.attempts > 0) {
        const current = await run('jobs.claim', () => this.claims.findOne({ _id: idOf(job._id, job.attempts) }));
        if (current && current.until > now) continue;
      }
      const attempt = job.attempts + 1;
      const won = await runUnlessDuplicate('jobs.claim', () => this.claims.insertOne({ _id: idOf(job._id, attempt), jobId: job._id, holder, until: now + leaseMs }));
      if (!won) continue;
      await run('jobs.claim', () => this.jobs.updateOne({ _id: job._id }, { $set: { attempts: attempt, waiting: false } }));
      return { id: job._id, kind: job.kind, key: job.key, payload: job.payload, attempts: attempt };
    }
    return undefined;
  }

  async renew(id: string, holder: string, now: number, leaseMs: number): Promise<boolean> {
    const job = await run('jobs.renew', () => this.jobs.findOne({ _id: id }, { projection: { attempts: 1 } }));
    if (!job) return false;
    const r = await run('jobs.renew', () => this.claims.updateOne({ _id: idOf(id, job.attempts), holder, until: { $gte: now } }, { $set: { until: now + leaseMs } }));
    return r.matchedCount === 1;
  }

  async complete(id: string): Promise<void> {
    await run('jobs.complete', () => this.jobs.deleteOne({ _id: id }));
    await run('jobs.complete', () => this.claims.deleteMany({ jobId: id }));
  }

  async release(id: string, holder: string, retryAt: number): Promise<void> {
    const job = await run('jobs.release', () => this.jobs.findOne({ _id: id }, { projection: { attempts: 1 } }));
    if (!job) return;
    const r = await run('jobs.release', () => this.claims.updateOne({ _id: idOf(id, job.attempts), holder }, { $set: { until: 0 } }));
    if (r.matchedCount === 1) await run('jobs.release', () => this.jobs.updateOne({ _id: id }, { $set: { availableAt: retryAt, waiting: true } }));
  }

  async size(): Promise<number> {
    return run('jobs.size', () => this.jobs.countDocuments({}));
  }
}
