import type { JobQueue, QueuedJob } from '../ports';
import { FaultSwitch } from './faults';

interface Row {
  id: string;
  kind: string;
  key: string;
  payload: string;
  createdAt: number;
  availableAt: number;
  claimedBy?: string;
  claimedUntil: number;
  attempts: number;
  seq: number;
}

/** JobQueue in memory (one process); the same contract as the store's. */
export class InMemoryJobQueue implements JobQueue {
  readonly faults = new FaultSwitch();
  private readonly rows = new Map<string, Row>();
  private seq = 0;

  async enqueue(kind: string, key: string, payload: string, now: number): Promise<string> {
    this.faults.check('jobs.enqueue');
    for (const r of this.rows.values()) if (r.key === key && r.claimedUntil <= now && r.claimedBy === undefined) return r.id;
    const id = `job-${++this.seq}`;
    this.rows.set(id, { id, kind, key, payload, createdAt: now, availableAt: now, claimedUntil: 0, attempts: 0, seq: this.seq });
    return id;
  }

  async claim(holder: string, now: number, leaseMs: number): Promise<QueuedJob | undefined> {
    this.faults.check('jobs.claim');
    const free = [...this.rows.values()]
      .filter((r) => r.availableAt <= now && r.claimedUntil <= now)
      .sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq);
    const r = free[0];
    if (!r) return undefined;
    r.claimedBy = holder;
    r.claimedUntil = now + leaseMs;
    r.attempts++;
    return { id: r.id, kind: r.kind, key: r.key, payload: r.payload, attempts: r.attempts };
  }

  async renew(id: string, holder: string, now: number, leaseMs: number): Promise<boolean> {
    this.faults.check('jobs.renew');
    const r = this.rows.get(id);
    if (!r || r.claimedBy !== holder || r.claimedUntil < now) return false;
    r.claimedUntil = now + leaseMs;
    return true;
  }

  async complete(id: string): Promise<void> {
    this.faults.check('jobs.complete');
    this.rows.delete(id);
  }

  async release(id: string, holder: string, retryAt: number): Promise<void> {
    this.faults.check('jobs.release');
    const r = this.rows.get(id);
    if (!r || r.claimedBy !== holder) return;
    delete r.claimedBy;
    r.claimedUntil = 0;
    r.availableAt = retryAt;
  }

  async size(): Promise<number> {
    this.faults.check('jobs.size');
    return this.rows.size;
  }
}
