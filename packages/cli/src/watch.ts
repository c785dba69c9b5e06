import { SingleBar } from 'cli-progress';
import type { Schemas } from './client';
import type { Ctx } from './context';
import { CliError, EXIT } from './errors';
import { percent, sparkline } from './output';

type RolloutHistory = Schemas['RolloutHistory'];
type HistoryBucket = RolloutHistory['buckets'][number];

/** The rollout view of spec §6.3 (`GET …/rollout`). */
export type RolloutView = Schemas['Rollout'];

export type WatchStatus = 'running' | 'done' | 'suspended';

export interface Assessment {
  readonly status: WatchStatus;
  /** Endpoints that would still be offered the version (now or later) and have not reported it failed. */
  readonly remaining: number;
  /** Endpoints offered the version that have not reported yet (nor timed out). */
  readonly unreported: number;
  /** applied + failed + timedOut. */
  readonly reported: number;
}

/**
 * When is a rollout done (docs/cli.md): it is not suspended, no endpoint is left to offer —
 * preview's `now` (less the endpoints already offered the version: those that reported it failed
 * and those not reported yet) plus `later` (filter dates, phases, windows) is 0 — and every endpoint offered the
 * version has reported it (applied or failed) or timed out. Suspended: rolloutStrategy `suspended`.
 */
export function assess(r: RolloutView, counts: Readonly<Record<string, number>>): Assessment {
  const timedOut = r.timedOut ?? 0;
  const reported = r.applied + r.failed + timedOut;
  const unreported = Math.max(0, r.offered - reported);
  // `now` also holds the endpoints offered the version that have not reported (unreported) and those
  // that reported it failed (they stay eligible): neither is left to offer.
  const remaining = Math.max(0, (counts['now'] ?? 0) - r.failed - unreported) + (counts['later'] ?? 0);
  const status: WatchStatus = r.rolloutStrategy === 'suspended' ? 'suspended' : remaining === 0 && unreported === 0 ? 'done' : 'running';
  return { status, remaining, unreported, reported };
}

function bucketTotal(b: HistoryBucket): number {
  return (b.applied ?? 0) + (b.failed ?? 0) + (b.timedOut ?? 0);
}

export function historyBuckets(h: RolloutHistory): HistoryBucket[] {
  return h.buckets;
}

export interface WatchOptions {
  readonly intervalMs: number;
  readonly json: boolean;
  /** `--timeout`: give up (exit 5) when the rollout is neither done nor suspended after this long. */
  readonly timeoutMs?: number | undefined;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90`, `90s`, `500ms`, `15m`, `2h`, `1.5h` → milliseconds; undefined when not a positive duration. */
export function parseDuration(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000));
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration as `--timeout` spells it: the largest unit that divides it. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNITS[unit] ?? 1;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Polls status (and preview counts, and history when the server has it) until done (0) or
 * suspended (4), or until `timeoutMs` has passed with the rollout still running (5): the wait
 * between polls is cut at the deadline and a poll still under way then is aborted.
 */
export async function watchRollout(ctx: Ctx, appName: string, version: string, opts: WatchOptions): Promise<number> {
  const deadline = new AbortController();
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => deadline.abort(), opts.timeoutMs);
  try {
    return await poll(ctx, appName, version, opts, deadline.signal);
  } catch (e) {
    if (!deadline.signal.aborted) throw e;
    // A request aborted by the deadline, or the deadline reached between polls.
    throw new CliError(
      `rollout of ${appName} ${version} neither done nor suspended after ${formatDuration(opts.timeoutMs ?? 0)}`,
      EXIT.watchTimeout,
      'watch.timeout',
    );
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

async function poll(ctx: Ctx, appName: string, version: string, opts: WatchOptions, deadline: AbortSignal): Promise<number> {
  const path = { appName, version };
  const init = (): { signal: AbortSignal } => ({ signal: AbortSignal.any([ctx.api.init.signal, deadline]) });
  let historyAvailable = true;
  const polled: number[] = [];
  let lastReported: number | undefined;
  let lastLine = '';
  const tty = ctx.io.stdoutTty && !opts.json;
  const bar = tty
    ? new SingleBar({
        format: `${appName} ${version} [{bar}] {reported}/{total} reported | applied {applied} failed {failed} timed out {timedOut} | failure rate {rate} | {phase} | {spark}`,
        stream: process.stdout,
        hideCursor: true,
        barsize: 24,
      })
    : undefined;
  let started = false;
  for (;;) {
    const [{ data: r }, { data: preview }] = await Promise.all([
      ctx.api.call(ctx.api.client.GET('/applications/{appName}/software/{version}/rollout', { params: { path }, ...init() })),
      ctx.api.call(ctx.api.client.GET('/applications/{appName}/software/{version}/preview', { params: { path, query: { limit: 1 } }, ...init() })),
    ]);
    const rollout = r;
    const a = assess(rollout, preview.counts);
    let series: number[] = [];
    if (historyAvailable) {
      try {
        const { data: h } = await ctx.api.call(
          ctx.api.client.GET('/applications/{appName}/software/{version}/rollout/history', { params: { path, query: { bucket: 'minute' } }, ...init() }),
        );
        series = historyBuckets(h).map(bucketTotal);
      } catch (e) {
        if (!(e instanceof CliError) || e.status !== 404 || e.code !== 'route.not_found') throw e;
        historyAvailable = false;
        ctx.log('rollout history is not served here: the sparkline shows reports per poll');
      }
    }
    if (!historyAvailable) {
      if (lastReported !== undefined) polled.push(Math.max(0, a.reported - lastReported));
      lastReported = a.reported;
      series = polled;
    }
    const phase = rollout.phase
      ? `phase ${rollout.phase.index} (${rollout.phase.percent}%${rollout.phase.waitingFor ? `, waiting for ${rollout.phase.waitingFor}` : ''})`
      : 'no phases';
    const total = a.reported + a.unreported + a.remaining;
    if (opts.json) {
      ctx.io.out(
        JSON.stringify({ at: new Date().toISOString(), status: a.status, remaining: a.remaining, unreported: a.unreported, counts: preview.counts, rollout }),
      );
    } else if (bar) {
      const payload = {
        reported: a.reported,
        applied: rollout.applied,
        failed: rollout.failed,
        timedOut: rollout.timedOut ?? 0,
        rate: percent(rollout.failureRate),
        phase,
        spark: sparkline(series),
      };
      if (!started) {
        bar.start(Math.max(total, 1), a.reported, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(a.reported, payload);
      }
    } else {
      const line = `${appName} ${version}: offered ${rollout.offered} applied ${rollout.applied} failed ${rollout.failed} timedOut ${rollout.timedOut ?? 0} | failure rate ${percent(rollout.failureRate)} | remaining ${a.remaining} unreported ${a.unreported} | ${phase} | ${rollout.rolloutStrategy}`;
      if (line !== lastLine) ctx.io.out(`${line} ${sparkline(series)}`.trimEnd());
      lastLine = line;
    }
    if (a.status !== 'running' || deadline.aborted) {
      bar?.stop();
      if (a.status === 'running') throw new Error('deadline');
      if (a.status === 'suspended') {
        ctx.io.err(`otao: rollout of ${appName} ${version} suspended${rollout.suspendedReason ? `: ${rollout.suspendedReason}` : ''}`);
        return EXIT.suspended;
      }
      if (!opts.json)
        ctx.io.out(
          `rollout of ${appName} ${version} done: applied ${rollout.applied}, failed ${rollout.failed}, timed out ${rollout.timedOut ?? 0}, failure rate ${percent(rollout.failureRate)}`,
        );
      return EXIT.ok;
    }
    await sleep(opts.intervalMs, deadline);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller looks at the signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (signal.aborted) return ok();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      ok();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
