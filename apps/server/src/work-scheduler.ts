import type { OtaoCore, PushScope, WorkScheduler } from '@otao/core';
import type { Logger } from 'pino';
import type { OtaoMetrics } from './metrics';

type Job = { kind: 'pushes'; scope: PushScope } | { kind: 'bootstrap'; tenantId: string; appName: string; filterIds: readonly string[] };

const keyOf = (j: Job): string =>
  j.kind === 'pushes' ? `p\u0000${j.scope.kind}\u0000${j.scope.tenantId}\u0000${j.scope.appName}\u0000${j.scope.kind === 'filter' ? j.scope.filterId : ''}` : `b\u0000${j.tenantId}\u0000${j.appName}\u0000${[...j.filterIds].sort().join(',')}`;

/**
 * Runs the background work the core asks for (spec §4.3 pushes, §4.6 filter bootstraps), one job at
 * a time, coalescing duplicates; a failed job (store or broker down) is retried with exponential
 * backoff until it succeeds or the service stops. Never throws to the caller.
 */
export class BackgroundWorkScheduler implements WorkScheduler {
  private readonly queue = new Map<string, Job>();
  private core: OtaoCore | undefined;
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly metrics: OtaoMetrics,
    private readonly retry = { baseMs: 500, maxMs: 30_000 },
  ) {}

  /** The core is created with this scheduler as a port; it is attached afterwards. */
  attach(core: OtaoCore): void {
    this.core = core;
    this.kick();
  }

  schedulePushes(scope: PushScope): void {
    this.enqueue({ kind: 'pushes', scope });
  }

  scheduleFilterBootstrap(tenantId: string, appName: string, filterIds: readonly string[]): void {
    this.enqueue({ kind: 'bootstrap', tenantId, appName, filterIds: [...filterIds] });
  }

  /** Jobs waiting or running (for /ready details and tests). */
  get pending(): number {
    return this.queue.size + (this.running ? 1 : 0);
  }

  /** Resolves when the queue is empty (tests, graceful shutdown). */
  async idle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while ((this.queue.size > 0 || this.running) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    return this.queue.size === 0 && !this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private enqueue(job: Job): void {
    if (this.stopped) return;
    const k = keyOf(job);
    this.queue.delete(k); // re-queue at the end: the newest request wins its place
    this.queue.set(k, job);
    this.kick();
  }

  private kick(delayMs = 0): void {
    if (this.running || this.timer || !this.core || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    const core = this.core;
    if (!core || this.running) return;
    this.running = true;
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const [k, job] = this.queue.entries().next().value as [string, Job];
        this.queue.delete(k);
        let requeued = false;
        try {
          if (job.kind === 'pushes') {
            const r = await core.pushes.run(job.scope);
            this.log.info({ scope: job.scope, ...r }, 'push computation done');
          } else {
            const r = await core.endpointEvents.bootstrapFilters(job.tenantId, job.appName, job.filterIds, `bootstrap-${Date.now()}`);
            if (r.failed.length > 0) {
              const retry: Job = { ...job, filterIds: r.failed };
              this.queue.set(keyOf(retry), retry);
              requeued = true;
              throw new Error(`EFMP bootstrap failed for filters ${r.failed.join(', ')}`);
            }
            this.log.info({ tenantId: job.tenantId, appName: job.appName, loaded: r.loaded }, 'filter members loaded');
          }
          this.metrics.backgroundJobs.inc({ kind: job.kind, result: 'ok' });
          this.failures = 0;
        } catch (e) {
          this.metrics.backgroundJobs.inc({ kind: job.kind, result: 'retry' });
          if (!requeued && !this.queue.has(k)) this.queue.set(k, job);
          this.failures++;
          const delay = Math.min(this.retry.baseMs * 2 ** (this.failures - 1), this.retry.maxMs);
          this.log.warn({ job: job.kind, err: (e as Error).message, retryInMs: delay }, 'background job failed; will retry');
          this.running = false;
          this.kick(delay);
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
