/**
 * Rollout statistics of spec §4.8 and §4.11 with a fixed clock: each endpoint counted once per
 * version in its latest state, rollbacks (by ConfigRequest and by ConfigApplied) within the soak
 * window, report timeouts, the failure policy on both, and the per-bucket history of §6.3.
 */
import { type EndpointState, REPORT_TIMEOUTS_LEASE } from '@otao/core';
import { createTestOtao, endpointState, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

/** A pull that offers nothing (unchanged or none): a CDTP 200 with a null configId. */
const NOT_OFFERED = { ok: true, value: { outcome: expect.stringMatching(/^(unchanged|none)$/) as unknown } };

type Overrides = Parameters<typeof softwareBody>[2];
const MIN = 60_000;

async function create(t: TestOtao, version: string, from: readonly string[] = [], overrides: Overrides = {}): Promise<void> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, overrides), `create-${version}`);
  if (!r.ok) throw new Error(`create ${version}: ${r.error.code} ${r.error.message}`);
}

const pull = (t: TestOtao, endpointId: string, configId: string, correlationId = `pull-${endpointId}`) =>
  t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId, configId, correlationId });

const report = (t: TestOtao, endpointId: string, configId: string, statusCode = 200, correlationId = `report-${endpointId}-${configId}-${statusCode}`) =>
  t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId, configId, statusCode, correlationId });

function put(t: TestOtao, endpointId: string, overrides: Partial<Omit<EndpointState, 'tenantId' | 'appName' | 'endpointId'>> = {}): void {
  t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, endpointId, { appVersionName: TEST_APP_VERSION, ...overrides }));
}

const counts = (t: TestOtao, version: string) => t.stats.get(TEST_TENANT, TEST_APP, version);

async function rollout(t: TestOtao, version: string) {
  const r = await t.core.insight.rollout(TEST_TENANT, TEST_APP, version);
  if (!r.ok) throw new Error(r.error.code);
  return r.value;
}

describe('each endpoint counts once per version, in its latest state (§4.8)', () => {
  test('failed then applied moves the count; a repeat of the state does not count; another version in between changes nothing', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    await create(t, '1.2.0', ['1.1.0']);
    expect(await report(t, 'e1', '1.1.0', 500)).toBe('failed');
    expect(await counts(t, '1.1.0')).toMatchObject({ applied: 0, failed: 1 });
    expect(await report(t, 'e1', '1.1.0', 200)).toBe('applied');
    expect(await counts(t, '1.1.0')).toMatchObject({ applied: 1, failed: 0 });
    expect(await report(t, 'e1', '1.2.0', 200)).toBe('applied');
    // back on 1.1.0 (a re-install): its latest state for 1.1.0 is still applied — not counted again
    expect(await report(t, 'e1', '1.1.0', 200, 'again')).toBe('duplicate');
    expect(await counts(t, '1.1.0')).toMatchObject({ offered: 1, applied: 1, failed: 0 });
    expect(await counts(t, '1.2.0')).toMatchObject({ applied: 1 });
  });
});

describe('rollbacks (§4.8)', () => {
  test('a ConfigRequest with a lower configId within 60 min of the apply counts rolledBack once; the failure rate includes it', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    put(t, 'e1', { currentVersion: '1.0.0' });
    put(t, 'e2', { currentVersion: '1.0.0' });
    expect(await report(t, 'e1', '1.1.0')).toBe('applied');
    expect(await report(t, 'e2', '1.1.0')).toBe('applied');
    t.clock.advance(59 * MIN);
    await pull(t, 'e1', '1.0.0');
    await pull(t, 'e1', '1.0.0', 'again'); // the same state again: not counted twice
    expect(await counts(t, '1.1.0')).toMatchObject({ applied: 2, rolledBack: 1 });
    expect(await rollout(t, '1.1.0')).toMatchObject({ applied: 2, failed: 0, timedOut: 0, rolledBack: 1, failureRate: 0.5 });
    // the endpoint goes up and down again: still once per endpoint and version
    expect(await report(t, 'e1', '1.1.0', 200, 'r2')).toBe('duplicate');
    await pull(t, 'e1', '1.0.0', 'p3');
    expect((await counts(t, '1.1.0')).rolledBack).toBe(1);
    // outside the window (default 60 min): not a rollback
    t.clock.advance(2 * MIN);
    await pull(t, 'e2', '1.0.0');
    expect((await counts(t, '1.1.0')).rolledBack).toBe(1);
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'e2' }))?.currentVersion).toBe('1.0.0');
  });

  test('a ConfigApplied of a lower version counts rolledBack; the window is the longest soakMinutes of the phases', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0'], {
      phases: [
        { percent: 50, soakMinutes: 10 },
        { percent: 100, soakMinutes: 120 },
      ],
    });
    put(t, 'e1', { currentVersion: '1.0.0' });
    put(t, 'e2', { currentVersion: '1.0.0' });
    await report(t, 'e1', '1.1.0');
    await report(t, 'e2', '1.1.0');
    t.clock.advance(119 * MIN);
    expect(await report(t, 'e1', '1.0.0')).toBe('applied');
    expect((await counts(t, '1.1.0')).rolledBack).toBe(1);
    t.clock.advance(2 * MIN);
    expect(await report(t, 'e2', '1.0.0')).toBe('applied');
    expect((await counts(t, '1.1.0')).rolledBack).toBe(1);
    // a failed report of a lower version is no rollback (the endpoint still runs 1.1.0)
    const t2 = createTestOtao();
    await create(t2, '1.1.0', ['1.0.0']);
    await report(t2, 'e1', '1.1.0');
    await report(t2, 'e1', '1.0.0', 500);
    expect((await counts(t2, '1.1.0')).rolledBack).toBe(0);
  });

  test('rollbacks apply the failure policy', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0'], { failurePolicy: { maxFailureRate: 0.5, minReports: 2 } });
    await report(t, 'e1', '1.1.0');
    await report(t, 'e2', '1.1.0');
    await pull(t, 'e1', '1.0.0');
    expect((await t.software.get(TEST_TENANT, TEST_APP, '1.1.0'))?.rolloutStrategy).toBe('suspended');
    expect((await t.software.get(TEST_TENANT, TEST_APP, '1.1.0'))?.suspendedReason).toContain('1 rolled back');
  });
});

describe('report timeouts (§4.11)', () => {
  async function offeredFleet(n: number, policy: NonNullable<NonNullable<Overrides>['failurePolicy']>) {
    const t = createTestOtao();
    for (let i = 0; i < n; i++) put(t, `e${i}`, { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0'], { failurePolicy: policy });
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(n);
    return t;
  }

  test('endpoints that report nothing within the timeout count timedOut once; a late report moves them to applied or failed', async () => {
    const t = await offeredFleet(5, { maxFailureRate: 1, minReports: 100, reportTimeoutMinutes: 30 });
    await pull(t, 'late-puller', '1.0.0'); // offered by a pull
    await report(t, 'e0', '1.1.0'); // reported in time
    t.clock.advance(10 * MIN);
    await report(t, 'e1', '1.0.0'); // reported another version: not timed out
    expect((await t.core.reportTimeouts.tick('r1')).timedOut).toBe(0); // nothing due yet
    t.clock.advance(21 * MIN);
    const first = await t.core.reportTimeouts.tick('r1');
    expect(first).toMatchObject({ ran: true, versions: 1, timedOut: 4 }); // e2, e3, e4 and the puller
    expect(await counts(t, '1.1.0')).toMatchObject({ offered: 6, applied: 1, failed: 0, timedOut: 4 });
    expect((await t.core.reportTimeouts.tick('r1')).timedOut).toBe(0); // once
    // late reports move the count
    expect(await report(t, 'e2', '1.1.0')).toBe('applied');
    expect(await report(t, 'e3', '1.1.0', 500)).toBe('failed');
    expect(await counts(t, '1.1.0')).toMatchObject({ applied: 2, failed: 1, timedOut: 2 });
    expect(await rollout(t, '1.1.0')).toMatchObject({ timedOut: 2, failureRate: 3 / 5 });
    expect((await t.core.reportTimeouts.tick('r1')).timedOut).toBe(0);
  });

  test('an endpoint offered later times out later; another replica does not scan while the lease is held', async () => {
    const t = await offeredFleet(1, { maxFailureRate: 1, minReports: 100, reportTimeoutMinutes: 5 });
    t.clock.advance(3 * MIN);
    put(t, 'later', { currentVersion: '1.0.0' });
    await pull(t, 'later', '1.0.0');
    t.clock.advance(3 * MIN);
    expect((await t.core.reportTimeouts.tick('r1')).timedOut).toBe(1);
    expect(await t.replica().reportTimeouts.tick('r2')).toMatchObject({ ran: false }); // r1 holds the lease
    expect(await t.lease.tryAcquire(REPORT_TIMEOUTS_LEASE, 'r2', 1000, t.clock.now())).toBe(false);
    t.clock.advance(3 * MIN); // r1's lease expired: whoever ticks first scans
    expect((await t.replica().reportTimeouts.tick('r2')).timedOut).toBe(1);
  });

  test('without reportTimeoutMinutes nothing times out', async () => {
    const t = await offeredFleet(3, { maxFailureRate: 0.5, minReports: 1 });
    t.clock.advance(30 * 24 * 60 * MIN);
    expect(await t.core.reportTimeouts.tick('r1')).toMatchObject({ ran: true, versions: 0, timedOut: 0 });
  });

  test('timeouts apply the failure policy: the version is suspended and pushed no more', async () => {
    const t = await offeredFleet(4, { maxFailureRate: 0.5, minReports: 4, reportTimeoutMinutes: 60 });
    await report(t, 'e0', '1.1.0');
    await report(t, 'e1', '1.1.0');
    t.clock.advance(61 * MIN);
    expect((await t.core.reportTimeouts.tick('r1')).timedOut).toBe(2);
    const sw = await t.software.get(TEST_TENANT, TEST_APP, '1.1.0');
    expect(sw?.rolloutStrategy).toBe('suspended');
    expect(sw?.suspendedReason).toContain('2 timed out');
    expect(t.events.events.filter((e) => e.type === 'suspended')).toHaveLength(1);
    t.publisher.clear();
    put(t, 'new', { currentVersion: '1.0.0' });
    await t.drain();
    expect(await pull(t, 'new', '1.0.0')).toMatchObject(NOT_OFFERED);
  });
});

describe('history per bucket (§6.3)', () => {
  test('minute and hour buckets hold the changes; a move shows as −1/+1; the query validates its parameters', async () => {
    const t = createTestOtao({ start: '2026-01-01T10:00:30Z' });
    await create(t, '1.1.0', ['1.0.0'], { failurePolicy: { maxFailureRate: 1, minReports: 100, reportTimeoutMinutes: 1 } });
    put(t, 'e1', { currentVersion: '1.0.0' });
    put(t, 'e2', { currentVersion: '1.0.0' });
    await t.drain(); // 2 offered at 10:00
    t.clock.advance(2 * MIN); // 10:02:30
    await t.core.reportTimeouts.tick('r'); // 2 timed out at 10:02
    t.clock.advance(60 * MIN); // 11:02:30
    await report(t, 'e1', '1.1.0'); // timedOut -> applied at 11:02
    const h = async (q: Parameters<TestOtao['core']['insight']['history']>[3]) => t.core.insight.history(TEST_TENANT, TEST_APP, '1.1.0', q);
    const minute = await h({});
    expect(minute).toMatchObject({ ok: true, value: { bucket: 'minute', until: t.clock.now() } });
    const at = (s: string) => Date.parse(s);
    expect(minute.ok && minute.value.buckets).toEqual([
      { start: at('2026-01-01T10:00:00Z'), offered: 2, applied: 0, failed: 0, timedOut: 0, rolledBack: 0 },
      { start: at('2026-01-01T10:02:00Z'), offered: 0, applied: 0, failed: 0, timedOut: 2, rolledBack: 0 },
      { start: at('2026-01-01T11:02:00Z'), offered: 0, applied: 1, failed: 0, timedOut: -1, rolledBack: 0 },
    ]); // the last 2 h, from the start of the minute of 09:02:30
    const hour = await h({ bucket: 'hour' });
    expect(hour.ok && hour.value.buckets).toEqual([
      { start: at('2026-01-01T10:00:00Z'), offered: 2, applied: 0, failed: 0, timedOut: 2, rolledBack: 0 },
      { start: at('2026-01-01T11:00:00Z'), offered: 0, applied: 1, failed: 0, timedOut: -1, rolledBack: 0 },
    ]);
    const window = await h({ since: '2026-01-01T10:00:10Z', until: '2026-01-01T10:01:00Z' });
    expect(window.ok && window.value).toMatchObject({ since: at('2026-01-01T10:00:00Z'), buckets: [{ offered: 2 }] });
    for (const [q, field] of [
      [{ bucket: 'day' }, 'bucket'],
      [{ since: 'yesterday' }, 'since'],
      [{ until: '2026-13-01T00:00:00Z' }, 'until'],
      [{ since: '2026-01-01T11:00:00Z', until: '2026-01-01T10:00:00Z' }, 'since'],
      [{ since: '2025-12-01T00:00:00Z' }, 'since'], // more than 48 h of minute buckets
    ] as const) {
      expect(await h(q)).toMatchObject({ ok: false, error: { code: 'request.invalid', field } });
    }
    expect(await t.core.insight.history(TEST_TENANT, TEST_APP, '9.9.9', {})).toMatchObject({ ok: false, error: { code: 'software.not_found' } });
    // retention: minute buckets go after 48 h, hour buckets after 90 days
    t.clock.advance(49 * 60 * MIN);
    expect(await t.stats.prune(t.clock.now())).toBe(3); // the three minute buckets
    expect(await t.stats.history(TEST_TENANT, TEST_APP, '1.1.0', { bucket: 'hour', since: 0, until: t.clock.now() })).toHaveLength(2);
  });
});
