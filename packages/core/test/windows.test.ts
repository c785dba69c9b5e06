/**
 * Maintenance windows (spec §4.12) through the use cases, with a fixed clock: pulls skip a version
 * outside its window, the opening is a push trigger (under the scheduler's lease, once), and the
 * window follows the zone's daylight-saving rules.
 */
import type { ConfigDecision } from '@otao/core';
import { createTestOtao, endpointState, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

/** A pull that offers nothing (unchanged or none): a CDTP 200 with a null configId. */
const NOT_OFFERED = { ok: true, value: { outcome: expect.stringMatching(/^(unchanged|none)$/) as unknown } };

type Overrides = Parameters<typeof softwareBody>[2];

async function create(t: TestOtao, version: string, from: readonly string[], overrides: Overrides = {}): Promise<void> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, overrides), `create-${version}`);
  if (!r.ok) throw new Error(`create ${version}: ${r.error.code} ${r.error.message}`);
}

function pull(t: TestOtao, endpointId: string, configId: string): Promise<ConfigDecision> {
  return t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId, configId, correlationId: `pull-${endpointId}` });
}

function put(t: TestOtao, endpointId: string, currentVersion: string): void {
  t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, endpointId, { appVersionName: TEST_APP_VERSION, currentVersion }));
}

const pushed = (t: TestOtao): string[] => t.publisher.pushes.map((p) => `${p.endpointId}:${p.version}`).sort();

// Saturday 22:00 to Sunday 02:00, Berlin. The night of 2026-03-28 is the spring-forward night: 02:00
// CET does not exist (clocks go from 02:00 CET to 03:00 CEST at 01:00Z), so that night the window
// closes at 01:00Z; the night of 2026-10-24 is the fall-back night: local 02:00 happens twice
// (00:00Z CEST, 01:00Z CET) and the end is the later one (Luxon takes standard time), 01:00Z.
const WINDOW = { timeZone: 'Europe/Berlin', start: '22:00', end: '02:00', days: ['sat'] };

describe('maintenance windows (§4.12)', () => {
  test('a pull outside the window gets the other hop; the opening pushes once; the spring-forward night is an hour shorter', async () => {
    const t = createTestOtao({ start: '2026-03-28T20:00:00Z' }); // Saturday 21:00 CET
    await create(t, '1.0.5', ['1.0.0']);
    await create(t, '1.1.0', ['1.0.0', '1.0.5'], { maintenanceWindow: WINDOW });
    put(t, 'ep1', '1.0.5');
    put(t, 'ep2', '1.0.5');
    await t.drain();
    t.publisher.pushes.length = 0;

    // closed: 1.1.0 is skipped, the endpoint on 1.0.0 gets the hop that has no window
    expect(await pull(t, 'fresh', '1.0.0')).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.0.5' } });
    expect(await pull(t, 'ep1', '1.0.5')).toEqual({ ok: true, value: { outcome: 'unchanged' } });
    expect(await t.core.rolloutDates.tick('r1')).toEqual({ ran: true, filters: 0, windows: 0, nextDate: Date.parse('2026-03-28T21:00:00Z') });
    await t.drain();
    expect(pushed(t)).toEqual([]);

    // a minute before the opening: still closed (the planner's memo must not carry over)
    t.clock.set('2026-03-28T20:59:00Z');
    expect(await pull(t, 'ep1', '1.0.5')).toMatchObject(NOT_OFFERED);

    // the opening: the scheduler finds it (once), the push job offers 1.1.0 to everyone eligible
    t.clock.set('2026-03-28T21:00:00Z');
    const run = await t.core.rolloutDates.tick('r1');
    expect(run).toMatchObject({ ran: true, windows: 1 });
    await t.drain();
    // `fresh` pulled 1.0.5 (offered, not installed): 1.1.0 is its next hop now too
    expect(pushed(t)).toEqual(['ep1:1.1.0', 'ep2:1.1.0', 'fresh:1.1.0']);
    t.clock.set('2026-03-28T21:05:00Z');
    expect(await t.core.rolloutDates.tick('r1')).toMatchObject({ ran: true, windows: 0 });
    expect(t.work.pushes).toHaveLength(0);
    // another replica does not run the scheduler while the lease is held
    expect(await t.replica().rolloutDates.tick('r2')).toMatchObject({ ran: false });

    // open across midnight (Sunday 01:59 CET = 00:59Z) …
    t.clock.set('2026-03-29T00:59:00Z');
    expect(await pull(t, 'late', '1.0.5')).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.1.0' } });
    // … and closed at 01:00Z: 02:00 local does not exist that night, the end moves to 03:00 CEST = 01:00Z
    t.clock.set('2026-03-29T01:00:00Z');
    expect(await pull(t, 'later', '1.0.5')).toMatchObject(NOT_OFFERED);
    // Sunday night: not a window day
    t.clock.set('2026-03-29T20:30:00Z');
    expect(await pull(t, 'later', '1.0.5')).toMatchObject(NOT_OFFERED);
  });

  test('the fall-back night: open until 02:00 CET (01:00Z), through the first 02:00–03:00 CEST', async () => {
    const t = createTestOtao({ start: '2026-10-24T19:00:00Z' }); // Saturday 21:00 CEST
    await create(t, '1.1.0', ['1.0.0'], { maintenanceWindow: WINDOW });
    await t.drain();
    expect(await pull(t, 'a', '1.0.0')).toMatchObject(NOT_OFFERED);
    t.clock.set('2026-10-24T20:00:00Z'); // 22:00 CEST
    expect(await pull(t, 'b', '1.0.0')).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.1.0' } });
    t.clock.set('2026-10-25T00:30:00Z'); // 02:30 CEST, the first time
    expect(await pull(t, 'c', '1.0.0')).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.1.0' } });
    t.clock.set('2026-10-25T00:59:59Z'); // 02:59:59 CEST, just before the clocks go back
    expect(await pull(t, 'd', '1.0.0')).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.1.0' } });
    t.clock.set('2026-10-25T01:00:00Z'); // 02:00 CET: closed
    expect(await pull(t, 'e', '1.0.0')).toMatchObject(NOT_OFFERED);
  });

  test('a suspended software with a window is not scheduled; resuming it inside the window pushes at once', async () => {
    const t = createTestOtao({ start: '2026-03-28T21:30:00Z' });
    await create(t, '1.1.0', ['1.0.0'], { maintenanceWindow: WINDOW, rolloutStrategy: 'suspended' });
    put(t, 'ep1', '1.0.0');
    await t.drain();
    expect(await t.core.rolloutDates.tick('r1')).toMatchObject({ windows: 0 });
    const r = await t.core.software.replace(TEST_TENANT, TEST_APP, '1.1.0', softwareBody('1.1.0', ['1.0.0'], { maintenanceWindow: WINDOW }), {}, 'resume');
    expect(r.ok).toBe(true);
    await t.drain();
    expect(pushed(t)).toEqual(['ep1:1.1.0']);
  });

  test('preview: outside the window the endpoints are later with reason window-closed and the next opening; the rollout view shows the window', async () => {
    const t = createTestOtao({ start: '2026-03-28T12:00:00Z' }); // Saturday 13:00 CET
    await create(t, '1.1.0', ['1.0.0'], { maintenanceWindow: WINDOW });
    await create(t, '2.0.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'never' }] });
    put(t, 'ep1', '1.0.0');
    put(t, 'ep2', '1.1.0');
    put(t, 'ep3', '0.9.0');
    const opening = Date.parse('2026-03-28T21:00:00Z');
    const p = await t.core.insight.preview(TEST_TENANT, TEST_APP, '1.1.0', { offset: 0, limit: 10 });
    if (!p.ok) throw new Error(p.error.code);
    expect(p.value.counts).toMatchObject({ now: 0, later: 1, 'already-on-version': 1, 'no-path': 1 });
    expect(p.value.items.find((i) => i.endpointId === 'ep1')).toEqual({
      endpointId: 'ep1',
      currentVersion: '1.0.0',
      group: 'later',
      reason: 'window-closed',
      nextOpenAt: opening,
    });
    const r = await t.core.insight.rollout(TEST_TENANT, TEST_APP, '1.1.0');
    expect(r.ok && r.value.window).toEqual({ open: false, nextOpenAt: opening });
    // inside the window: now, and the view says open with the next Saturday as the next opening
    t.clock.set('2026-03-28T22:00:00Z');
    const q = await t.core.insight.preview(TEST_TENANT, TEST_APP, '1.1.0', { offset: 0, limit: 10 });
    expect(q.ok && q.value.counts).toMatchObject({ now: 1, later: 0 });
    const open = await t.core.insight.rollout(TEST_TENANT, TEST_APP, '1.1.0');
    expect(open.ok && open.value.window).toEqual({ open: true, nextOpenAt: Date.parse('2026-04-04T20:00:00Z') }); // 22:00 CEST
    // software without a window: no window in the view
    const none = await t.core.insight.rollout(TEST_TENANT, TEST_APP, '2.0.0');
    expect(none.ok && none.value).not.toHaveProperty('window');
  });
});
