// What the chaos run measured, as table rows: each asserted row has a bound and the issue-11 items
// (or spec sections) it covers; informational rows have no bound. Pure functions over ChaosFacts.
import type { PullRecord, PushRecord } from '@otao/nats-cdtp/testing';
import type { ChaosFacts, StepRecord } from './scenario';

export interface Row {
  /** Stable id: the suite has one test per asserted key. */
  readonly key: string;
  /** `run` for the whole run, else the step's name. */
  readonly section: string;
  readonly metric: string;
  readonly value: string;
  /** `= 0`, `≤ 5 000 ms`, … or empty for information. */
  readonly bound: string;
  /** null: informational, not asserted. */
  readonly pass: boolean | null;
  /** What it covers: issue-11 items and spec sections. */
  readonly covers: string;
  /** Examples and explanations for a failure message. */
  readonly detail?: string;
}

interface Window {
  readonly from: number;
  readonly to: number;
  readonly why: string;
}

const fmt = (n: number): string => n.toLocaleString('en-US').replace(/,/g, ' ');
const sample = (xs: readonly string[], n = 5): string =>
  xs.length === 0 ? '' : `${xs.slice(0, n).join('; ')}${xs.length > n ? `; … (${xs.length} in all)` : ''}`;

/** Pulls and reports in flight in a replica when it was SIGKILLed are lost with it (NATS core delivers at most once). */
function killWindows(f: ChaosFacts): Window[] {
  return f.steps.flatMap((s) => s.kills.map((k) => ({ from: k.at - 2000, to: k.at + 200, why: `in flight in ${k.replicaId} when it was SIGKILLed` })));
}

/** Pulls in flight when nats-server stopped are lost with it. */
function natsWindows(f: ChaosFacts): Window[] {
  return f.steps
    .filter((s) => s.name.startsWith('nats') && s.faultAt !== undefined)
    .map((s) => ({ from: s.faultAt! - 2000, to: (s.returnedAt ?? s.endedAt) + 2000, why: 'in flight when nats-server stopped' }));
}

const within = (t: number, ws: readonly Window[]): Window | undefined => ws.find((w) => t >= w.from && t <= w.to);

type PullClass = 'answered' | 'not-delivered' | 'not-sent' | 'lost-with-kill' | 'lost-with-nats' | 'unanswered';

function classify(p: PullRecord, kills: Window[], nats: Window[]): PullClass {
  switch (p.outcome) {
    case 'answered':
      return 'answered';
    case 'no_responders':
      return 'not-delivered';
    case 'error':
      return 'not-sent';
    case 'timeout':
      if (within(p.sentAt, kills)) return 'lost-with-kill';
      if (within(p.sentAt, nats)) return 'lost-with-nats';
      return 'unanswered';
    case 'pending':
      return 'unanswered';
  }
}

/** Time from `from` to the first good event after which every event up to `to` is good; undefined without events. */
export function recoveryMs(events: readonly { at: number; ok: boolean }[], from: number, to: number): number | undefined {
  const ev = events.filter((e) => e.at >= from && e.at <= to).sort((a, b) => a.at - b.at);
  if (ev.length === 0) return undefined;
  let lastBad = -1;
  ev.forEach((e, i) => {
    if (!e.ok) lastBad = i;
  });
  if (lastBad === ev.length - 1) return Number.POSITIVE_INFINITY;
  return Math.max(0, ev[lastBad + 1]!.at - from);
}

function stepOf(f: ChaosFacts, t: number): string {
  return f.steps.find((s) => t >= s.startedAt && t <= s.endedAt)?.name ?? 'between steps';
}

export function measure(f: ChaosFacts): Row[] {
  const rows: Row[] = [];
  const add = (r: Row): void => void rows.push(r);
  const fleet = f.fleet;
  const kills = killWindows(f);
  const nats = natsWindows(f);
  // Reports whose counting may have been cut by a SIGKILL (recorded, not yet counted): a narrower window.
  const countWindows: Window[] = f.steps.flatMap((s) =>
    s.kills.map((k) => ({ from: k.at - 500, to: k.at + 200, why: `counted in ${k.replicaId} when it was SIGKILLed` })),
  );
  const killCount = f.steps.reduce((a, s) => a + s.kills.length, 0);
  const pulls = fleet.pulls;
  const pushes = fleet.pushes;
  const rolloutOf = new Map(f.rollouts.map((r) => [r.version, r]));

  // --- faults ----------------------------------------------------------------------------------
  const stepErrors = f.steps.filter((s) => s.error !== undefined).map((s) => `${s.name}: ${s.error}`);
  add({
    key: 'faults',
    section: 'run',
    metric: 'faults injected as planned (steps without an error)',
    value: `${f.steps.length - stepErrors.length} of ${f.steps.length}`,
    bound: 'all',
    pass: stepErrors.length === 0,
    covers: 'the suite itself',
    ...(stepErrors.length ? { detail: sample(stepErrors) } : {}),
  });

  // --- pushes ----------------------------------------------------------------------------------
  const pairs = new Map<string, PushRecord[]>();
  for (const p of pushes) {
    const k = `${p.endpointId}\u0000${p.version}`;
    const list = pairs.get(k);
    if (list) list.push(p);
    else pairs.set(k, [p]);
  }
  const lost: string[] = [];
  let lostConfirmed = 0;
  for (const r of f.rollouts) {
    for (const id of r.eligible) {
      if (fleet.endpoints.get(id)!.offers.has(r.version)) continue;
      const confirmed = f.stored.get(id)?.pushed.includes(r.version) ?? false;
      if (confirmed) lostConfirmed++;
      lost.push(`${id} ${r.version} (${confirmed ? 'marked pushed in the store, never received' : 'never pushed'})`);
    }
  }
  add({
    key: 'pushes.lost',
    section: 'run',
    metric: 'pushes lost: eligible endpoints neither pushed nor pulled their version',
    value: lost.length === 0 ? '0' : `${fmt(lost.length)} (${fmt(lostConfirmed)} marked pushed)`,
    bound: '= 0',
    pass: lost.length === 0,
    covers: 'items 2, 3, 6 (§4.3 never lost)',
    ...(lost.length
      ? {
          detail: `by version: ${f.rollouts.map((r) => `${r.version} ${lost.filter((l) => l.includes(` ${r.version} `)).length}`).join(', ')}; ${sample(lost)}`,
        }
      : {}),
  });

  const ineligible = pushes.filter((p) => !(rolloutOf.get(p.version)?.eligible.has(p.endpointId) ?? false));
  add({
    key: 'pushes.ineligible',
    section: 'run',
    metric: 'pushes to endpoints not eligible for the version',
    value: fmt(ineligible.length),
    bound: '= 0',
    pass: ineligible.length === 0,
    covers: '§3, §4.3',
    ...(ineligible.length ? { detail: sample(ineligible.map((p) => `${p.endpointId} ${p.version} from ${p.replicaId}`)) } : {}),
  });

  const duplicates = pushes.length - pairs.size;
  const dupByStep = new Map<string, number>();
  for (const list of pairs.values()) {
    for (const p of [...list].sort((a, b) => a.receivedAt - b.receivedAt).slice(1))
      dupByStep.set(stepOf(f, p.receivedAt), (dupByStep.get(stepOf(f, p.receivedAt)) ?? 0) + 1);
  }
  const dupBound = killCount * f.settings.pushWindow;
  add({
    key: 'pushes.duplicates',
    section: 'run',
    metric: `duplicate pushes (one push window, ${fmt(f.settings.pushWindow)}, per SIGKILL: ${killCount})`,
    value: fmt(duplicates),
    bound: `≤ ${fmt(dupBound)}`,
    pass: duplicates <= dupBound,
    covers: 'item 3 (once in normal operation, at least once across a crash)',
    detail: `received during: ${[...dupByStep].map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}`,
  });

  // A push may be sent twice only across a failure: its first sender died or restarted, or NATS or
  // the store was down between the two copies (the first send could not be confirmed). A second
  // copy without any of these comes from two owners of the same work at once (a job claim or the
  // rollout-date lease taken from a live holder) or from a confirmation lost otherwise.
  const failures: { from: number; to: number; replicaId?: string; what: string }[] = [
    ...f.replicas.flatMap((r) => r.exits.map((x) => ({ from: x.at - 1000, to: x.at, replicaId: r.replicaId, what: `${r.replicaId} exited` }))),
    ...f.steps
      .filter((st) => (st.name.startsWith('nats') || st.name === 'store') && st.faultAt !== undefined)
      .map((st) => ({ from: st.faultAt!, to: (st.returnedAt ?? st.endedAt) + 5000, what: `${st.name} outage` })),
  ];
  const unexplained: string[] = [];
  for (const list of pairs.values()) {
    const sorted = [...list].sort((a, b) => a.timestamp - b.timestamp);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      const explained = failures.some((x) => x.from <= b.timestamp && x.to >= a.timestamp && (x.replicaId === undefined || x.replicaId === a.replicaId));
      if (!explained)
        unexplained.push(
          `${b.endpointId} ${b.version}: ${a.replicaId} then ${b.replicaId} ${((b.timestamp - a.timestamp) / 1000).toFixed(1)} s later (${stepOf(f, b.receivedAt)})`,
        );
    }
  }
  add({
    key: 'pushes.unexplained',
    section: 'run',
    metric: 'pushes sent twice with no failure between the two copies (no crash of the sender, no NATS or store outage)',
    value: fmt(unexplained.length),
    bound: '= 0',
    pass: unexplained.length === 0,
    covers: 'items 4, 5 (one holder per job and lease, renewed while working); §4.3 once in normal operation',
    ...(unexplained.length ? { detail: sample(unexplained) } : {}),
  });

  for (const c of f.checkpoints) {
    add({
      key: `checkpoint.${c.version}`,
      section: 'run',
      metric: `eligible endpoints not offered ${c.version} once the jobs the change caused had completed (${c.name})`,
      value: c.at === undefined ? 'its jobs did not complete' : `${fmt(c.missing)} of ${fmt(c.eligible)}`,
      bound: '= 0',
      pass: c.at !== undefined && c.missing === 0,
      covers: 'item 2 (a job sees the change that triggered it)',
      ...(c.missing ? { detail: `e.g. ${c.examples.join(', ')}; a job that completes without pushing is healed only by an unrelated later change` } : {}),
    });
  }

  const susp = f.suspension;
  const afterSuspension = susp ? pushes.filter((p) => p.version === '2.0.0' && p.timestamp > susp.storedAt && p.timestamp < susp.resumeRequestedAt) : [];
  add({
    key: 'pushes.suspended',
    section: 'suspend',
    metric: 'pushes of 2.0.0 published after its suspension was stored (until the resume)',
    value: susp ? (susp.status === 200 ? fmt(afterSuspension.length) : `suspend answered ${susp.status}`) : 'not measured',
    bound: '= 0',
    pass: susp !== undefined && susp.status === 200 && afterSuspension.length === 0 && susp.pushedBefore < susp.eligible,
    covers: 'item 1 (§4.3 suspension stops the push job)',
    ...(susp
      ? {
          detail: `${susp.pushedBefore} of ${susp.eligible} endpoints pushed before the suspension; after it: ${afterSuspension.length}, by ${[...new Set(afterSuspension.map((p) => p.replicaId))].join(', ') || 'nobody'}, the last ${
            afterSuspension.length ? `${((Math.max(...afterSuspension.map((p) => p.timestamp)) - susp.storedAt) / 1000).toFixed(1)} s after` : '-'
          }`,
        }
      : {}),
  });

  const rate = maxRate(pushes, 5000);
  add({
    key: 'pushes.rate',
    section: 'run',
    metric: 'highest push rate over 5 s windows, all replicas together',
    value: `${rate.toFixed(1)}/s`,
    bound: `(OTAO_PUSH_RATE_PER_SECOND ${f.settings.pushRate})`,
    pass: null,
    covers: 'item 5 (one rate for the service) — not asserted: no timing assertions',
  });

  // --- pulls and REST --------------------------------------------------------------------------
  const classes = new Map<PullClass, PullRecord[]>();
  for (const p of pulls) {
    const c = classify(p, kills, nats);
    const list = classes.get(c);
    if (list) list.push(p);
    else classes.set(c, [p]);
  }
  const unansweredPulls = classes.get('unanswered') ?? [];
  const restNoAnswer = f.probes.filter((p) => p.status === 'no-answer');
  add({
    key: 'requests.unanswered',
    section: 'run',
    metric: 'requests without an answer (CDTP pulls delivered to OTAO; REST calls to a running replica)',
    value: `${fmt(unansweredPulls.length + restNoAnswer.length)} (${fmt(unansweredPulls.length)} pulls, ${fmt(restNoAnswer.length)} REST)`,
    bound: '= 0',
    pass: unansweredPulls.length + restNoAnswer.length === 0,
    covers: '§4.2 step 7, §10 (503 is an answer); item 10 (overflow)',
    detail: `${sample([...unansweredPulls.map((p) => `pull ${p.endpointId} sent in ${stepOf(f, p.sentAt)}`), ...restNoAnswer.map((p) => `${p.kind} ${p.replicaId} in ${stepOf(f, p.sentAt)}`)])}; not counted: ${fmt((classes.get('lost-with-kill') ?? []).length)} pulls in flight in a SIGKILLed replica, ${fmt((classes.get('lost-with-nats') ?? []).length)} in flight when nats-server stopped, ${fmt((classes.get('not-delivered') ?? []).length)} refused by NATS (no replica subscribed), ${fmt((classes.get('not-sent') ?? []).length)} not sent (fleet offline)`,
  });

  const answered = classes.get('answered') ?? [];
  const notFound = answered.filter((p) => p.statusCode === 404);
  add({
    key: 'pulls.404',
    section: 'run',
    metric: 'pulls answered 404 for a known application version (registry not loaded)',
    value: fmt(notFound.length),
    bound: '= 0',
    pass: notFound.length === 0,
    covers: 'item 6 (§10: 503, not 404, before the registry loads)',
    ...(notFound.length
      ? {
          detail: `in steps ${[...new Set(notFound.map((p) => stepOf(f, p.sentAt)))].join(', ')}: ${sample(
            notFound.map((p) => `${p.endpointId} "${p.reasonPhrase ?? ''}"`),
            2,
          )}`,
        }
      : {}),
  });
  const byStatus = new Map<number, number>();
  for (const p of answered) byStatus.set(p.statusCode!, (byStatus.get(p.statusCode!) ?? 0) + 1);
  add({
    key: 'pulls.statuses',
    section: 'run',
    metric: 'pulls answered, by status',
    value: [...byStatus]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${fmt(n)}`)
      .join(', '),
    bound: '',
    pass: null,
    covers: `${fmt(pulls.length)} pulls in all, ${fmt(pulls.filter((p) => p.boot).length)} at boot`,
  });

  // --- reports ---------------------------------------------------------------------------------
  const lostReports: string[] = [];
  const lostWithKill: { endpointId: string; version: string; applied: boolean }[] = [];
  for (const e of fleet.endpoints.values()) {
    const sent = e.reports.filter((r) => r.sentAt !== undefined);
    const last = sent[sent.length - 1];
    if (!last) continue;
    const s = f.stored.get(e.spec.endpointId)?.lastReport;
    if (s && s.configId === last.version && s.statusCode === last.statusCode) continue;
    if (within(last.sentAt!, kills)) lostWithKill.push({ endpointId: e.spec.endpointId, version: last.version, applied: last.statusCode < 300 });
    else
      lostReports.push(
        `${e.spec.endpointId} ${last.version} ${last.statusCode} sent in ${stepOf(f, last.sentAt!)} (stored: ${s ? `${s.configId} ${s.statusCode}` : 'none'})`,
      );
  }
  const unsent = fleet.reports.filter((r) => r.sentAt === undefined).length;
  add({
    key: 'reports.lost',
    section: 'run',
    metric: 'ConfigApplied reports sent by the fleet and not stored by OTAO',
    value: fmt(lostReports.length),
    bound: '= 0',
    pass: lostReports.length === 0,
    covers: 'items 6, 7 (events wait for the registry, retried while the store is down)',
    detail: `${lostReports.length ? `${sample(lostReports)}; ` : ''}not counted: ${lostWithKill.length} sent within 2 s before a SIGKILL of the replica that may have held them (NATS core delivers once); ${unsent} never sent (the fleet's hold)`,
  });

  const storeStep = f.steps.find((s) => s.name === 'store');
  const notApplied = f.outageEvents.filter((e) => !(f.stored.get(e.endpointId)?.filters.includes(f.outageFilter) ?? false));
  add({
    key: 'events.outage',
    section: 'store',
    metric: '18/EFE ep-matched events sent while the store was down and not applied',
    value: `${fmt(notApplied.length)} of ${fmt(f.outageEvents.length)}`,
    bound: '= 0',
    pass: f.outageEvents.length > 0 && notApplied.length === 0,
    covers: 'item 7 (events retried for OTAO_EVENT_RETRY_SECONDS, default 600)',
    ...(notApplied.length && storeStep?.returnedAt
      ? {
          detail: `sent ${((storeStep.returnedAt - Math.max(...notApplied.map((e) => e.sentAt))) / 1000).toFixed(1)}–${((storeStep.returnedAt - Math.min(...notApplied.map((e) => e.sentAt))) / 1000).toFixed(1)} s before the store returned: ${sample(notApplied.map((e) => e.endpointId))}`,
        }
      : {}),
  });

  // --- counters ----------------------------------------------------------------------------------
  for (const r of f.rollouts) {
    const seen = fleet.summary(r.version);
    const c = f.counters[r.version];
    // offers OTAO recorded that the fleet never saw: answers lost with a killed replica or nats-server
    let unseenExplained = 0;
    const unseenOther: string[] = [];
    for (const [id, s] of f.stored) {
      if (!s.offered.includes(r.version) || fleet.endpoints.get(id)?.offers.has(r.version)) continue;
      const lostPull = pulls.some(
        (p) => p.endpointId === id && (classify(p, kills, nats) === 'lost-with-kill' || classify(p, kills, nats) === 'lost-with-nats'),
      );
      if (lostPull) unseenExplained++;
      else unseenOther.push(id);
    }
    const expected = {
      offered: seen.offered + unseenExplained,
      applied: seen.applied - lostWithKill.filter((l) => l.version === r.version && l.applied).length,
      failed: seen.failed - lostWithKill.filter((l) => l.version === r.version && !l.applied).length,
    };
    let markedOffered = 0;
    let markedPushed = 0;
    for (const s of f.stored.values()) {
      if (s.offered.includes(r.version)) markedOffered++;
      if (s.pushed.includes(r.version)) markedPushed++;
    }
    // Reports stored but possibly not yet counted when their replica was SIGKILLed: recording and
    // counting are two writes, and NATS core does not deliver the report again (docs/operations.md,
    // "crash windows"). Each such report may be missing from the counter — never counted twice.
    const inFlight = (applied: boolean): number => {
      let n = 0;
      for (const e of fleet.endpoints.values()) {
        const sent = e.reports.filter((x) => x.sentAt !== undefined);
        const last = sent[sent.length - 1];
        if (!last || last.version !== r.version || last.statusCode < 300 !== applied) continue;
        const stored = f.stored.get(e.spec.endpointId)?.lastReport;
        if (stored?.configId === last.version && stored.statusCode === last.statusCode && within(last.sentAt!, countWindows)) n++;
      }
      return n;
    };
    const slack = { applied: inFlight(true), failed: inFlight(false), offered: 0 };
    // Pushes confirmed when the store stopped: the confirmation (which counts the offer) may have
    // been stored with its answer lost; the retried slice finds the endpoints confirmed and does not
    // count them again. Each may be missing from `offered` — never counted twice.
    const storeStops = f.steps
      .filter((s) => s.name === 'store' && s.faultAt !== undefined)
      .map((s) => ({ from: s.faultAt! - 1000, to: s.faultAt! + 1000, why: 'confirmed when the store stopped' }));
    slack.offered = new Set(pushes.filter((p) => p.version === r.version && within(p.receivedAt, storeStops)).map((p) => p.endpointId)).size;
    const near = (got: number, want: number, less: number): boolean => got <= want && got >= want - less;
    // A report sent within a kill window and not found as the endpoint's last stored report may still
    // have been counted before the replica died (the measure cannot tell from the final state): the
    // count may then reach what the fleet saw — never more (each endpoint once per version).
    const upTo = (got: number, want: number, less: number, seenByFleet: number): boolean => got <= Math.max(want, seenByFleet) && got >= want - less;
    const ok =
      c !== undefined &&
      !('error' in c) &&
      near(c.offered, expected.offered, slack.offered) &&
      upTo(c.applied, expected.applied, slack.applied, seen.applied) &&
      upTo(c.failed, expected.failed, slack.failed, seen.failed);
    add({
      key: `counters.${r.version}`,
      section: 'run',
      metric: `rollout counters of ${r.version} (${r.strategy}) = what the fleet saw: offered/applied/failed`,
      value:
        c === undefined
          ? 'not read'
          : 'error' in c
            ? c.error
            : `OTAO ${c.offered}/${c.applied}/${c.failed}, fleet ${expected.offered}/${expected.applied}/${expected.failed}`,
      bound: `equal (offered: up to ${slack.offered} fewer, pushes confirmed within 1 s of the store stopping; applied/failed: up to ${slack.applied}/${slack.failed} fewer, reports stored within 0.5 s before a SIGKILL, and up to what the fleet saw for reports sent within a kill window)`,
      pass: ok,
      covers: 'items 6, 7 (§4.8 each report counted once)',
      detail: `fleet: ${seen.offered} offered (${seen.offeredByPush} by push, ${seen.offeredByPull} by pull), ${seen.applied} applied, ${seen.failed} failed; store marks: ${markedOffered} endpoints marked offered, ${markedPushed} marked pushed; ${unseenExplained} offers recorded whose answer was lost with a killed replica or nats-server counted as seen${unseenOther.length ? `; offers recorded but never seen: ${sample(unseenOther)}` : ''}`,
    });
  }

  // --- jobs, crashes -----------------------------------------------------------------------------
  add({
    key: 'jobs.stuck',
    section: 'run',
    metric: 'jobs left in the jobs collection after settling',
    value: fmt(f.jobsLeft.length),
    bound: '= 0',
    pass: f.jobsLeft.length === 0,
    covers: 'items 4, 6 (no job jams; jobs wait for the registry)',
    ...(f.jobsLeft.length ? { detail: sample(f.jobsLeft) } : {}),
  });
  const crashes = f.replicas.flatMap((r) =>
    r.exits
      .filter((x) => !x.expected)
      .map((x) => `${r.replicaId} exited by itself with code ${x.code} (signal ${x.signal}) during ${stepOf(f, x.at)}; log ${r.logFile}`),
  );
  add({
    key: 'crashes',
    section: 'run',
    metric: 'server crashes (a replica exiting by itself)',
    value: fmt(crashes.length),
    bound: '= 0',
    pass: crashes.length === 0,
    covers: 'item 9 (S3 unreachable at start), §10 no crash',
    ...(crashes.length ? { detail: sample(crashes) } : {}),
  });
  add({
    key: 'settled',
    section: 'settle',
    metric: 'settled (every rollout reached its endpoints, no job left)',
    value: `${f.settled.ok ? 'yes' : 'no'} after ${(f.settled.waitedMs / 1000).toFixed(0)} s`,
    bound: '',
    pass: null,
    covers: f.settled.waiting,
  });

  // --- per step ------------------------------------------------------------------------------------
  const cdtpEvents = pulls
    .filter((p) => !p.boot && p.outcome !== 'error')
    .map((p) => ({ at: p.answeredAt ?? p.sentAt, ok: p.outcome === 'answered' && p.statusCode === 200 }));
  const restEvents = f.probes.filter((p) => p.kind === 'rest' && p.status !== 'refused').map((p) => ({ at: p.at, ok: p.status === 200 }));
  const uploadEvents = f.probes
    .filter((p) => p.kind === 'upload' && p.status !== 'refused')
    .map((p) => ({ at: p.at, ok: p.status === 200 || p.status === 201 }));
  const recoveryRow = (s: StepRecord, kind: string, events: { at: number; ok: boolean }[], what: string, covers: string): void => {
    const ms = s.returnedAt === undefined ? undefined : recoveryMs(events, s.returnedAt, s.endedAt);
    const bound = f.settings.recoveryBoundMs;
    add({
      key: `recovery.${s.name}.${kind}`,
      section: s.name,
      metric: `time until ${what} again after ${s.name === 's3' ? 'S3' : s.name.startsWith('nats') ? 'NATS' : s.name === 'tekton' ? 'Tekton' : 'the store'} returned`,
      value: ms === undefined ? 'not measured' : Number.isFinite(ms) ? `${fmt(Math.round(ms))} ms` : 'not within the step',
      bound: `≤ ${fmt(bound)} ms`,
      pass: ms !== undefined && ms <= bound,
      covers,
    });
  };
  for (const s of f.steps) {
    if (s.name === 'nats' || s.name === 'nats-create') recoveryRow(s, 'cdtp', cdtpEvents, 'every pull is answered 200', '§10 NATS restart');
    if (s.name === 'store') {
      recoveryRow(s, 'cdtp', cdtpEvents, 'every pull is answered 200', 'item 7, §10 store unavailable');
      recoveryRow(s, 'rest', restEvents, 'every REST read is answered 200', '§10 store unavailable');
    }
    if (s.name === 's3') recoveryRow(s, 'upload', uploadEvents, 'uploads succeed', 'item 9, §10 S3 unavailable');
    if (s.name === 'tekton') {
      recoveryRow(s, 'cdtp', cdtpEvents, 'every pull is answered 200', 'item 6, §10 registry not loaded');
      recoveryRow(s, 'rest', restEvents, 'every REST read is answered 200', 'item 6, §10 registry not loaded');
    }
    const inStep = <T extends { sentAt: number }>(xs: readonly T[]): T[] => xs.filter((x) => x.sentAt >= s.startedAt && x.sentAt <= s.endedAt);
    const stepPulls = inStep(pulls.filter((p) => !p.boot));
    const statuses = new Map<string, number>();
    for (const p of stepPulls) {
      const c = classify(p, kills, nats);
      const k = c === 'answered' ? String(p.statusCode) : c;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
    const stepPushes = pushes.filter((p) => p.receivedAt >= s.startedAt && p.receivedAt <= s.endedAt);
    const byVersion = new Map<string, number>();
    for (const p of stepPushes) byVersion.set(p.version, (byVersion.get(p.version) ?? 0) + 1);
    const rest = inStep(f.probes.filter((p) => p.kind === 'rest'));
    const restStatuses = new Map<string, number>();
    for (const p of rest) restStatuses.set(String(p.status), (restStatuses.get(String(p.status)) ?? 0) + 1);
    add({
      key: `step.${s.name}`,
      section: s.name,
      metric: `${((s.endedAt - s.startedAt) / 1000).toFixed(0)} s: pulls by outcome; pushes by version; REST reads by status`,
      value: `pulls ${[...statuses].map(([k, n]) => `${k}: ${n}`).join(', ') || '-'}; pushes ${[...byVersion].map(([k, n]) => `${k}: ${n}`).join(', ') || '-'}; REST ${[...restStatuses].map(([k, n]) => `${k}: ${n}`).join(', ') || '-'}`,
      bound: '',
      pass: null,
      covers: s.notes.join(' · ') + (s.error ? ` · ERROR ${s.error}` : ''),
    });
    if (s.name === 'garbage' && f.garbage) {
      add({
        key: 'garbage.drops',
        section: s.name,
        metric: 'garbage messages sent / drops counted by the replicas (otao_dropped_messages_total)',
        value: `${fmt(f.garbage.sent)} / ${fmt(f.garbage.droppedDelta)} (expected ${fmt(f.garbage.expectedDrops)} if none decoded)`,
        bound: '',
        pass: null,
        covers: `${f.garbage.answers} answers to garbage requests (a random payload may decode)`,
      });
    }
  }
  const deadlocks = f.replicas.reduce((a, r) => a + r.deadlocks, 0);
  add({
    key: 'store.deadlocks',
    section: 'run',
    metric: 'store operations refused by PostgreSQL with "deadlock detected" (replica logs)',
    value: fmt(deadlocks),
    bound: '',
    pass: null,
    covers: 'each one fails its request (503), event (retried) or job (retried: a push batch may be re-sent)',
  });
  add({
    key: 'fleet.downloads',
    section: 'run',
    metric: 'downloads through presigned links: done / failed attempts (retried) / given up',
    value: `${fmt(fleet.downloads.ok)} / ${fmt(fleet.downloads.failedAttempts)} / ${fmt(fleet.downloads.gaveUp)}`,
    bound: '',
    pass: null,
    covers: `${fleet.stray.undecodable} undecodable ConfigUpdated, ${fleet.stray.unknownEndpoint} for unknown endpoints`,
  });
  return rows;
}

/** The highest number of pushes received in any window of `windowMs`, per second. */
function maxRate(pushes: readonly PushRecord[], windowMs: number): number {
  const t = pushes.map((p) => p.receivedAt).sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    while (t[i]! - t[j]! > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best / (windowMs / 1000);
}

/** The table: metric, value, bound, result, covers; grouped by section. */
export function formatTable(rows: readonly Row[]): string {
  // the steps in the order they ran (their `step.<name>` rows are added in that order), then any other section
  const stepOrder = rows.filter((r) => r.key.startsWith('step.')).map((r) => r.section);
  const order = [...new Set(['run', ...stepOrder, ...rows.map((r) => r.section)])];
  const cols = rows.map((r) => [r.metric, r.value, r.bound, r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL', r.covers] as const);
  const width = [0, 1, 2, 3].map((i) => Math.min(i === 0 ? 78 : i === 1 ? 60 : 24, Math.max(...cols.map((c) => c[i]!.length))));
  const cell = (s: string, w: number): string => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const lines: string[] = [];
  const header = `${cell('metric', width[0]!)} | ${cell('value', width[1]!)} | ${cell('bound', width[2]!)} | ${cell('result', width[3]!)} | covers`;
  lines.push(header, '-'.repeat(Math.min(header.length + 40, 240)));
  for (const s of order) {
    const group = rows.filter((r) => r.section === s);
    if (group.length === 0) continue;
    lines.push(s === 'run' ? '[whole run]' : `[step ${s}]`);
    for (const r of group) {
      lines.push(
        `${cell(r.metric, width[0]!)} | ${cell(r.value, width[1]!)} | ${cell(r.bound, width[2]!)} | ${cell(r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL', width[3]!)} | ${r.covers}`,
      );
    }
  }
  const failed = rows.filter((r) => r.pass === false);
  if (failed.length) {
    lines.push('', 'Failed:');
    for (const r of failed) lines.push(`- ${r.metric} = ${r.value} (bound ${r.bound}; ${r.covers})${r.detail ? `: ${r.detail}` : ''}`);
  }
  return lines.join('\n');
}
