import { exponentialBackoff, type JobQueue, type OtaoCore, type PushScope, type WorkScheduler } from '@otao/core';
import type { Logger } from 'pino';
import type { OtaoMetrics } from './metrics';
import { waitAtMost } from './retry';

type Job = { kind: 'pushes'; scope: PushScope } | { kind: 'bootstrap'; tenantId: string; appName: string; filterIds: readonly string[] };

const keyOf = (j: Job): string =>
  j.kind === 'pushes'
    ? JSON.stringify(['pushes', j.scope.kind, j.scope.tenantId, j.scope.appName, j.scope.kind === 'filter' ? j.scope.filterId : ''])
    : JSON.stringify(['bootstrap', j.tenantId, j.appName, [...j.filterIds].sort()]);

export interface WorkSchedulerOptions {
  /** This replica (the claim holder). */
  readonly replicaId: string;
  /** Claim lease: a replica that dies loses its job to another replica after this long. */
  readonly leaseMs?: number;
  /** How often an idle worker looks for jobs (new local jobs wake it at once). */
  readonly pollMs?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Whether jobs may run now (false until the application registry has loaded once). Default: always. */
  readonly canRun?: () => boolean;
  /** The time jobs are stored, claimed and retried at (tests); default `Date.now`. */
  readonly now?: () => number;
}

/** The use cases a job runs: what the scheduler needs of the core. */
export interface JobRunner {
  readonly pushes: Pick<OtaoCore['pushes'], 'run'>;
  readonly endpointEvents: Pick<OtaoCore['endpointEvents'], 'bootstrapFilters'>;
}

/**
 * Background work the core asks for (spec §4.3 pushes, §4.6 filter bootstraps) through a durable
 * queue in the store, shared by every replica: a job survives the replica that asked for it. Each
 * replica runs one job at a time, renews its claim while it runs, completes it on success and
 * gives it back with exponential backoff on failure. Jobs are idempotent (pushes are marked per
 * endpoint and version with a compare-and-set), so a job taken over after its replica died only
 * pushes what is left. `schedule*` never throws: a job that cannot be stored yet (store down) is
 * kept in memory and stored as soon as possible.
 */
export class DurableWorkScheduler implements WorkScheduler {
  private core: JobRunner | undefined;
  private readonly outbox: Job[] = [];
  private stopped = false;
  private current: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private flushing = false;
  /** Callers waiting for the flush under way (stop). */
  private readonly flushWaiters: (() => void)[] = [];
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    private readonly queue: JobQueue,
    private readonly log: Logger,
    private readonly metrics: Pick<OtaoMetrics, 'backgroundJobs'>,
    private readonly options: WorkSchedulerOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 15_000;
    this.pollMs = options.pollMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** The core is created with this scheduler as a port; it is attached afterwards. */
  attach(core: JobRunner): void {
    this.core = core;
  }

  /** Starts the worker loop (after the store is up). */
  start(): void {
    void this.loop();
  }

  schedulePushes(scope: PushScope): void {
    this.submit({ kind: 'pushes', scope });
  }

  async enqueuePushes(scope: PushScope): Promise<void> {
    const job: Job = { kind: 'pushes', scope };
    await this.queue.enqueue(job.kind, keyOf(job), JSON.stringify(job), this.now());
    this.wake?.();
  }

  scheduleFilterBootstrap(tenantId: string, appName: string, filterIds: readonly string[]): void {
    this.submit({ kind: 'bootstrap', tenantId, appName, filterIds: [...filterIds] });
  }

  /** Jobs not yet stored, and whether a job runs here now. */
  get localState(): { unsaved: number; running: boolean } {
    return { unsaved: this.outbox.length, running: this.current !== undefined };
  }

  /** Resolves when nothing is left to do anywhere (tests): no unsaved job, none running here, an empty queue. */
  async idle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const size = await this.queue.size().catch(() => 1);
      if (this.outbox.length === 0 && !this.current && size === 0) return true;
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Stops taking jobs and stores the jobs not stored yet; waits up to `graceMs` for the running one.
   * A job still running then keeps its claim until the process exits; the claim, no longer renewed,
   * expires and another replica resumes the job.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.current) await waitAtMost(this.current, graceMs);
    await this.flushOutbox().catch(() => undefined);
  }

  private submit(job: Job): void {
    this.outbox.push(job);
    void this.flushOutbox().catch(() => undefined);
  }

  /** Stores the jobs kept in memory, in order; while a flush is under way, resolves when it ends. */
  private async flushOutbox(): Promise<void> {
    if (this.flushing) return new Promise((r) => this.flushWaiters.push(r));
    this.flushing = true;
    try {
      while (this.outbox.length > 0) {
        const job = this.outbox[0] as Job;
        try {
          await this.queue.enqueue(job.kind, keyOf(job), JSON.stringify(job), this.now());
          this.outbox.shift();
        } catch (e) {
          this.log.warn({ err: (e as Error).message, unsaved: this.outbox.length }, 'cannot store background job yet; retrying');
          if (this.stopped) return;
          setTimeout(() => void this.flushOutbox().catch(() => undefined), 1000).unref();
          return;
        }
      }
    } finally {
      this.flushing = false;
      for (const done of this.flushWaiters.splice(0)) done();
    }
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let claimed = false;
      try {
        const ready = this.core !== undefined && (this.options.canRun?.() ?? true);
        const job = ready ? await this.queue.claim(this.options.replicaId, this.now(), this.leaseMs) : undefined;
        if (job) {
          claimed = true;
          this.current = this.runJob(job.id, job.payload, job.attempts);
          await this.current;
          this.current = undefined;
        }
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'job queue unavailable; retrying');
      }
      if (!claimed && !this.stopped) {
        await new Promise<void>((r) => {
          this.wake = r;
          this.timer = setTimeout(r, this.pollMs);
        });
        this.wake = undefined;
      }
    }
  }

  private async runJob(id: string, payload: string, attempts: number): Promise<void> {
    const core = this.core as JobRunner;
    const job = JSON.parse(payload) as Job;
    const holder = this.options.replicaId;
    let lost = false;
    const heartbeat = setInterval(
      () => {
        this.queue.renew(id, holder, this.now(), this.leaseMs).then(
          (ok) => {
            if (!ok) lost = true;
          },
          () => undefined,
        );
      },
      Math.max(200, Math.floor(this.leaseMs / 3)),
    );
    try {
      if (job.kind === 'pushes') {
        const r = await core.pushes.run(job.scope, `job:${id}`);
        if (r.superseded) {
          // The app's software changed while it ran: run again at once on the new catalogue (if a
          // job of the same scope waits already, that one does it).
          this.log.info({ jobId: id, attempt: attempts, scope: job.scope, ...r }, 'push computation superseded by a change; running it again');
          this.metrics.backgroundJobs.inc({ kind: job.kind, result: 'superseded' });
          await this.queue.release(id, holder, this.now());
          return;
        }
        this.log.info({ jobId: id, attempt: attempts, scope: job.scope, ...r }, 'push computation done');
      } else {
        const r = await core.endpointEvents.bootstrapFilters(job.tenantId, job.appName, job.filterIds, `bootstrap-${id}`);
        if (r.failed.length > 0 && r.loaded.length === 0) throw new Error(`EFMP bootstrap failed for filters ${r.failed.join(', ')}`);
        // the loaded ones are done; the failed ones become a job of their own
        if (r.failed.length > 0) this.submit({ ...job, filterIds: r.failed });
        this.log.info({ jobId: id, tenantId: job.tenantId, appName: job.appName, loaded: r.loaded }, 'filter members loaded');
      }
      await this.queue.complete(id);
      this.metrics.backgroundJobs.inc({ kind: job.kind, result: 'ok' });
    } catch (e) {
      this.metrics.backgroundJobs.inc({ kind: job.kind, result: 'retry' });
      const delay = exponentialBackoff(attempts, this.options.retryBaseMs ?? 500, this.options.retryMaxMs ?? 30_000, 10);
      this.log.warn(
        { jobId: id, job: job.kind, attempt: attempts, err: (e as Error).message, retryInMs: delay, lostClaim: lost },
        'background job failed; will retry',
      );
      await this.queue.release(id, holder, this.now() + delay).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }
}
