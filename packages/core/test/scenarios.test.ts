/**
 * Worked scenarios through the use cases of the core (spec §2–§4, §6.3, §6.4), over the in-memory
 * fakes of `createTestOtao()`.
 */
import { type ConfigDecision, type EndpointState, PREVIEW_GROUPS, type PreviewGroup } from '@otao/core';
import { createTestOtao, endpointState, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

type Overrides = Parameters<typeof softwareBody>[2];

async function create(t: TestOtao, version: string, from: readonly string[] = [], overrides: Overrides = {}): Promise<void> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, overrides), `create-${version}`);
  if (!r.ok) throw new Error(`create ${version}: ${r.error.code} ${r.error.message}`);
}

function pull(
  t: TestOtao,
  endpointId: string,
  configId?: string | null,
  extra: { configName?: string | null; appVersionName?: string } = {},
): Promise<ConfigDecision> {
  return t.core.config.decide({
    appVersionName: extra.appVersionName ?? TEST_APP_VERSION,
    endpointId,
    ...(configId !== undefined ? { configId } : {}),
    ...(extra.configName !== undefined ? { configName: extra.configName } : {}),
    correlationId: `pull-${endpointId}`,
  });
}

function report(t: TestOtao, endpointId: string, configId: string, statusCode = 200, reasonPhrase?: string) {
  return t.core.reports.applied({
    appVersionName: TEST_APP_VERSION,
    endpointId,
    configId,
    statusCode,
    ...(reasonPhrase !== undefined ? { reasonPhrase } : {}),
    correlationId: `report-${endpointId}`,
  });
}

function put(t: TestOtao, endpointId: string, overrides: Partial<Omit<EndpointState, 'tenantId' | 'appName' | 'endpointId'>> = {}): void {
  t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, endpointId, { appVersionName: TEST_APP_VERSION, ...overrides }));
}

function pushesTo(t: TestOtao, endpointId: string): string[] {
  return t.publisher.pushes.filter((p) => p.endpointId === endpointId).map((p) => p.version);
}

async function view(t: TestOtao, endpointId: string) {
  const r = await t.core.insight.endpoint(TEST_TENANT, TEST_APP, endpointId);
  if (!r.ok) throw new Error(`endpoint ${endpointId}: ${r.error.code}`);
  return r.value;
}

/** A pull offered `configId` (with `content` when given). */
const offered = (configId: string, content?: string) => ({ ok: true, value: { outcome: 'new', configId, ...(content !== undefined ? { content } : {}) } });
const NONE = { ok: true, value: { outcome: 'none' } };
const UNCHANGED = { ok: true, value: { outcome: 'unchanged' } };
/** A pull refused before deciding, with its code. */
const refused = (code: string) => ({ ok: false, error: { code } });

// -----------------------------------------------------------------------------------------------
describe('multi-hop planning (§4.1)', () => {
  test('a three-hop chain beats a dead-end branch, and the endpoint walks it to the end', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    await create(t, '1.2.0', ['1.1.0']);
    await create(t, '2.0.0', ['1.2.0']);
    await create(t, '1.5.0', ['1.0.0']); // dead end: higher than 1.1.0, leads nowhere
    await t.drain();

    // pull: routed along the longer path that reaches the highest version
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(offered('1.1.0', '{"version":"1.1.0"}'));
    expect(await view(t, 'ep1')).toMatchObject({ currentVersion: '1.0.0', next: '1.1.0', path: ['1.1.0', '1.2.0', '2.0.0'], goal: '2.0.0' });

    // each applied hop makes the next one pushed (chained upgrades)
    expect(await report(t, 'ep1', '1.1.0')).toBe('applied');
    expect(pushesTo(t, 'ep1')).toEqual(['1.2.0']);
    expect(await report(t, 'ep1', '1.2.0')).toBe('applied');
    expect(pushesTo(t, 'ep1')).toEqual(['1.2.0', '2.0.0']);
    expect(await pull(t, 'ep1', '1.2.0')).toMatchObject(offered('2.0.0'));
    expect(await report(t, 'ep1', '2.0.0')).toBe('applied');
    expect(pushesTo(t, 'ep1')).toEqual(['1.2.0', '2.0.0']);
    expect(await pull(t, 'ep1', '2.0.0')).toMatchObject(UNCHANGED);
    expect(await view(t, 'ep1')).toMatchObject({ currentVersion: '2.0.0', path: [] });
    expect((await view(t, 'ep1')).next).toBeUndefined();
    expect((await view(t, 'ep1')).goal).toBeUndefined();

    // an endpoint already stranded on the dead end is told it is up to date
    expect(await pull(t, 'ep2', '1.5.0')).toMatchObject(UNCHANGED);
  });

  test('a pull whose configId equals the target is unchanged (200, configId and content null)', async () => {
    const t = createTestOtao();
    await create(t, '1.0.0');
    await create(t, '1.1.0', ['1.0.0'], { rolloutStrategy: 'suspended' });
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(UNCHANGED);
    // build metadata does not count (SemVer precedence)
    expect(await pull(t, 'ep1', '1.0.0+factory')).toMatchObject(UNCHANGED);
    // without configId the stored current version is used, and its software is offered
    expect(await pull(t, 'ep1')).toMatchObject(offered('1.0.0'));
  });

  test('an endpoint with unknown version gets 200 "no software available"', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    expect(await pull(t, 'fresh')).toMatchObject(NONE);
    expect(await pull(t, 'fresh', '')).toMatchObject(NONE);
    expect(await pull(t, 'fresh', null)).toMatchObject(NONE);
    // a version with no upgrade and no software of its own
    expect(await pull(t, 'other', '0.1.0')).toMatchObject(NONE);
    // reporting its version is what makes the endpoint plannable
    expect(await pull(t, 'fresh', '1.0.0')).toMatchObject(offered('1.1.0'));
    expect(await pull(t, 'fresh')).toMatchObject(offered('1.1.0'));
  });
});

// -----------------------------------------------------------------------------------------------
describe('targeted rollout with staggered dates (§3, §4.3)', () => {
  test('members of the past-dated filter get it now; members of the future-dated one when the date passes', async () => {
    const t = createTestOtao({ start: '2026-01-01T00:00:00Z' });
    for (const id of ['early1', 'late1', 'late2', 'nobody']) put(t, id, { currentVersion: '1.0.0' });
    t.filters.setMembers('wave-1', TEST_APP_VERSION, ['early1']);
    t.filters.setMembers('wave-2', TEST_APP_VERSION, ['late1', 'late2']);
    await create(t, '1.1.0', ['1.0.0'], {
      rolloutStrategy: 'targeted',
      filters: [
        { filterId: 'wave-1', rolloutDate: '2025-12-31T00:00:00Z' },
        { filterId: 'wave-2', rolloutDate: '2026-01-02T00:00:00Z' },
      ],
    });
    expect(t.work.bootstraps).toEqual([{ tenantId: TEST_TENANT, appName: TEST_APP, filterIds: ['wave-1', 'wave-2'] }]);
    await t.drain();

    expect(t.publisher.pushes.map((p) => [p.endpointId, p.version])).toEqual([['early1', '1.1.0']]);
    expect(await pull(t, 'early1', '1.0.0')).toMatchObject(offered('1.1.0'));
    expect(await pull(t, 'late1', '1.0.0')).toMatchObject(NONE);
    expect(await pull(t, 'nobody', '1.0.0')).toMatchObject(NONE);

    // the scheduler before the date: nothing new, and it knows when to wake up
    // (its first tick catches up wave-1, whose date passed before any checkpoint: a job that finds nothing new)
    const before = await t.core.rolloutDates.tick('r1');
    expect(before).toMatchObject({ ran: true, filters: 1, nextDate: Date.parse('2026-01-02T00:00:00Z') });
    expect(t.work.pushes).toEqual([expect.objectContaining({ kind: 'filter', filterId: 'wave-1' })]);
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(1);

    t.clock.set('2026-01-01T23:59:59Z');
    expect(await pull(t, 'late1', '1.0.0')).toMatchObject(NONE);
    expect((await t.core.rolloutDates.tick('r1')).filters).toBe(0);

    t.clock.set('2026-01-02T00:00:00Z'); // a date not in the future is active
    expect(await pull(t, 'late1', '1.0.0')).toMatchObject(offered('1.1.0'));
    // pulling does not push; the scheduler does — to the members the date reached without a pull
    expect(pushesTo(t, 'late1')).toEqual([]);
    const after = await t.core.rolloutDates.tick('r1');
    expect(after).toMatchObject({ ran: true, filters: 1 });
    expect(after.nextDate).toBeUndefined();
    // the tick stored a durable push job for the filter; a replica runs it
    expect(t.work.pushes).toEqual([expect.objectContaining({ kind: 'filter', filterId: 'wave-2' })]);
    await t.drain();
    expect(pushesTo(t, 'late2')).toEqual(['1.1.0']);
    // late1 was given 1.1.0 by its pull already: not sent it again (ADR 0021)
    expect(pushesTo(t, 'late1')).toEqual([]);
    expect(pushesTo(t, 'nobody')).toEqual([]);
    expect(await pull(t, 'nobody', '1.0.0')).toMatchObject(NONE);

    // ticking again pushes nothing twice
    t.clock.advance(60_000);
    expect((await t.core.rolloutDates.tick('r1')).filters).toBe(0);
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(2);
  });

  test('EFE: an endpoint newly matching a filter of a targeted rollout is pushed', async () => {
    const t = createTestOtao();
    put(t, 'ep1', { currentVersion: '1.0.0' });
    await t.endpoints.markFilterLoaded(TEST_TENANT, TEST_APP, 'beta');
    await create(t, '1.1.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }] });
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(0);

    expect(await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep1', 'efe-1')).toBe('done');
    expect(t.publisher.pushes).toMatchObject([{ endpointId: 'ep1', version: '1.1.0', appVersionName: TEST_APP_VERSION, content: '{"version":"1.1.0"}' }]);
    // a repeated event does not push twice
    await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep1', 'efe-2');
    expect(t.publisher.pushes).toHaveLength(1);

    // a member with unknown version is recorded but not pushed; it is offered once it reports
    expect(await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep2', 'efe-3')).toBe('done');
    expect(pushesTo(t, 'ep2')).toEqual([]);
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep2' }))?.filters).toEqual(['beta']);
    expect(await pull(t, 'ep2', '1.0.0')).toMatchObject(offered('1.1.0'));

    // unmatched: no longer offered
    await t.core.endpointEvents.filterUnmatched(TEST_APP_VERSION, 'beta', 'ep2');
    expect(await pull(t, 'ep2', '1.0.0')).toMatchObject(NONE);
    // unknown application version: ignored
    expect(await t.core.endpointEvents.filterMatched('no-such-version', 'beta', 'ep3', 'efe-4')).toBe('unknown_app_version');
  });

  test('filter bootstrap loads members from EPR once and pushes to those with a known version', async () => {
    const t = createTestOtao({
      apps: [
        { tenantId: TEST_TENANT, appName: TEST_APP, versions: [TEST_APP_VERSION] },
        { tenantId: TEST_TENANT, appName: 'toaster', versions: ['toaster-v1'] },
      ],
    });
    put(t, 'ep1', { currentVersion: '1.0.0' });
    put(t, 'stale', { currentVersion: '1.0.0', filters: ['beta'] }); // EPR no longer lists it
    t.filters.setMembers('beta', TEST_APP_VERSION, ['ep1', 'ep2']);
    t.filters.setMembers('beta', 'toaster-v1', ['toaster-ep']); // another application: ignored
    await create(t, '1.1.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }] });
    await t.drain();

    expect(t.filters.calls.endpointsByFilter).toBe(1);
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep1' }))?.filters).toEqual(['beta']);
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep2' }))?.filters).toEqual(['beta']);
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'stale' }))?.filters).toEqual([]);
    expect(await t.endpoints.get({ tenantId: TEST_TENANT, appName: 'toaster', endpointId: 'toaster-ep' })).toBeUndefined();
    expect(await t.endpoints.loadedFilters(TEST_TENANT, TEST_APP)).toEqual(new Set(['beta']));
    expect(t.publisher.pushes.map((p) => p.endpointId)).toEqual(['ep1']);
    expect(await pull(t, 'ep2', '1.0.0')).toMatchObject(offered('1.1.0'));

    // another software on the same filter: no second bootstrap
    await create(t, '1.2.0', ['1.1.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }] });
    expect(t.work.bootstraps).toHaveLength(0);
    await t.drain();
    expect(t.filters.calls.endpointsByFilter).toBe(1);
  });

  test('a failed bootstrap does not block the create and is reported for retry', async () => {
    const t = createTestOtao();
    t.filters.faults.unavailable = true;
    await create(t, '1.1.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }] });
    const summary = await t.core.endpointEvents.bootstrapFilters(TEST_TENANT, TEST_APP, ['beta'], 'retry');
    expect(summary).toEqual({ loaded: [], failed: ['beta'] });
    expect(await t.endpoints.loadedFilters(TEST_TENANT, TEST_APP)).toEqual(new Set());
  });
});

// -----------------------------------------------------------------------------------------------
describe('consent (§3)', () => {
  test('consent for one version versus *', async () => {
    const t = createTestOtao();
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, true);
    await create(t, '1.1.0', ['1.0.0']);
    await create(t, '1.2.0', ['1.1.0']);
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(0);

    expect((await t.core.consents.grant(TEST_TENANT, TEST_APP, 'one', '1.1.0', 'g1')).ok).toBe(true);
    expect((await t.core.consents.grant(TEST_TENANT, TEST_APP, 'any', '*', 'g2')).ok).toBe(true);

    expect(await pull(t, 'one', '1.0.0')).toMatchObject(offered('1.1.0'));
    expect(await pull(t, 'any', '1.0.0')).toMatchObject(offered('1.1.0'));
    expect(await pull(t, 'none', '1.0.0')).toMatchObject(NONE);
    expect(await view(t, 'one')).toMatchObject({ path: ['1.1.0'], goal: '1.1.0', consents: ['1.1.0'] });
    expect(await view(t, 'any')).toMatchObject({ path: ['1.1.0', '1.2.0'], goal: '1.2.0', consents: ['*'] });

    // on 1.1.0, the one-version consent does not cover 1.2.0
    await report(t, 'one', '1.1.0');
    await report(t, 'any', '1.1.0');
    expect(pushesTo(t, 'one')).toEqual([]);
    expect(pushesTo(t, 'any')).toEqual(['1.2.0']);
    expect(await pull(t, 'one', '1.1.0')).toMatchObject(UNCHANGED);

    // a grant makes the push due (§4.3)
    await t.core.consents.grant(TEST_TENANT, TEST_APP, 'one', '1.2.0', 'g3');
    expect(pushesTo(t, 'one')).toEqual(['1.2.0']);

    // revoking: no longer offered on pull
    await t.core.consents.revoke(TEST_TENANT, TEST_APP, 'one', '1.2.0');
    expect(await pull(t, 'one', '1.1.0')).toMatchObject(UNCHANGED);

    // invalid consent version
    const bad = await t.core.consents.grant(TEST_TENANT, TEST_APP, 'one', 'latest', 'g4');
    expect(bad).toMatchObject({ ok: false, error: { code: 'consent.invalid_version' } });
  });

  test('switching consentRequired off makes pushes due', async () => {
    const t = createTestOtao();
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, true);
    const loaded = (consentRequired: boolean) => t.core.endpointEvents.registryLoaded([{ tenantId: TEST_TENANT, appName: TEST_APP, consentRequired }]);
    expect(await loaded(true)).toBe(0);
    put(t, 'ep1', { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0']);
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(0);
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, false);
    expect(await loaded(false)).toBe(1);
    await t.drain();
    expect(pushesTo(t, 'ep1')).toEqual(['1.1.0']);
    expect(await loaded(false)).toBe(0); // seen: nothing more to do
  });

  test('consentRequired switched off while no replica ran (an edited applications file, then a restart) still makes pushes due', async () => {
    const t = createTestOtao();
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, true);
    await t.core.endpointEvents.registryLoaded([{ tenantId: TEST_TENANT, appName: TEST_APP, consentRequired: true }]);
    put(t, 'ep1', { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0']);
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(0);
    // the process stops; the file is edited; a new process (a new core over the same store) loads it
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, false);
    const restarted = t.replica();
    expect(await restarted.endpointEvents.registryLoaded([{ tenantId: TEST_TENANT, appName: TEST_APP, consentRequired: false }])).toBe(1);
    await t.drain();
    expect(pushesTo(t, 'ep1')).toEqual(['1.1.0']);
  });
});

// -----------------------------------------------------------------------------------------------
describe('failure policy (§4.8)', () => {
  test('a version is suspended once the failure rate reaches maxFailureRate after minReports; nobody is offered it afterwards', async () => {
    const t = createTestOtao();
    for (const id of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']) put(t, id, { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0'], { failurePolicy: { maxFailureRate: 0.5, minReports: 4 } });
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(6);

    expect(await report(t, 'e1', '1.1.0', 200)).toBe('applied');
    expect(await report(t, 'e2', '1.1.0', 500, 'flash failed')).toBe('failed');
    expect(await report(t, 'e3', '1.1.0', 200)).toBe('applied');
    // 3 reports (< minReports): still offered
    expect(await pull(t, 'e5', '1.0.0')).toMatchObject(offered('1.1.0'));
    expect(t.events.events.filter((e) => e.type === 'suspended')).toHaveLength(0);

    // 4th report, a failure: 2 of 4 = 0.5 reaches maxFailureRate
    expect(await report(t, 'e4', '1.1.0', 409)).toBe('failed');
    const suspended = t.events.events.filter((e) => e.type === 'suspended');
    expect(suspended).toEqual([
      expect.objectContaining({
        type: 'suspended',
        tenantId: TEST_TENANT,
        appName: TEST_APP,
        version: '1.1.0',
        rolloutStrategy: 'suspended',
        at: '2026-01-01T00:00:00Z',
      }),
    ]);
    const sw = await t.core.software.get(TEST_TENANT, TEST_APP, '1.1.0');
    expect(sw).toMatchObject({ ok: true, value: { rolloutStrategy: 'suspended', suspendedReason: expect.stringContaining('failure') } });
    const rollout = await t.core.insight.rollout(TEST_TENANT, TEST_APP, '1.1.0');
    expect(rollout).toMatchObject({ ok: true, value: { applied: 2, failed: 2, failureRate: 0.5, rolloutStrategy: 'suspended', offered: 6 } });

    // failures leave the current version; nobody is offered it from now on
    expect((await view(t, 'e2')).currentVersion).toBe('1.0.0');
    expect((await view(t, 'e2')).lastReport).toMatchObject({ configId: '1.1.0', statusCode: 500, reasonPhrase: 'flash failed' });
    expect(await pull(t, 'e5', '1.0.0')).toMatchObject(NONE);
    expect(await pull(t, 'e6', '1.0.0')).toMatchObject(NONE);
    expect(await pull(t, 'new', '1.0.0')).toMatchObject(NONE);
    t.publisher.clear();
    put(t, 'e7', { currentVersion: '1.0.0' });
    await t.core.pushes.run({ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP, reason: 'after suspension' });
    expect(t.publisher.pushes).toHaveLength(0);
    // an endpoint that applied the suspended version stays there and is told it is up to date
    expect(await pull(t, 'e1', '1.1.0')).toMatchObject(UNCHANGED);

    // further failures do not suspend twice
    await report(t, 'e5', '1.1.0', 500);
    expect(t.events.events.filter((e) => e.type === 'suspended')).toHaveLength(1);
  });

  test('reports below minReports never suspend, whatever the rate', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0'], { failurePolicy: { maxFailureRate: 0.1, minReports: 3 } });
    await report(t, 'a', '1.1.0', 500);
    await report(t, 'b', '1.1.0', 500);
    expect((await t.software.get(TEST_TENANT, TEST_APP, '1.1.0'))?.rolloutStrategy).toBe('general');
    await report(t, 'c', '1.1.0', 500);
    expect((await t.software.get(TEST_TENANT, TEST_APP, '1.1.0'))?.rolloutStrategy).toBe('suspended');
  });
});

// -----------------------------------------------------------------------------------------------
describe('CDTP ConfigRequest edge cases (§4.2)', () => {
  test('configName other than default is refused as an unknown configuration name', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    expect(await pull(t, 'ep1', '1.0.0', { configName: 'network' })).toMatchObject(refused('config.unknown_name'));
    // checked before the application version
    expect(await pull(t, 'ep1', '1.0.0', { configName: 'network', appVersionName: 'nope' })).toMatchObject(refused('config.unknown_name'));
    expect(await pull(t, 'ep1', '1.0.0', { configName: 'default' })).toMatchObject(offered('1.1.0'));
    expect(await pull(t, 'ep1', '1.0.0', { configName: null })).toMatchObject(offered('1.1.0'));
  });

  test('unknown appVersionName is refused as an unknown application version', async () => {
    const t = createTestOtao();
    expect(await pull(t, 'ep1', '1.0.0', { appVersionName: 'unknown-v9' })).toMatchObject(refused('application_version.not_found'));
  });

  test('an invalid SemVer configId is refused and not recorded', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    for (const bad of ['v1.0.0', '1.0', '01.0.0', '1.0.0 ', 'latest']) {
      expect(await pull(t, 'ep1', bad)).toMatchObject({ ok: false, error: { code: 'config.invalid_config_id', field: 'configId' } });
    }
    expect(await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep1' })).toBeUndefined();
  });

  test('store unavailable fails the pull with the coded error (the transport answers 503), never a silent drop', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    t.endpoints.faults.unavailable = true;
    await expect(pull(t, 'ep1', '1.0.0')).rejects.toMatchObject({ name: 'OtaoError', code: 'store.unavailable' });

    t.endpoints.faults.unavailable = false;
    t.software.faults.unavailable = true;
    t.core.catalogues.invalidate(TEST_TENANT, TEST_APP);
    await expect(pull(t, 'ep1', '1.0.0')).rejects.toMatchObject({ name: 'OtaoError', code: 'store.unavailable' });

    t.software.faults.unavailable = false;
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(offered('1.1.0'));
  });

  test('an endpoint with no membership record is looked up in EPR at pull time; EPR down means no filters', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }] });
    t.filters.setMembers('beta', TEST_APP_VERSION, ['member', 'unlucky']);
    expect(await pull(t, 'member', '1.0.0')).toMatchObject(offered('1.1.0'));
    expect(t.filters.calls.filtersOfEndpoint).toBe(1);
    expect((await view(t, 'member')).filters).toEqual(['beta']);
    // known now: not asked again
    await pull(t, 'member', '1.0.0');
    expect(t.filters.calls.filtersOfEndpoint).toBe(1);

    t.filters.faults.unavailable = true;
    expect(await pull(t, 'unlucky', '1.0.0')).toMatchObject(NONE);
  });

  test('content follows the software: a deleted and re-created version delivers its new specification', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0'], { specification: { a: 1 } });
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(offered('1.1.0', '{"a":1}'));
    expect((await t.core.software.delete(TEST_TENANT, TEST_APP, '1.1.0', {}, 'del')).ok).toBe(true);
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(NONE);
    t.clock.advance(1000);
    await create(t, '1.1.0', ['1.0.0'], { specification: { b: 2 } });
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(offered('1.1.0', '{"b":2}'));
    // and a replacement (new revision) too
    const r = await t.core.software.replace(TEST_TENANT, TEST_APP, '1.1.0', softwareBody('1.1.0', ['1.0.0'], { specification: { c: 3 } }), {}, 'put');
    expect(r.ok).toBe(true);
    expect(await pull(t, 'ep1', '1.0.0')).toMatchObject(offered('1.1.0', '{"c":3}'));
  });

  test('the request records the configId as the current version and counts the offer once', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    await pull(t, 'ep1', '1.0.0');
    await pull(t, 'ep1', '1.0.0');
    expect(await view(t, 'ep1')).toMatchObject({ appVersionName: TEST_APP_VERSION, currentVersion: '1.0.0', next: '1.1.0' });
    expect(await t.core.insight.rollout(TEST_TENANT, TEST_APP, '1.1.0')).toMatchObject({ ok: true, value: { offered: 1 } });
  });
});

// -----------------------------------------------------------------------------------------------
describe('pushes (§4.3)', () => {
  test('creating general software pushes one ConfigUpdated per eligible endpoint, never twice for the same version', async () => {
    const t = createTestOtao();
    put(t, 'a', { currentVersion: '1.0.0' });
    put(t, 'b', { currentVersion: '1.0.0+factory' });
    put(t, 'c', { currentVersion: '0.9.0' }); // no path
    put(t, 'd'); // version unknown
    put(t, 'e', { currentVersion: '1.1.0' }); // already there
    await create(t, '1.1.0', ['1.0.0'], { specification: { url: 'https://x/fw.bin', n: 1 } });
    await t.drain();
    expect(t.publisher.pushes).toEqual([
      expect.objectContaining({
        tenantId: TEST_TENANT,
        appName: TEST_APP,
        appVersionName: TEST_APP_VERSION,
        endpointId: 'a',
        version: '1.1.0',
        content: '{"url":"https://x/fw.bin","n":1}',
        contentType: 'application/json',
      }),
      expect.objectContaining({ endpointId: 'b', version: '1.1.0' }),
    ]);

    // run the pushes twice more, and change the software: still one per endpoint and version
    const r1 = await t.core.pushes.run({ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP, reason: 'again' });
    const r2 = await t.core.pushes.run({ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP, reason: 'again' });
    expect(r1.pushed + r2.pushed).toBe(0);
    const replaced = await t.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '1.1.0',
      softwareBody('1.1.0', ['1.0.0'], { metadata: { note: 'edited' } }),
      {},
      'edit',
    );
    expect(replaced.ok).toBe(true);
    await t.drain();
    expect(t.publisher.pushes).toHaveLength(2);
    expect(await t.core.insight.rollout(TEST_TENANT, TEST_APP, '1.1.0')).toMatchObject({ ok: true, value: { offered: 2 } });
  });

  test('a later, higher version is pushed to endpoints already pushed an earlier one', async () => {
    const t = createTestOtao();
    put(t, 'a', { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0']);
    await t.drain();
    await create(t, '1.2.0', ['1.0.0']);
    await t.drain();
    expect(pushesTo(t, 'a')).toEqual(['1.1.0', '1.2.0']);
  });

  test('an applied report of a hop makes the next hop pushed at once (chained upgrade)', async () => {
    const t = createTestOtao();
    put(t, 'a', { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0']);
    await create(t, '2.0.0', ['1.1.0']);
    await t.drain();
    expect(pushesTo(t, 'a')).toEqual(['1.1.0']);
    // a failed apply does not advance
    expect(await report(t, 'a', '1.1.0', 500)).toBe('failed');
    expect(pushesTo(t, 'a')).toEqual(['1.1.0']);
    expect(await report(t, 'a', '1.1.0', 204)).toBe('applied');
    expect(pushesTo(t, 'a')).toEqual(['1.1.0', '2.0.0']);
    expect(await view(t, 'a')).toMatchObject({ currentVersion: '1.1.0', next: '2.0.0', lastReport: { configId: '1.1.0', statusCode: 204 } });
  });

  test('a publish failure is not lost: the push is retried by the next run', async () => {
    const t = createTestOtao();
    put(t, 'a', { currentVersion: '1.0.0' });
    await create(t, '1.1.0', ['1.0.0']);
    t.publisher.faults.unavailable = true;
    await expect(t.core.pushes.run({ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP, reason: 'x' })).rejects.toThrow();
    t.publisher.faults.unavailable = false;
    t.work.clear();
    await t.core.pushes.run({ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP, reason: 'retry' });
    expect(pushesTo(t, 'a')).toEqual(['1.1.0']);
  });
});

// -----------------------------------------------------------------------------------------------
describe('endpoint lifecycle and tenants (§4.5, §4.7)', () => {
  test('unregistered wipes everything about the endpoint; idempotent', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    await pull(t, 'ep1', '1.0.0');
    await report(t, 'ep1', '1.1.0');
    await t.core.consents.grant(TEST_TENANT, TEST_APP, 'ep1', '*', 'g');
    await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep1', 'm');
    expect(await view(t, 'ep1')).toMatchObject({ currentVersion: '1.1.0', consents: ['*'], filters: ['beta'] });

    expect(await t.core.endpointEvents.unregistered(TEST_APP_VERSION, 'ep1')).toBe('done');
    expect(await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep1' })).toBeUndefined();
    expect(await t.core.insight.endpoint(TEST_TENANT, TEST_APP, 'ep1')).toMatchObject({ ok: false, error: { code: 'endpoint.not_found' } });
    expect(await t.core.endpointEvents.unregistered(TEST_APP_VERSION, 'ep1')).toBe('done');
    // it is forgotten: a pull without configId has nothing to go on
    expect(await pull(t, 'ep1')).toMatchObject(NONE);
    expect(await t.core.endpointEvents.unregistered('unknown-v1', 'ep1')).toBe('unknown_app_version');
  });

  test('a deleted filter is removed from every membership; appversion-updated records the new version name', async () => {
    const t = createTestOtao({ apps: [{ tenantId: TEST_TENANT, appName: TEST_APP, versions: [TEST_APP_VERSION, 'kettle-v2'] }] });
    await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep1', 'm');
    await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'gamma', 'ep1', 'm');
    expect(await t.core.endpointEvents.filterDeleted(TEST_APP, 'beta')).toBe('done');
    expect((await view(t, 'ep1')).filters).toEqual(['gamma']);
    expect(await t.core.endpointEvents.appVersionUpdated('ep1', 'kettle-v2', TEST_APP_VERSION)).toBe('done');
    expect((await view(t, 'ep1')).appVersionName).toBe('kettle-v2');
  });

  test('tenant removal deletes everything of the tenant and nothing of others', async () => {
    const t = createTestOtao({
      apps: [
        { tenantId: TEST_TENANT, appName: TEST_APP, versions: [TEST_APP_VERSION] },
        { tenantId: 'tenant-b', appName: TEST_APP, versions: ['kettle-b-v1'] },
      ],
    });
    await create(t, '1.1.0', ['1.0.0']);
    expect((await t.core.software.create('tenant-b', TEST_APP, softwareBody('1.1.0', ['1.0.0']), 'b')).ok).toBe(true);
    await pull(t, 'ep1', '1.0.0');
    await report(t, 'ep1', '1.1.0', 500);
    await t.endpoints.markFilterLoaded(TEST_TENANT, TEST_APP, 'beta');
    await t.core.config.decide({ appVersionName: 'kettle-b-v1', endpointId: 'epb', configId: '1.0.0', correlationId: 'b' });
    await t.drain();

    await t.core.tenants.removed(TEST_TENANT);
    expect(await t.core.software.list(TEST_TENANT, TEST_APP)).toEqual({ ok: true, value: [] });
    expect(t.endpoints.count(TEST_TENANT)).toBe(0);
    expect(await t.stats.get(TEST_TENANT, TEST_APP, '1.1.0')).toEqual({ offered: 0, applied: 0, failed: 0, timedOut: 0, rolledBack: 0 });
    expect(await t.endpoints.loadedFilters(TEST_TENANT, TEST_APP)).toEqual(new Set());
    // the cached catalogue is gone too
    expect(await pull(t, 'ep2', '1.0.0')).toMatchObject(NONE);
    // idempotent
    await t.core.tenants.removed(TEST_TENANT);

    // tenant-b untouched
    expect((await t.software.list('tenant-b', TEST_APP)).map((x) => x.version)).toEqual(['1.1.0']);
    expect(t.endpoints.count('tenant-b')).toBe(1);
    expect(await t.core.config.decide({ appVersionName: 'kettle-b-v1', endpointId: 'epb', configId: '1.0.0', correlationId: 'b' })).toMatchObject(
      offered('1.1.0'),
    );
  });
});

// -----------------------------------------------------------------------------------------------
describe('insight (§6.3, §6.4)', () => {
  test('preview groups endpoints with counts and pages', async () => {
    const t = createTestOtao({ start: '2026-01-01T00:00:00Z' });
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, true);
    await t.endpoints.markFilterLoaded(TEST_TENANT, TEST_APP, 'a');
    await t.endpoints.markFilterLoaded(TEST_TENANT, TEST_APP, 'b');
    await create(t, '2.0.0', ['1.0.0', '0.5.0'], {
      rolloutStrategy: 'targeted',
      filters: [{ filterId: 'a' }, { filterId: 'b', rolloutDate: '2026-02-01T00:00:00Z' }],
    });
    await create(t, '1.5.0', ['1.0.0'], { rolloutStrategy: 'suspended' });
    await create(t, '0.6.0', ['0.1.0']);
    const all = ['*'];
    put(t, 'ep-now', { currentVersion: '1.0.0', filters: ['a'], consents: all });
    put(t, 'ep-later', { currentVersion: '1.0.0', filters: ['b'], consents: all });
    put(t, 'ep-filter', { currentVersion: '1.0.0', filters: ['other'], consents: all });
    put(t, 'ep-consent', { currentVersion: '1.0.0', filters: ['a'], consents: ['1.5.0'] });
    put(t, 'ep-already', { currentVersion: '2.0.0', filters: ['a'], consents: all });
    put(t, 'ep-unknown', { filters: ['a'], consents: all });
    put(t, 'ep-nopath', { currentVersion: '0.1.0', filters: ['a'], consents: all });
    put(t, 'ep-consent-v', { currentVersion: '1.0.0', filters: ['a'], consents: ['2.0.0'] }); // consent for exactly this version

    const r = await t.core.insight.preview(TEST_TENANT, TEST_APP, '2.0.0', { offset: 0, limit: 100 });
    if (!r.ok) throw new Error(r.error.code);
    const p = r.value;
    const groupOf = Object.fromEntries(p.items.map((i) => [i.endpointId, i.group]));
    expect(groupOf).toEqual({
      'ep-now': 'now',
      'ep-consent-v': 'now',
      'ep-later': 'later',
      'ep-filter': 'filter-not-matched',
      'ep-consent': 'consent-missing',
      'ep-already': 'already-on-version',
      'ep-unknown': 'version-unknown',
      'ep-nopath': 'no-path',
    });
    const expected: Record<PreviewGroup, number> = {
      now: 2,
      later: 1,
      'no-path': 1,
      'filter-not-matched': 1,
      'consent-missing': 1,
      'already-on-version': 1,
      'version-unknown': 1,
      suspended: 0,
    };
    expect(p.counts).toEqual(expected);
    expect(Object.keys(p.counts).sort()).toEqual([...PREVIEW_GROUPS].sort());
    expect(p.total).toBe(8);
    expect(p.items.find((i) => i.endpointId === 'ep-later')).toMatchObject({
      filterId: 'b',
      rolloutDate: Date.parse('2026-02-01T00:00:00Z'),
      currentVersion: '1.0.0',
    });
    expect(p.rolloutStrategy).toBe('targeted');

    // pagination: counts cover everyone, items only the page (ordered by endpointId)
    const page = await t.core.insight.preview(TEST_TENANT, TEST_APP, '2.0.0', { offset: 2, limit: 3 });
    expect(page).toMatchObject({ ok: true, value: { total: 8, offset: 2, limit: 3, counts: expected } });
    if (page.ok) expect(page.value.items.map((i) => i.endpointId)).toEqual(['ep-consent-v', 'ep-filter', 'ep-later']);

    // a suspended version: everyone on another known version is `suspended`
    const s = await t.core.insight.preview(TEST_TENANT, TEST_APP, '1.5.0', { offset: 0, limit: 100 });
    expect(s).toMatchObject({ ok: true, value: { rolloutStrategy: 'suspended', counts: { suspended: 7, 'version-unknown': 1, now: 0 } } });

    // once the date of filter b passes, the `later` endpoint is `now`
    t.clock.set('2026-02-01T00:00:00Z');
    const after = await t.core.insight.preview(TEST_TENANT, TEST_APP, '2.0.0', { offset: 0, limit: 100 });
    expect(after).toMatchObject({ ok: true, value: { counts: { now: 3, later: 0 } } });

    // unknown version or application
    expect(await t.core.insight.preview(TEST_TENANT, TEST_APP, '9.9.9', { offset: 0, limit: 10 })).toMatchObject({
      ok: false,
      error: { code: 'software.not_found' },
    });
    expect(await t.core.insight.preview(TEST_TENANT, 'nope', '2.0.0', { offset: 0, limit: 10 })).toMatchObject({
      ok: false,
      error: { code: 'application.not_found' },
    });
  });

  test('preview counts by shape equal the counts of every endpoint classified alone (random fleet)', async () => {
    const t = createTestOtao({ start: '2026-01-01T00:00:00Z' });
    t.registry.setConsentRequired(TEST_TENANT, TEST_APP, true);
    for (const f of ['a', 'b', 'c']) await t.endpoints.markFilterLoaded(TEST_TENANT, TEST_APP, f);
    await create(t, '2.0.0', ['1.0.0', '0.5.0'], {
      rolloutStrategy: 'targeted',
      filters: [{ filterId: 'a' }, { filterId: 'b', rolloutDate: '2026-02-01T00:00:00Z' }],
    });
    await create(t, '1.5.0', ['1.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'c' }] });
    await create(t, '0.6.0', ['0.1.0']);
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const versions = [undefined, '0.1.0', '0.5.0', '1.0.0', '1.5.0', '2.0.0'];
    const subsets = [[], ['a'], ['b'], ['c'], ['a', 'b'], ['b', 'a'], ['c', 'a']];
    const consents = [[], ['*'], ['2.0.0'], ['1.5.0'], ['1.5.0', '2.0.0']];
    for (let i = 0; i < 400; i++) {
      const v = versions[rnd(versions.length)];
      put(t, `ep-${String(i).padStart(3, '0')}`, {
        ...(v !== undefined ? { currentVersion: v } : {}),
        filters: subsets[rnd(subsets.length)]!,
        consents: consents[rnd(consents.length)]!,
      });
    }
    // The oracle: a store whose every endpoint is a shape of its own (what streaming the fleet did).
    const grouped = t.endpoints.shapes.bind(t.endpoints);
    const alone = async (tenantId: string, appName: string) => {
      const out = [];
      for await (const batch of t.endpoints.stream(tenantId, appName, { batchSize: 50 }))
        for (const s of batch)
          out.push({ ...(s.currentVersion !== undefined ? { currentVersion: s.currentVersion } : {}), filters: s.filters, consents: s.consents, count: 1 });
      return out;
    };
    for (const at of ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z']) {
      t.clock.set(at);
      for (const version of ['2.0.0', '1.5.0', '0.6.0']) {
        t.endpoints.shapes = grouped;
        expect((await grouped(TEST_TENANT, TEST_APP)).length).toBeLessThan(200);
        const byShape = await t.core.insight.preview(TEST_TENANT, TEST_APP, version, { offset: 10, limit: 50 });
        t.endpoints.shapes = alone;
        const byEndpoint = await t.core.insight.preview(TEST_TENANT, TEST_APP, version, { offset: 10, limit: 50 });
        expect(byShape).toEqual(byEndpoint);
        if (byShape.ok) expect(byShape.value.total).toBe(400);
      }
    }
    t.endpoints.shapes = grouped;
  });

  test('endpoint view fields', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    await create(t, '1.2.0', ['1.1.0']);
    await pull(t, 'ep1', '1.0.0');
    await t.core.consents.grant(TEST_TENANT, TEST_APP, 'ep1', '1.2.0', 'g');
    await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep1', 'm');
    t.clock.advance(1000);
    await report(t, 'ep1', '1.0.0', 200, 'installed');

    const v = await view(t, 'ep1');
    expect(v).toEqual({
      endpointId: 'ep1',
      appVersionName: TEST_APP_VERSION,
      currentVersion: '1.0.0',
      lastReport: { configId: '1.0.0', statusCode: 200, reasonPhrase: 'installed', at: Date.parse('2026-01-01T00:00:01Z') },
      next: '1.1.0',
      path: ['1.1.0', '1.2.0'],
      goal: '1.2.0',
      consents: ['1.2.0'],
      filters: ['beta'],
    });
    // an endpoint known only through a filter event: no version, no plan
    await t.core.endpointEvents.filterMatched(TEST_APP_VERSION, 'beta', 'ep2', 'm');
    expect(await view(t, 'ep2')).toEqual({ endpointId: 'ep2', appVersionName: TEST_APP_VERSION, path: [], consents: [], filters: ['beta'] });
    expect(await t.core.insight.endpoint(TEST_TENANT, TEST_APP, 'ghost')).toMatchObject({ ok: false, error: { code: 'endpoint.not_found' } });
    // list with version filter
    const list = await t.core.insight.endpoints(TEST_TENANT, TEST_APP, { version: '1.0.0', offset: 0, limit: 10 });
    expect(list).toMatchObject({ ok: true, value: { totalElements: 1, content: [expect.objectContaining({ endpointId: 'ep1' })] } });
  });
});
