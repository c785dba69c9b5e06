/**
 * Issue 11, items 1 and 2, through the use cases: a change of the software stops a running push
 * job before its next slice, and every replica decides on the catalogue of the latest acknowledged
 * change (the store's catalogue revision), not on a cache waiting for a best-effort event.
 */
import { OtaoError, type PushPacer } from '@otao/core';
import { createTestOtao, endpointState, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

type Overrides = Parameters<typeof softwareBody>[2];

async function create(t: TestOtao, version: string, from: readonly string[], overrides: Overrides = {}): Promise<void> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, overrides), `create-${version}`);
  if (!r.ok) throw new Error(`create ${version}: ${r.error.code}`);
}

function fleet(t: TestOtao, n: number, version = '1.0.0'): void {
  for (let i = 0; i < n; i++)
    t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, `ep-${String(i).padStart(3, '0')}`, { appVersionName: TEST_APP_VERSION, currentVersion: version }));
}

/** A pacer that lets one push through per take and runs `hook` before the n-th take returns. */
function onePerTake(n: number, hook: () => Promise<void>): PushPacer & { takes: number } {
  const p = {
    takes: 0,
    async take(): Promise<number> {
      p.takes++;
      if (p.takes === n) await hook();
      return 1;
    },
  };
  return p;
}

/** One endpoint on 1.0.0 and software 1.1.0 upgradable from it, the work its creation scheduled dropped. */
async function oneEndpointOffered110(): Promise<TestOtao> {
  const t = createTestOtao();
  fleet(t, 1);
  await create(t, '1.1.0', ['1.0.0']);
  t.work.clear();
  return t;
}

const pushesOf = (t: TestOtao, version: string): number => t.publisher.pushes.filter((p) => p.version === version).length;
const scope = { kind: 'app' as const, tenantId: TEST_TENANT, appName: TEST_APP, reason: 'test' };

describe('a suspension stops a running push job before its next slice (§4.3)', () => {
  test('suspended over REST (the use case) while the job runs: nothing more of that version is pushed', async () => {
    let suspendedAt = -1;
    const pacer = onePerTake(4, async () => {
      const r = await t.core.software.replace(
        TEST_TENANT,
        TEST_APP,
        '1.1.0',
        softwareBody('1.1.0', ['1.0.0'], { rolloutStrategy: 'suspended' }),
        {},
        'suspend',
      );
      expect(r.ok).toBe(true);
      suspendedAt = pushesOf(t, '1.1.0');
    });
    const t = createTestOtao({ pacer, pushConcurrency: 100 });
    fleet(t, 20);
    await create(t, '1.1.0', ['1.0.0']);
    t.work.clear();
    const run = await t.core.pushes.run(scope);
    expect(run.superseded).toBe(true);
    expect(suspendedAt).toBe(3);
    expect(pushesOf(t, '1.1.0')).toBe(3); // none after the suspension was stored
    // the suspension scheduled its own push computation; on the new catalogue it pushes nothing of 1.1.0
    expect(t.work.pushes.length).toBeGreaterThan(0);
    await t.drain();
    expect(pushesOf(t, '1.1.0')).toBe(3);
    // the three that were pushed are recorded; the rest were released, not left claimed
    const states = await t.endpoints.list(TEST_TENANT, TEST_APP, { offset: 0, limit: 100 });
    expect(states.content.filter((s) => s.pushed.includes('1.1.0'))).toHaveLength(3);
  });

  test('suspended by the failure policy while the job runs: the job stops and the pushes are recomputed', async () => {
    const pacer = onePerTake(5, async () => {
      for (const ep of ['ep-000', 'ep-001', 'ep-002']) {
        await t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: ep, configId: '1.1.0', statusCode: 500, correlationId: `r-${ep}` });
      }
    });
    const t = createTestOtao({ pacer, pushConcurrency: 100 });
    fleet(t, 20);
    await create(t, '1.1.0', ['1.0.0'], { failurePolicy: { maxFailureRate: 0.5, minReports: 3 } });
    t.work.clear();
    const run = await t.core.pushes.run(scope);
    expect((await t.software.get(TEST_TENANT, TEST_APP, '1.1.0'))?.rolloutStrategy).toBe('suspended');
    expect(run.superseded).toBe(true);
    expect(pushesOf(t, '1.1.0')).toBe(4);
    // RolloutSafety scheduled the recomputation like any other change
    expect(t.work.pushes).toEqual([expect.objectContaining({ kind: 'app', tenantId: TEST_TENANT, appName: TEST_APP })]);
    await t.drain();
    expect(pushesOf(t, '1.1.0')).toBe(4);
  });

  test('an unrelated change of the app also hands the rest of the run to a run on the new catalogue, which finishes it', async () => {
    const pacer = onePerTake(3, async () => void (await create(t, '0.1.0', [])));
    const t = createTestOtao({ pacer, pushConcurrency: 100 });
    fleet(t, 10);
    await create(t, '1.1.0', ['1.0.0']);
    t.work.clear();
    expect((await t.core.pushes.run(scope)).superseded).toBe(true);
    const again = await t.core.pushes.run(scope);
    expect(again.superseded).toBe(false);
    expect(pushesOf(t, '1.1.0')).toBe(10); // each endpoint once
    expect(new Set(t.publisher.pushes.map((p) => p.endpointId)).size).toBe(10);
  });
});

describe('every replica decides on the latest acknowledged catalogue (§4.3, §10)', () => {
  test('a pull on replica A right after replica B suspended the version is not offered it', async () => {
    const t = createTestOtao();
    const a = t.core;
    const b = t.replica();
    await create(t, '1.1.0', ['1.0.0']);
    const pullA = () => a.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-x', configId: '1.0.0', correlationId: 'p' });
    expect(await pullA()).toMatchObject({ ok: true, value: { outcome: 'new', configId: '1.1.0' } }); // A's catalogue is now cached
    const r = await b.software.replace(TEST_TENANT, TEST_APP, '1.1.0', softwareBody('1.1.0', ['1.0.0'], { rolloutStrategy: 'suspended' }), {}, 'suspend on B');
    expect(r.ok).toBe(true);
    // no software event reached A, and its cache is young: the store's revision still tells it
    expect(await pullA()).toEqual({ ok: true, value: { outcome: 'none' } });
  });

  test('a push job run by a replica with a warm cache works from the change that triggered it', async () => {
    const t = createTestOtao();
    fleet(t, 5);
    await create(t, '1.1.0', ['1.0.0']);
    const b = t.replica();
    await b.pushes.run(scope); // B caches the catalogue with 1.1.0 and pushes it
    expect(pushesOf(t, '1.1.0')).toBe(5);
    await create(t, '2.0.0', ['1.0.0']); // made on A: B's cache is stale
    // the endpoints are still on 1.0.0, and next(E) is now 2.0.0, which B pushes (with its stale
    // catalogue it found nothing new and completed the job empty)
    const r = await b.pushes.run(scope);
    expect(r.pushed).toBe(5);
    expect(pushesOf(t, '2.0.0')).toBe(5);
  });
});

describe('rollout counters stay exact across a crash (§4.8)', () => {
  test('an endpoint that reports a version whose offer was never recorded is counted offered once', async () => {
    const t = await oneEndpointOffered110();
    // the push reached the device but its replica died before recording it: nothing marked, nothing counted
    const report = (statusCode: number) =>
      t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-000', configId: '1.1.0', statusCode, correlationId: 'r' });
    expect(await report(200)).toBe('applied');
    expect(await t.stats.get(TEST_TENANT, TEST_APP, '1.1.0')).toEqual({ offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 0 });
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep-000' }))?.offered).toEqual(['1.1.0']);
    await report(500);
    expect((await t.stats.get(TEST_TENANT, TEST_APP, '1.1.0')).offered).toBe(1); // once per endpoint and version
  });
});

describe('the registry has not loaded yet (§10)', () => {
  test('a pull fails as unavailable (the CDTP adapter answers 503), never "unknown application version"', async () => {
    const t = createTestOtao();
    await create(t, '1.1.0', ['1.0.0']);
    t.registry.loaded = false;
    await expect(t.core.config.decide({ appVersionName: TEST_APP_VERSION, endpointId: 'e', configId: '1.0.0', correlationId: 'p' })).rejects.toMatchObject({
      code: 'dependency.unavailable',
    });
    // an event is not discarded as "unknown application version": it fails, so the listener retries it
    await expect(
      t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: 'e', configId: '1.0.0', statusCode: 200, correlationId: 'r' }),
    ).rejects.toMatchObject({ code: 'dependency.unavailable' });
    t.registry.loaded = true;
    expect(await t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: 'e', configId: '1.0.0', statusCode: 200, correlationId: 'r' })).toBe(
      'applied',
    );
  });
});

describe('a report retried after a store outage is counted once (§4.8, §10)', () => {
  test('the outage strikes after the report was recorded and before it was counted: the retry counts it, a repeat does not', async () => {
    const t = await oneEndpointOffered110();
    const report = (correlationId = 'r') =>
      t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-000', configId: '1.1.0', statusCode: 200, correlationId });
    t.software.faults.unavailable = true; // recordReport succeeds, the catalogue read after it fails
    await expect(report()).rejects.toMatchObject({ code: 'store.unavailable' });
    expect((await t.endpoints.get({ tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep-000' }))?.lastReport?.configId).toBe('1.1.0');
    t.software.faults.unavailable = false;
    expect(await report()).toBe('applied'); // the event listener's retry
    expect(await t.stats.get(TEST_TENANT, TEST_APP, '1.1.0')).toEqual({ offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 0 });
    expect(await report('r-2')).toBe('duplicate'); // the device repeating itself (a new message)
    expect(await t.stats.get(TEST_TENANT, TEST_APP, '1.1.0')).toEqual({ offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 0 });
  });
});

describe('a report whose counting mark was stored but not acknowledged is still counted once (§4.8)', () => {
  test('the retry of the same report (same correlation id) counts it; a repeat with another id does not', async () => {
    const t = await oneEndpointOffered110();
    const key = { tenantId: TEST_TENANT, appName: TEST_APP, endpointId: 'ep-000' };
    // The store took the mark, the connection failed before its answer: the listener retries the report.
    const mark = t.endpoints.markReportCounted.bind(t.endpoints);
    let lose = true;
    t.endpoints.markReportCounted = async (...args) => {
      const r = await mark(...args);
      if (lose) {
        lose = false;
        throw new OtaoError('store.unavailable', 'endpoints.markReportCounted: connection closed after the write');
      }
      return r;
    };
    const report = (correlationId: string) =>
      t.core.reports.applied({ appVersionName: TEST_APP_VERSION, endpointId: 'ep-000', configId: '1.1.0', statusCode: 200, correlationId });
    await expect(report('c-1')).rejects.toMatchObject({ code: 'store.unavailable' });
    expect(await report('c-1')).toBe('applied');
    expect(await report('c-2')).toBe('duplicate');
    expect(await t.stats.get(TEST_TENANT, TEST_APP, '1.1.0')).toEqual({ offered: 1, applied: 1, failed: 0, timedOut: 0, rolledBack: 0 });
    expect((await t.endpoints.get(key))?.currentVersion).toBe('1.1.0');
  });
});
