/**
 * Phased rollouts (spec §4.10, §6.3) through the use cases of the core, over the in-memory fakes
 * with a fixed clock: a fleet walks 1 % → 10 % → 50 % → 100 %, and no endpoint outside the open
 * cohort is ever offered the version, by a pull or a push.
 */
import { cohortOf, type ConfigDecision, openPercent, type Software } from '@otao/core';
import { createTestOtao, endpointState, PlainSha256, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

const MIN = 60_000;
const FLEET = 2000;
const ids = Array.from({ length: FLEET }, (_, i) => `ep-${String(i).padStart(4, '0')}`);
const cohort = (ep: string): number => cohortOf(new PlainSha256(), TEST_TENANT, TEST_APP, ep);
const inside = (percent: number): string[] => ids.filter((ep) => cohort(ep) < percent);

type Overrides = Parameters<typeof softwareBody>[2];

async function create(t: TestOtao, version: string, from: readonly string[] = [], overrides: Overrides = {}): Promise<void> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, overrides), `create-${version}`);
  if (!r.ok) throw new Error(`create ${version}: ${r.error.code} ${r.error.message}`);
}

async function sw(t: TestOtao, version: string): Promise<Software> {
  const s = await t.software.get(TEST_TENANT, TEST_APP, version);
  if (!s) throw new Error(`no ${version}`);
  return s;
}

async function rollout(t: TestOtao, version: string) {
  const r = await t.core.insight.rollout(TEST_TENANT, TEST_APP, version);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

/**
 * A fleet on 1.0.0 and a watchdog: every pull answer and every push of `version` is checked against
 * the cohort open when it was made.
 */
function fleet(t: TestOtao, version: string) {
  for (const ep of ids) t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, ep, { appVersionName: TEST_APP_VERSION, currentVersion: '1.0.0' }));
  let seenPushes = 0;
  const offeredTo = new Set<string>();
  const check = async (): Promise<void> => {
    const percent = openPercent(await sw(t, version));
    const suspended = (await sw(t, version)).rolloutStrategy === 'suspended';
    for (const p of t.publisher.pushes.slice(seenPushes)) {
      if (p.version !== version) continue;
      expect(suspended).toBe(false);
      if (!(cohort(p.endpointId) < percent)) throw new Error(`${p.endpointId} (cohort ${cohort(p.endpointId)}) pushed ${version} while ${percent} % was open`);
      offeredTo.add(p.endpointId);
    }
    seenPushes = t.publisher.pushes.length;
  };
  return {
    offeredTo,
    /** Runs queued pushes and checks them. */
    async drain(): Promise<void> {
      await t.drain();
      await check();
    },
    /** Every endpoint still on 1.0.0 pulls; offers of `version` must be inside the open cohort. Returns who was offered it. */
    async pullAll(): Promise<string[]> {
      const s = await sw(t, version);
      const percent = s.rolloutStrategy === 'suspended' ? 0 : openPercent(s);
      const offered: string[] = [];
      for (const ep of ids) {
        const state = await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: ep });
        if (state?.currentVersion !== '1.0.0') continue;
        const d: ConfigDecision = await t.core.config.decide({
          appVersionName: TEST_APP_VERSION,
          endpointId: ep,
          configId: '1.0.0',
          correlationId: `pull-${ep}`,
        });
        if (d.ok && d.value.outcome === 'new' && d.value.configId === version) {
          if (!(cohort(ep) < percent)) throw new Error(`${ep} (cohort ${cohort(ep)}) offered ${version} on a pull while ${percent} % was open`);
          offered.push(ep);
        }
      }
      return offered;
    },
    /** These endpoints report `version` (applied unless listed in `failing`). */
    async report(eps: readonly string[], failing: ReadonlySet<string> = new Set()): Promise<void> {
      for (const ep of eps) {
        await t.core.reports.applied({
          appVersionName: TEST_APP_VERSION,
          endpointId: ep,
          configId: version,
          statusCode: failing.has(ep) ? 500 : 200,
          correlationId: `report-${ep}`,
        });
      }
      await this.drain();
    },
  };
}

const PHASES = [
  { percent: 1, soakMinutes: 60 },
  { percent: 10, soakMinutes: 60 },
  { percent: 50, soakMinutes: 120 },
  { percent: 100, soakMinutes: 0 },
];

describe('a phased rollout over 2 000 endpoints (fixed clock)', () => {
  test('1 % → 10 % → 50 % → 100 %: advances on soak and gate, stops while held, resumes; only the open cohort is ever offered', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    const f = fleet(t, '2.0.0');
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: PHASES, phaseGate: { maxFailureRate: 0.2, minReports: 10 } });
    const opened0 = t.clock.now();
    await f.drain();
    // phase 0: exactly the endpoints below 1 % are pushed, and only they get it on a pull
    expect([...f.offeredTo].sort()).toEqual(inside(1));
    expect((await f.pullAll()).sort()).toEqual(inside(1));
    expect(inside(1).length).toBeGreaterThan(10); // ~20 of 2 000

    // soaking: no advance; the view says so and when it is next checked
    let run = await t.core.phases.tick('r1');
    expect(run).toMatchObject({ ran: true, advanced: 0, nextCheckAt: opened0 + 60 * MIN });
    expect((await rollout(t, '2.0.0')).phase).toEqual({
      index: 0,
      percent: 1,
      openedAt: opened0,
      hold: false,
      waitingFor: 'soak',
      nextCheckAt: opened0 + 60 * MIN,
    });
    t.clock.advance(59 * MIN);
    expect((await t.core.phases.tick('r1')).advanced).toBe(0);

    // soak over, but too few reports for the gate
    t.clock.advance(MIN);
    await f.report(inside(1).slice(0, 5));
    expect((await t.core.phases.tick('r1')).advanced).toBe(0);
    expect((await rollout(t, '2.0.0')).phase).toMatchObject({ waitingFor: 'reports', nextCheckAt: t.clock.now() + t.core.options.phaseCheckMs });
    // another replica does not run while r1 holds the lease
    expect(await t.replica().phases.tick('r2')).toEqual({ ran: false, advanced: 0, caughtUp: 0 });

    // enough reports: the next tick opens 10 %, publishes phase-advanced and pushes to exactly the new cohort
    await f.report(inside(1).slice(5));
    run = await t.core.phases.tick('r1');
    expect(run.advanced).toBe(1);
    expect(t.events.events.at(-1)).toMatchObject({ type: 'phase-advanced', version: '2.0.0' });
    const pushedBefore = new Set(f.offeredTo);
    await f.drain();
    expect([...f.offeredTo].filter((ep) => !pushedBefore.has(ep)).sort()).toEqual(inside(10).filter((ep) => cohort(ep) >= 1));
    expect((await sw(t, '2.0.0')).phase).toEqual({ index: 1, openedAt: t.clock.now(), hold: false });
    expect((await f.pullAll()).sort()).toEqual(
      inside(10)
        .filter((ep) => cohort(ep) >= 1)
        .sort(),
    );
    await f.report(inside(10).filter((ep) => cohort(ep) >= 1));

    // held: soak passes, the gate passes, nothing advances; the view says hold without a next check
    const held = await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true, reason: 'watching the support queue' }, 'hold-1');
    expect(held.ok && held.value.phase).toMatchObject({ index: 1, percent: 10, hold: true, holdReason: 'watching the support queue', waitingFor: 'hold' });
    expect(held.ok && held.value.phase?.nextCheckAt).toBeUndefined();
    t.clock.advance(6 * 60 * MIN);
    expect((await t.core.phases.tick('r1')).advanced).toBe(0);
    expect((await sw(t, '2.0.0')).phase?.index).toBe(1);
    expect(await f.pullAll()).toEqual([]);

    // resumed: the soak is long over and the gate passes, so the next tick opens 50 %
    const resumed = await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: false }, 'resume-1');
    expect(resumed.ok && resumed.value.phase).toMatchObject({ index: 1, hold: false, waitingFor: 'gate' });
    expect(resumed.ok && resumed.value.phase?.holdReason).toBeUndefined();
    expect((await t.core.phases.tick('r1')).advanced).toBe(1);
    await f.drain();
    expect(f.offeredTo.size).toBe(inside(50).length);
    await f.report(inside(50).filter((ep) => cohort(ep) >= 10));

    // 50 % soaks 120 min; then 100 % opens, and its soak of 0 makes nothing more happen: done
    t.clock.advance(119 * MIN);
    expect((await t.core.phases.tick('r1')).advanced).toBe(0);
    t.clock.advance(MIN);
    expect((await t.core.phases.tick('r1')).advanced).toBe(1);
    await f.drain();
    expect(f.offeredTo.size).toBe(FLEET);
    expect((await rollout(t, '2.0.0')).phase).toMatchObject({ index: 3, percent: 100, waitingFor: 'done' });
    run = await t.core.phases.tick('r1');
    expect(run.advanced).toBe(0);
    expect(run.nextCheckAt).toBeUndefined();
    // each endpoint was pushed 2.0.0 exactly once
    expect(t.publisher.pushes.filter((p) => p.version === '2.0.0')).toHaveLength(FLEET);
    expect(t.events.events.filter((e) => e.type === 'phase-advanced')).toHaveLength(3);
  });

  test('the failure policy trips mid-phase: suspended, never advanced again, nobody else offered', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    const f = fleet(t, '2.0.0');
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: PHASES, failurePolicy: { maxFailureRate: 0.3, minReports: 20 } });
    await f.drain();
    t.clock.advance(60 * MIN);
    await f.report(inside(1)); // all applied: the failure policy, standing in as the gate, passes
    expect((await t.core.phases.tick('r1')).advanced).toBe(1);
    await f.drain();
    const second = inside(10).filter((ep) => cohort(ep) >= 1);
    // half of phase 1 fails: the policy suspends 2.0.0 mid-phase
    await f.report(second, new Set(second.filter((_, i) => i % 2 === 0)));
    const s = await sw(t, '2.0.0');
    expect(s.rolloutStrategy).toBe('suspended');
    expect(s.phase?.index).toBe(1);
    expect((await rollout(t, '2.0.0')).phase).toMatchObject({ index: 1, waitingFor: 'hold' });
    t.clock.advance(24 * 60 * MIN);
    expect(await t.core.phases.tick('r1')).toMatchObject({ advanced: 0 });
    expect(await f.pullAll()).toEqual([]);
    await f.drain();
    expect(t.publisher.pushes.filter((p) => p.version === '2.0.0')).toHaveLength(inside(10).length);
    const adv = await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'c');
    expect(!adv.ok && adv.error.code).toBe('rollout.suspended');
  });

  test('an update that changes phases keeps the open cohort; nobody beyond it is offered', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    const f = fleet(t, '2.0.0');
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: PHASES });
    const adv = await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'c');
    expect(adv.ok && adv.value.phase).toMatchObject({ index: 1, percent: 10 });
    await f.drain();
    const openedAt = (await sw(t, '2.0.0')).phase?.openedAt;
    t.clock.advance(5 * MIN);
    const r = await t.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '2.0.0',
      softwareBody('2.0.0', ['1.0.0'], { phases: [{ percent: 5 }, { percent: 10 }, { percent: 25 }, { percent: 100 }] }),
      {},
      'update',
    );
    expect(r.ok && r.value.phase).toEqual({ index: 1, openedAt, hold: false });
    await f.drain();
    expect(f.offeredTo.size).toBe(inside(10).length);
    expect((await f.pullAll()).sort()).toEqual(inside(10)); // offered again on a pull (not applied yet), nobody beyond
    // phases that no longer contain 10: the highest at most 10 opens (the cohort never grows by an update)
    const r2 = await t.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '2.0.0',
      softwareBody('2.0.0', ['1.0.0'], { phases: [{ percent: 8 }, { percent: 30 }, { percent: 100 }] }),
      {},
      'update-2',
    );
    expect(r2.ok && r2.value.phase).toMatchObject({ index: 0, openedAt: t.clock.now() });
    await f.drain();
    expect(f.offeredTo.size).toBe(inside(10).length);
    expect((await f.pullAll()).sort()).toEqual(inside(8));
  });
});

describe('operator commands (§6.3)', () => {
  async function setup() {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: [{ percent: 10 }, { percent: 100 }], phaseGate: { maxFailureRate: 0.1, minReports: 1000 } });
    return t;
  }

  test('advance opens the next phase now, soak and gate skipped, and clears a hold; 409 on the last phase', async () => {
    const t = await setup();
    await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true }, 'h');
    t.work.clear();
    t.clock.advance(MIN);
    const r = await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'corr-adv');
    expect(r.ok && r.value).toMatchObject({ version: '2.0.0', phase: { index: 1, percent: 100, openedAt: t.clock.now(), hold: false, waitingFor: 'done' } });
    expect(t.events.events.at(-1)).toMatchObject({ type: 'phase-advanced', correlationId: 'corr-adv' });
    expect(t.work.pushes).toHaveLength(1);
    const again = await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'c');
    expect(!again.ok && again.error.code).toBe('rollout.last_phase');
  });

  test('every advance, hold and resume is audited (§4.13): the operator for commands, OTAO for the automatic advance, with the phase before and after', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: [{ percent: 10, soakMinutes: 0 }, { percent: 20 }, { percent: 30 }, { percent: 100 }] });
    const alice = { type: 'user', id: 'u-1', name: 'alice' } as const;
    await t.core.phases.tick('r1'); // soak 0, no gate: OTAO advances 0 -> 1
    await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true, reason: 'look at the canaries' }, 'c-hold', alice);
    await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: false }, 'c-resume', alice);
    await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'c-adv', alice);
    const page = await t.audit.page({ tenantId: TEST_TENANT, appName: TEST_APP, version: '2.0.0', offset: 0, limit: 100 });
    const rollout = page.content.filter((e) => e.action.startsWith('rollout.') || e.action === 'phase.advanced').reverse();
    expect(rollout.map((e) => [e.action, e.actor.type, e.actor.id])).toEqual([
      ['phase.advanced', 'otao', 'otao'],
      ['rollout.held', 'user', 'u-1'],
      ['rollout.resumed', 'user', 'u-1'],
      ['rollout.advanced', 'user', 'u-1'],
    ]);
    expect(rollout[3]?.correlationId).toBe('c-adv');
    expect(JSON.stringify(rollout[3]?.changes)).toContain('"index":2');
    expect(JSON.stringify(rollout[1]?.changes)).toContain('look at the canaries');
  });

  test('409 codes and not-found answers', async () => {
    const t = await setup();
    const code = async (p: Promise<{ ok: boolean; error?: { code: string } }>) => (await p).error?.code;
    expect(await code(t.core.phases.advance(TEST_TENANT, TEST_APP, '1.0.0', 'c'))).toBe('rollout.not_phased');
    expect(await code(t.core.phases.hold(TEST_TENANT, TEST_APP, '1.0.0', { hold: true }, 'c'))).toBe('rollout.not_phased');
    expect(await code(t.core.phases.advance(TEST_TENANT, TEST_APP, '9.9.9', 'c'))).toBe('software.not_found');
    expect(await code(t.core.phases.advance(TEST_TENANT, TEST_APP, 'nope', 'c'))).toBe('software.not_found');
    expect(await code(t.core.phases.advance(TEST_TENANT, 'teapot', '2.0.0', 'c'))).toBe('application.not_found');
    await create(t, '3.0.0', ['2.0.0'], { rolloutStrategy: 'suspended', phases: [{ percent: 10 }, { percent: 100 }] });
    expect(await code(t.core.phases.advance(TEST_TENANT, TEST_APP, '3.0.0', 'c'))).toBe('rollout.suspended');
    expect(await code(t.core.phases.hold(TEST_TENANT, TEST_APP, '3.0.0', { hold: true }, 'c'))).toBe('rollout.suspended');
  });

  test('hold and resume are idempotent; holding again changes the reason only', async () => {
    const t = await setup();
    const rev = (await sw(t, '2.0.0')).revision;
    await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: false }, 'c'); // already running: nothing stored
    expect((await sw(t, '2.0.0')).revision).toBe(rev);
    await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true, reason: 'a' }, 'c');
    await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true, reason: 'a' }, 'c');
    expect((await sw(t, '2.0.0')).revision).toBe(rev + 1);
    const r = await t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true, reason: 'b' }, 'c');
    expect(r.ok && r.value.phase).toMatchObject({ hold: true, holdReason: 'b' });
    expect(t.events.events.at(-1)).toMatchObject({ type: 'updated' });
    // a hold is kept by an update of the software
    const u = await t.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '2.0.0',
      softwareBody('2.0.0', ['1.0.0'], { phases: [{ percent: 10 }, { percent: 100 }] }),
      {},
      'u',
    );
    expect(u.ok && u.value.phase).toMatchObject({ hold: true, holdReason: 'b' });
  });

  test('concurrent commands are applied on top of each other (compare-and-set, retried)', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: [{ percent: 10 }, { percent: 20 }, { percent: 30 }, { percent: 100 }] });
    const results = await Promise.all([
      t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'a'),
      t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'b'),
      t.core.phases.hold(TEST_TENANT, TEST_APP, '2.0.0', { hold: true }, 'c'),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await sw(t, '2.0.0')).phase?.index).toBe(2);
  });

  test('a tick advances a rollout without a gate on soak alone, and catches up on the pushes of openings it did not make', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: [{ percent: 10, soakMinutes: 0 }, { percent: 50, soakMinutes: 30 }, { percent: 100 }] });
    t.work.clear();
    // first run: no checkpoint, the opening of phase 0 is pushed again (a no-op for endpoints already pushed)
    const first = await t.core.phases.tick('r1');
    expect(first).toMatchObject({ advanced: 1, caughtUp: 0 });
    expect(t.work.pushes).toHaveLength(1);
    expect(first.nextCheckAt).toBe(t.clock.now());
    t.work.clear();
    expect(await t.core.phases.tick('r1')).toMatchObject({ advanced: 0, caughtUp: 0, nextCheckAt: t.clock.now() + 30 * MIN });
    // an operator's advance whose scheduled pushes were lost (a crash): the next tick stores them again
    t.clock.advance(MIN);
    await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'c');
    t.work.clear();
    expect(await t.core.phases.tick('r1')).toMatchObject({ advanced: 0, caughtUp: 1 });
    expect(t.work.pushes).toEqual([{ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP, reason: 'phase 2 of 2.0.0 opened' }]);
  });
});

describe('pushes computed again while the open cohort installs (ADR 0021)', () => {
  // The sequence of apps/server/test/phases.e2e.test.ts when a phase tick falls between the pulls and
  // the reports (a loaded machine): the tick's catch-up on the opening of phase 0 runs the push
  // computation again while the first cohort, offered the version on its pulls, still installs it.
  test('the first cohort, offered the version on its pulls, is not pushed it by the catch-up; the advance pushes exactly the next cohort', async () => {
    const t = createTestOtao();
    const fleetIds = ids.slice(0, 200);
    const between = (lo: number, hi: number): string[] => fleetIds.filter((ep) => cohort(ep) >= lo && cohort(ep) < hi).sort();
    const first = between(0, 25);
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], {
      phases: [
        { percent: 25, soakMinutes: 0 },
        { percent: 60, soakMinutes: 600 },
        { percent: 100, soakMinutes: 600 },
      ],
      phaseGate: { maxFailureRate: 0.5, minReports: first.length },
    });
    await t.drain(); // the creation's pushes: nobody is known yet
    const pushed = (): string[] => [...new Set(t.publisher.pushes.filter((p) => p.version === '2.0.0').map((p) => p.endpointId))].sort();

    // the fleet turns up and pulls on 1.0.0: the first cohort is offered 2.0.0
    const offered: string[] = [];
    for (const ep of fleetIds) {
      const d = await t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: ep, configId: '1.0.0', correlationId: `pull-${ep}` });
      if (d.ok && d.value.outcome === 'new' && d.value.configId === '2.0.0') offered.push(ep);
    }
    expect(offered.sort()).toEqual(first);

    // a tick before the reports: waiting for them, it stores the opening's pushes again; they send nothing
    t.work.clear();
    expect(await t.core.phases.tick('r1')).toMatchObject({ advanced: 0, caughtUp: 1 });
    expect(t.work.pushes).toHaveLength(1);
    await t.drain();
    expect(pushed()).toEqual([]);

    // the reports open phase 1 on the next tick: pushes go to the 25–60 % cohort, and only to it
    for (const ep of first) {
      await t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: ep, configId: '2.0.0', statusCode: 200, correlationId: `report-${ep}` });
    }
    await t.drain();
    expect(await t.core.phases.tick('r1')).toMatchObject({ advanced: 1 });
    await t.drain();
    expect(pushed()).toEqual(between(25, 60));
    expect(await rollout(t, '2.0.0')).toMatchObject({ offered: between(0, 60).length, applied: first.length });
  });
});

describe('preview of a phased rollout (§6.3)', () => {
  test('endpoints outside the open phase are later, with reason phase-not-open and the phase that will include them', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    const f = fleet(t, '2.0.0');
    void f;
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { phases: PHASES });
    await t.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'c');
    const r = await t.core.insight.preview(TEST_TENANT, TEST_APP, '2.0.0', { offset: 0, limit: FLEET });
    if (!r.ok) throw new Error(r.error.code);
    expect(r.value.counts.now).toBe(inside(10).length);
    expect(r.value.counts.later).toBe(FLEET - inside(10).length);
    for (const item of r.value.items) {
      const c = cohort(item.endpointId);
      if (c < 10) expect(item).toMatchObject({ group: 'now' });
      else expect(item).toEqual({ endpointId: item.endpointId, currentVersion: '1.0.0', group: 'later', reason: 'phase-not-open', phase: c < 50 ? 2 : 3 });
    }
  });

  test('later by a rollout date says so', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, 'ep1', { appVersionName: TEST_APP_VERSION, currentVersion: '1.0.0', filters: ['beta'] }));
    await create(t, '1.0.0');
    await create(t, '2.0.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta', rolloutDate: '2026-03-03T00:00:00Z' }] });
    const r = await t.core.insight.preview(TEST_TENANT, TEST_APP, '2.0.0', { offset: 0, limit: 10 });
    expect(r.ok && r.value.items).toEqual([
      { endpointId: 'ep1', currentVersion: '1.0.0', group: 'later', reason: 'rollout-date', filterId: 'beta', rolloutDate: Date.parse('2026-03-03T00:00:00Z') },
    ]);
  });
});
