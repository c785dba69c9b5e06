// DurableWorkScheduler over the core's in-memory JobQueue (the same contract as the store's), with
// a stand-in for the use cases a job runs. Time in the queue is a manual clock: a job retried later
// is claimable only once the test moves the clock, so the waits below end on an event (a run, a
// claim attempt, a release), not on a duration, and no assertion is about time.
import type { FilterBootstrapSummary, PushRunSummary, PushScope, QueuedJob } from '@otao/core';
import { InMemoryJobQueue } from '@otao/core/testing';
import pino from 'pino';
import { OtaoMetrics } from '../src/metrics';
import { DurableWorkScheduler, type JobRunner, type WorkSchedulerOptions } from '../src/work-scheduler';

const LEASE_MS = 15_000;

class ManualClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The in-memory queue, counting claim attempts (each is one turn of a worker's loop) and recording releases. */
class RecordingQueue extends InMemoryJobQueue {
  claimAttempts = 0;
  readonly releases: { id: string; holder: string; retryAt: number; at: number }[] = [];
  constructor(private readonly clock: ManualClock) {
    super();
  }
  override async claim(holder: string, now: number, leaseMs: number): Promise<QueuedJob | undefined> {
    this.claimAttempts++;
    return super.claim(holder, now, leaseMs);
  }
  override async release(id: string, holder: string, retryAt: number): Promise<void> {
    this.releases.push({ id, holder, retryAt, at: this.clock.now() });
    return super.release(id, holder, retryAt);
  }
}

type Outcome = 'ok' | 'fail' | 'superseded' | Promise<void>;

interface BootstrapCall {
  readonly tenantId: string;
  readonly appName: string;
  readonly filterIds: readonly string[];
  readonly correlationId: string;
}

/** The use cases a job runs: records each run and answers from a script (then 'ok'). */
class ScriptedRunner implements JobRunner {
  readonly pushRuns: { scope: PushScope; owner: string }[] = [];
  readonly bootstraps: BootstrapCall[] = [];
  readonly pushScript: Outcome[] = [];
  readonly bootstrapScript: ((c: BootstrapCall) => FilterBootstrapSummary | Error)[] = [];

  readonly pushes = {
    run: async (scope: PushScope, owner?: string): Promise<PushRunSummary> => {
      this.pushRuns.push({ scope, owner: owner ?? '' });
      const next = this.pushScript.shift() ?? 'ok';
      if (next === 'fail') throw new Error('store.unavailable: simulated');
      if (typeof next !== 'string') await next;
      return { examined: 1, pushed: 1, alreadyPushed: 0, superseded: next === 'superseded' };
    },
  };

  readonly endpointEvents = {
    bootstrapFilters: async (tenantId: string, appName: string, filterIds: readonly string[], correlationId: string): Promise<FilterBootstrapSummary> => {
      const call = { tenantId, appName, filterIds: [...filterIds], correlationId };
      this.bootstraps.push(call);
      const r = this.bootstrapScript.shift()?.(call) ?? { loaded: [...filterIds], failed: [] };
      if (r instanceof Error) throw r;
      return r;
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits until `cond` holds; fails the test (not a timing assertion: a deadline for an event) after 4 s (before the test times out). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 4000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const scope = (appName: string, reason = 'test'): PushScope => ({ kind: 'app', tenantId: 't1', appName, reason });

const silent = pino({ level: 'silent' });

interface Rig {
  readonly clock: ManualClock;
  readonly queue: RecordingQueue;
  readonly metrics: OtaoMetrics;
  scheduler(replicaId: string, runner: JobRunner | undefined, options?: Partial<WorkSchedulerOptions>): DurableWorkScheduler;
  /** Lets every started worker loop `n` more times (each turn tries one claim). */
  turns(n: number): Promise<void>;
}

const started: DurableWorkScheduler[] = [];

function rig(): Rig {
  const clock = new ManualClock();
  const queue = new RecordingQueue(clock);
  const metrics = new OtaoMetrics();
  return {
    clock,
    queue,
    metrics,
    scheduler(replicaId, runner, options = {}) {
      const s = new DurableWorkScheduler(queue, silent, metrics, {
        replicaId,
        leaseMs: LEASE_MS,
        pollMs: 2,
        retryBaseMs: 100,
        retryMaxMs: 350,
        now: clock.now,
        ...options,
      });
      if (runner) s.attach(runner);
      started.push(s);
      return s;
    },
    async turns(n) {
      const target = queue.claimAttempts + n;
      await until(() => queue.claimAttempts >= target, `${n} more claim attempts`);
    },
  };
}

async function jobsCounted(m: OtaoMetrics, kind: string, result: string): Promise<number> {
  return (await m.backgroundJobs.get()).values.find((v) => v.labels['kind'] === kind && v.labels['result'] === result)?.value ?? 0;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop(0)));
});

test('a scheduled push computation runs once, as its job (owner job:<id>), and leaves the queue', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  const s = r.scheduler('a', runner);
  s.start();
  s.schedulePushes(scope('kettle'));
  await until(async () => runner.pushRuns.length === 1 && (await r.queue.size()) === 0, 'the job run and completed');
  await r.turns(5);
  expect(runner.pushRuns).toEqual([{ scope: scope('kettle'), owner: expect.stringMatching(/^job:job-\d+$/) }]);
  expect(await jobsCounted(r.metrics, 'pushes', 'ok')).toBe(1);
  expect(s.localState).toEqual({ unsaved: 0, running: false });
});

test('the same scope scheduled twice while it waits is one job (whatever the reason); another scope or filter is another', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  const s = r.scheduler('a', runner);
  s.schedulePushes(scope('kettle', 'software created'));
  s.schedulePushes(scope('kettle', 'consent given'));
  await s.enqueuePushes(scope('kettle', 'rollout date'));
  s.schedulePushes(scope('toaster'));
  s.schedulePushes({ kind: 'filter', tenantId: 't1', appName: 'kettle', filterId: 'f1', reason: 'x' });
  s.schedulePushes({ kind: 'filter', tenantId: 't1', appName: 'kettle', filterId: 'f2', reason: 'x' });
  await until(() => s.localState.unsaved === 0, 'every job stored');
  expect(await r.queue.size()).toBe(4);
  s.start();
  await until(async () => (await r.queue.size()) === 0, 'the queue drained');
  await r.turns(3);
  expect(runner.pushRuns.map((p) => (p.scope.kind === 'filter' ? `${p.scope.appName}/${p.scope.filterId}` : p.scope.appName))).toEqual([
    'kettle',
    'toaster',
    'kettle/f1',
    'kettle/f2',
  ]);
});

test('a failed job is given back with exponential backoff (base, 2x, 4x… capped) and runs only when due, until it succeeds', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  runner.pushScript.push('fail', 'fail', 'fail', 'fail');
  const s = r.scheduler('a', runner);
  s.start();
  s.schedulePushes(scope('kettle'));
  const expectedDelays = [100, 200, 350, 350]; // retryBaseMs 100 * 2^(attempt-1), at most retryMaxMs 350
  for (const [i, delay] of expectedDelays.entries()) {
    await until(() => r.queue.releases.length === i + 1, `release ${i + 1}`);
    const rel = r.queue.releases[i]!;
    expect(rel.retryAt - rel.at).toBe(delay);
    // not before it is due: the worker keeps looking, the job stays put
    await r.turns(3);
    r.clock.advance(delay - 1);
    await r.turns(3);
    expect(runner.pushRuns).toHaveLength(i + 1);
    r.clock.advance(1);
    await until(() => runner.pushRuns.length === i + 2, `run ${i + 2}`);
  }
  await until(async () => (await r.queue.size()) === 0, 'completed after the fifth attempt');
  expect(new Set(runner.pushRuns.map((p) => p.owner)).size).toBe(1); // one job, run five times
  expect(await jobsCounted(r.metrics, 'pushes', 'retry')).toBe(4);
  expect(await jobsCounted(r.metrics, 'pushes', 'ok')).toBe(1);
});

test('a push computation superseded by a software change is given back at once (no backoff) and run again', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  runner.pushScript.push('superseded');
  const s = r.scheduler('a', runner);
  s.start();
  s.schedulePushes(scope('kettle'));
  await until(async () => runner.pushRuns.length === 2 && (await r.queue.size()) === 0, 'run twice and completed');
  expect(r.queue.releases).toHaveLength(1);
  expect(r.queue.releases[0]!.retryAt).toBe(r.queue.releases[0]!.at);
  expect(await jobsCounted(r.metrics, 'pushes', 'superseded')).toBe(1);
  expect(await jobsCounted(r.metrics, 'pushes', 'ok')).toBe(1);
  expect(await jobsCounted(r.metrics, 'pushes', 'retry')).toBe(0);
});

test('a filter bootstrap: the filters loaded are done, the failed ones become a job of their own; none loaded is a failure retried', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  runner.bootstrapScript.push(
    () => ({ loaded: ['f1', 'f3'], failed: ['f2'] }),
    () => ({ loaded: [], failed: ['f2'] }),
  );
  const s = r.scheduler('a', runner);
  s.start();
  s.scheduleFilterBootstrap('t1', 'kettle', ['f1', 'f2', 'f3']);
  await until(() => runner.bootstraps.length === 2, 'the failed filter run as its own job');
  expect(runner.bootstraps.map((b) => b.filterIds)).toEqual([['f1', 'f2', 'f3'], ['f2']]);
  expect(runner.bootstraps[0]!.correlationId).not.toBe(runner.bootstraps[1]!.correlationId);
  // the second run loaded nothing: retried after the backoff, with the same filter
  await until(() => r.queue.releases.length === 1, 'given back');
  expect(await jobsCounted(r.metrics, 'bootstrap', 'retry')).toBe(1);
  r.clock.advance(100);
  await until(async () => runner.bootstraps.length === 3 && (await r.queue.size()) === 0, 'retried and completed');
  expect(runner.bootstraps[2]).toMatchObject({ tenantId: 't1', appName: 'kettle', filterIds: ['f2'] });
  expect(await jobsCounted(r.metrics, 'bootstrap', 'ok')).toBe(2);
});

test('jobs are durable: stored by a scheduler that stops before running them, run by the next one over the same queue', async () => {
  const r = rig();
  const first = new ScriptedRunner();
  const a = r.scheduler('a', first, { canRun: () => false });
  a.start();
  a.schedulePushes(scope('kettle'));
  a.scheduleFilterBootstrap('t1', 'kettle', ['f1']);
  await a.stop(1000);
  expect(first.pushRuns).toHaveLength(0);
  expect(await r.queue.size()).toBe(2);

  const second = new ScriptedRunner();
  const b = r.scheduler('a', second); // the same replica, restarted
  b.start();
  await until(async () => (await r.queue.size()) === 0, 'both jobs run after the restart');
  expect(second.pushRuns.map((p) => p.scope)).toEqual([scope('kettle')]);
  expect(second.bootstraps.map((x) => x.filterIds)).toEqual([['f1']]);
});

test('a job held by a replica that died (claim never renewed) is run by another once the claim expires', async () => {
  const r = rig();
  const b = r.scheduler('b', undefined);
  await b.enqueuePushes(scope('kettle'));
  const claimed = await r.queue.claim('dead-replica', r.clock.now(), LEASE_MS);
  expect(claimed).toBeDefined();
  const runner = new ScriptedRunner();
  b.attach(runner);
  b.start();
  await r.turns(3);
  r.clock.advance(LEASE_MS - 1);
  await r.turns(3);
  expect(runner.pushRuns).toHaveLength(0);
  r.clock.advance(1);
  await until(async () => runner.pushRuns.length === 1 && (await r.queue.size()) === 0, 'taken over and completed');
  expect(runner.pushRuns[0]!.owner).toBe(`job:${claimed!.id}`);
});

test('two schedulers sharing a queue run every job exactly once, and both take part', async () => {
  const r = rig();
  const ra = new ScriptedRunner();
  const rb = new ScriptedRunner();
  const bRan = deferred();
  ra.pushScript.push(bRan.promise); // a's first job waits until b has run one: both must work
  const origRun = rb.pushes.run;
  rb.pushes.run = async (sc, owner) => {
    const out = await origRun(sc, owner);
    bRan.resolve();
    return out;
  };
  const a = r.scheduler('a', ra);
  const b = r.scheduler('b', rb);
  const apps = Array.from({ length: 20 }, (_, i) => `app-${i}`);
  for (const app of apps) await a.enqueuePushes(scope(app));
  a.start();
  b.start();
  await until(async () => ra.pushRuns.length + rb.pushRuns.length >= 20 && (await r.queue.size()) === 0, 'all 20 jobs done');
  await r.turns(5);
  const ran = [...ra.pushRuns, ...rb.pushRuns].map((p) => p.scope.appName);
  expect(ran).toHaveLength(20);
  expect(new Set(ran)).toEqual(new Set(apps));
  expect(ra.pushRuns.length).toBeGreaterThan(0);
  expect(rb.pushRuns.length).toBeGreaterThan(0);
});

test('stop waits for the running job to finish (and completes it), then claims nothing more', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  const job = deferred();
  runner.pushScript.push(job.promise);
  const s = r.scheduler('a', runner);
  await s.enqueuePushes(scope('kettle'));
  await s.enqueuePushes(scope('toaster'));
  s.start();
  await until(() => runner.pushRuns.length === 1, 'the first job running');
  let stopped = false;
  const stopping = s.stop(60_000).then(() => (stopped = true));
  // a few turns of the event loop with the job still running: stop has not returned
  for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
  expect(stopped).toBe(false);
  expect(s.localState.running).toBe(true);
  job.resolve();
  await stopping;
  expect(await r.queue.size()).toBe(1); // the running job completed; the waiting one is left for a replica
  const attempts = r.queue.claimAttempts;
  for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
  expect(r.queue.claimAttempts).toBe(attempts);
  expect(runner.pushRuns.map((p) => p.scope.appName)).toEqual(['kettle']);
});

test('stop gives up waiting after its grace period; the unfinished job stays in the queue and another replica resumes it when the claim expires', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  const hung = deferred();
  runner.pushScript.push(hung.promise);
  const a = r.scheduler('a', runner);
  a.schedulePushes(scope('kettle'));
  a.start();
  await until(() => runner.pushRuns.length === 1, 'the job running');
  await a.stop(10);
  expect(await r.queue.size()).toBe(1);
  const other = new ScriptedRunner();
  const b = r.scheduler('b', other);
  b.start();
  await r.turns(3);
  expect(other.pushRuns).toHaveLength(0); // still claimed by a
  r.clock.advance(LEASE_MS + 1);
  await until(() => other.pushRuns.length === 1, 'b resumed the job');
  await until(async () => (await r.queue.size()) === 0, 'b completed it');
  hung.resolve();
});

test('schedule* never throws: a job that cannot be stored (store down) is kept and stored when the store is back; enqueuePushes throws', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  const s = r.scheduler('a', runner);
  r.queue.faults.unavailable = true;
  expect(() => s.schedulePushes(scope('kettle'))).not.toThrow();
  expect(() => s.scheduleFilterBootstrap('t1', 'kettle', ['f1'])).not.toThrow();
  await expect(s.enqueuePushes(scope('toaster'))).rejects.toMatchObject({ code: 'store.unavailable' });
  expect(s.localState.unsaved).toBe(2);
  r.queue.faults.unavailable = false;
  await until(() => s.localState.unsaved === 0, 'the kept jobs stored');
  expect(await r.queue.size()).toBe(2);
  s.start();
  await until(async () => (await r.queue.size()) === 0, 'both run');
  expect(runner.pushRuns.map((p) => p.scope.appName)).toEqual(['kettle']);
  expect(runner.bootstraps.map((b) => b.filterIds)).toEqual([['f1']]);
});

test('the worker outlives a queue outage: claims fail, nothing runs; the job runs once the queue is back', async () => {
  const r = rig();
  const runner = new ScriptedRunner();
  const s = r.scheduler('a', runner);
  await s.enqueuePushes(scope('kettle'));
  r.queue.faults.unavailable = true;
  s.start();
  await r.turns(5);
  expect(runner.pushRuns).toHaveLength(0);
  r.queue.faults.unavailable = false;
  await until(async () => runner.pushRuns.length === 1 && (await r.queue.size()) === 0, 'the job run after the outage');
});

test('no job is claimed before the core is attached, nor while canRun says no (registry not loaded yet)', async () => {
  const r = rig();
  let loaded = false;
  let checks = 0;
  const s = r.scheduler('a', undefined, {
    canRun: () => {
      checks++;
      return loaded;
    },
  });
  await s.enqueuePushes(scope('kettle'));
  s.start();
  // not attached: the loop has nothing to report, so this is a window of about 20 polls, not an event
  for (let i = 0; i < 20; i++) await new Promise((res) => setTimeout(res, 2));
  expect(r.queue.claimAttempts).toBe(0);
  expect(checks).toBe(0);
  const runner = new ScriptedRunner();
  s.attach(runner);
  await until(() => checks >= 5, 'canRun asked five times');
  expect(r.queue.claimAttempts).toBe(0);
  expect(runner.pushRuns).toHaveLength(0);
  loaded = true;
  await until(() => runner.pushRuns.length === 1, 'the job run once the registry loaded');
});

test('stop stores the jobs kept in memory before it returns, waiting for a store write under way', async () => {
  const r = rig();
  const gate = deferred();
  const enqueue = r.queue.enqueue.bind(r.queue);
  r.queue.enqueue = async (...args) => {
    await gate.promise; // a slow store
    return enqueue(...args);
  };
  const s = r.scheduler('a', new ScriptedRunner(), { canRun: () => false });
  s.schedulePushes(scope('kettle'));
  s.schedulePushes(scope('toaster'));
  let stopped = false;
  const stopping = s.stop(0).then(() => (stopped = true));
  for (let i = 0; i < 20; i++) await new Promise((res) => setImmediate(res));
  expect(stopped).toBe(false);
  gate.resolve();
  await stopping;
  expect(s.localState.unsaved).toBe(0);
  expect(await r.queue.size()).toBe(2);
});
