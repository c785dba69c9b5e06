/** A durable background job (a push computation or a filter bootstrap). */
export interface QueuedJob {
  readonly id: string;
  readonly kind: string;
  /** Job data as JSON text (the caller's format). */
  readonly payload: string;
  /** Coalescing key: jobs with the same key waiting unclaimed are one job. */
  readonly key: string;
  /** How many times the job was claimed (1 on the first run). */
  readonly attempts: number;
}

/**
 * A durable job queue shared by every replica, so background work survives the replica that asked
 * for it: a job stays in the store until completed; a claim is a time-limited lease that the worker
 * renews while it runs; a claim that is not renewed (the replica died) expires and another replica
 * claims the job again. Jobs must be idempotent (push computations are: each (endpoint, version) is
 * pushed once). On stores without atomic updates two replicas may, rarely, run the same job twice.
 * Every method throws `OtaoError('store.unavailable')` when the store cannot be reached.
 */
export interface JobQueue {
  /**
   * Adds a job available from `now`, unless a job with the same key is waiting unclaimed (then
   * nothing is added). Returns the id of the job that will do the work.
   */
  enqueue(kind: string, key: string, payload: string, now: number): Promise<string>;
  /**
   * Claims the oldest available job (not claimed, or whose claim expired, and available at `now`)
   * for `holder` until `now + leaseMs`. Undefined when there is none.
   */
  claim(holder: string, now: number, leaseMs: number): Promise<QueuedJob | undefined>;
  /** Extends a claim. Returns false when `holder` no longer holds the job (it expired and was taken). */
  renew(id: string, holder: string, now: number, leaseMs: number): Promise<boolean>;
  /** Removes a finished job. Idempotent. */
  complete(id: string): Promise<void>;
  /** Gives a failed job back, to be claimed again from `retryAt`. */
  release(id: string, holder: string, retryAt: number): Promise<void>;
  /** Jobs in the queue (waiting or claimed). */
  size(): Promise<number>;
}
