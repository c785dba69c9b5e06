import { type Preview } from '@otao/core';
import { createTestOtao, endpointState, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

// The preview of a phased rollout is answered from the app's shapes split by the catalogue's cohort
// boundaries (every phase percent of every phased software), each shape classified once with a cohort
// of its bucket — not by classifying every endpoint. It must answer exactly what classifying every
// endpoint answers, and a phase advance must not make a large application count again.
const LARGE = 100;

async function create(t: TestOtao, version: string, from: readonly string[], overrides: Parameters<typeof softwareBody>[2] = {}): Promise<void> {
  const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(version, from, overrides), `create-${version}`);
  if (!r.ok) throw new Error(`${version}: ${r.error.message}`);
}

/** A mixed fleet: versions, filter memberships and consents vary; cohorts are whatever the ids hash to. */
function fleet(t: TestOtao, n: number): void {
  const versions = ['1.0.0', '1.0.0', '1.1.0', '2.0.0', undefined];
  for (let i = 0; i < n; i++) {
    const v = versions[i % versions.length];
    t.endpoints.put(
      endpointState(TEST_TENANT, TEST_APP, `ep-${String(i).padStart(4, '0')}`, {
        appVersionName: TEST_APP_VERSION,
        ...(v !== undefined ? { currentVersion: v } : {}),
        filters: i % 3 === 0 ? ['beta'] : [],
        consents: i % 4 === 0 ? ['2.0.0'] : [],
      }),
    );
  }
}

async function catalogue(t: TestOtao): Promise<void> {
  await create(t, '1.0.0', []);
  await create(t, '1.1.0', ['1.0.0'], { phases: [{ percent: 12.5 }, { percent: 100 }] });
  await create(t, '2.0.0', ['1.0.0', '1.1.0'], { phases: [{ percent: 10 }, { percent: 35 }, { percent: 70 }, { percent: 100 }] });
  await create(t, '2.1.0', ['2.0.0'], { rolloutStrategy: 'targeted', filters: [{ filterId: 'beta' }], phases: [{ percent: 50 }, { percent: 100 }] });
}

async function preview(t: TestOtao, version: string, offset = 0, limit = 1000): Promise<Preview> {
  const r = await t.core.insight.preview(TEST_TENANT, TEST_APP, version, { offset, limit });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/**
 * A core under test and a reference core given the same fleet and the same operations. The
 * reference classifies every endpoint: its store splits no shapes by cohort, and it counts every
 * answer exactly (nothing stored).
 */
function twins(exactCountsBelow: number): { readonly t: TestOtao; readonly ref: TestOtao; readonly both: TestOtao[] } {
  const t = createTestOtao({ start: '2026-03-02T08:00:00Z', exactCountsBelow });
  const ref = createTestOtao({ start: '2026-03-02T08:00:00Z', exactCountsBelow: 1_000_000_000 });
  const real = ref.endpoints.shapes.bind(ref.endpoints);
  jest.spyOn(ref.endpoints, 'shapes').mockImplementation((tenantId, appName) => real(tenantId, appName));
  return { t, ref, both: [t, ref] };
}

describe('preview of a phased rollout from shapes split by cohort', () => {
  test.each([false, true])('answers what classifying every endpoint answers, at each phase (large application: %s)', async (large) => {
    const { t, ref, both } = twins(large ? LARGE : 1_000_000);
    for (const x of both) {
      fleet(x, 3 * LARGE);
      await catalogue(x);
      expect((await x.core.consents.grant(TEST_TENANT, TEST_APP, 'ep-0001', '2.0.0', 'grant')).ok).toBe(true);
    }
    const stream = jest.spyOn(t.endpoints, 'stream');
    const refStream = jest.spyOn(ref.endpoints, 'stream');
    let offeredSomewhere = 0;
    for (let phase = 0; phase < 4; phase++) {
      for (const version of ['1.1.0', '2.0.0', '2.1.0']) {
        const want = await preview(ref, version);
        await t.core.insight.countsSettled();
        const got = await preview(t, version);
        expect({ ...got, countedAt: 0 }).toEqual({ ...want, countedAt: 0 });
        offeredSomewhere += got.counts.now + got.counts.later;
      }
      for (const x of both) await x.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', `advance-${phase}`);
    }
    expect(refStream).toHaveBeenCalled();
    expect(stream).not.toHaveBeenCalled();
    expect(offeredSomewhere).toBeGreaterThan(0);
  });

  test('a page of the preview is the same page as classifying every endpoint gives', async () => {
    const { t, ref, both } = twins(LARGE);
    for (const x of both) {
      fleet(x, 2 * LARGE);
      await catalogue(x);
    }
    for (const [offset, limit] of [
      [0, 10],
      [37, 5],
      [150, 50],
      [199, 10],
    ] as const) {
      const want = await preview(ref, '2.0.0', offset, limit);
      await t.core.insight.countsSettled();
      expect({ ...(await preview(t, '2.0.0', offset, limit)), countedAt: 0 }).toEqual({ ...want, countedAt: 0 });
    }
  });

  test('a large application: a phase advance answers from the stored counts; new phases count once again, the list meanwhile answering from the old counts', async () => {
    const { t, ref, both } = twins(LARGE);
    for (const x of both) {
      fleet(x, 2 * LARGE);
      await catalogue(x);
    }
    const first = await preview(t, '2.0.0', 0, 0); // the first count of a large application, stored
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toMatchObject({ cohortBoundaries: [10, 12.5, 35, 50, 70], total: 2 * LARGE });
    const shapes = jest.spyOn(t.endpoints, 'shapes');
    for (const x of both) await x.core.phases.advance(TEST_TENANT, TEST_APP, '2.0.0', 'advance');
    t.clock.advance(1000);
    const advanced = await preview(t, '2.0.0', 0, 0);
    expect(advanced.countedAt).toBe(first.countedAt); // the stored counts
    expect({ ...advanced, countedAt: 0 }).toEqual({ ...(await preview(ref, '2.0.0', 0, 0)), countedAt: 0 });
    expect(advanced.counts.now).toBeGreaterThan(first.counts.now); // the next phase is open
    expect(shapes).not.toHaveBeenCalled();

    // New phases: new boundaries. The list still answers from the old counts and recounts in the background.
    const r = await t.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '1.1.0',
      softwareBody('1.1.0', ['1.0.0'], { phases: [{ percent: 20 }, { percent: 100 }] }),
      {},
      'update',
    );
    expect(r.ok).toBe(true);
    await ref.core.software.replace(
      TEST_TENANT,
      TEST_APP,
      '1.1.0',
      softwareBody('1.1.0', ['1.0.0'], { phases: [{ percent: 20 }, { percent: 100 }] }),
      {},
      'update',
    );
    t.clock.advance(1000);
    const list = await t.core.insight.endpoints(TEST_TENANT, TEST_APP, { offset: 0, limit: 1 });
    expect(list.ok && list.value).toMatchObject({ totalElements: 2 * LARGE, countedAt: first.countedAt });
    const p = await preview(t, '1.1.0', 0, 0); // waits for the recount the list started
    expect(shapes).toHaveBeenCalledTimes(1);
    expect(p.countedAt).toBeGreaterThan(first.countedAt);
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toMatchObject({ cohortBoundaries: [10, 20, 35, 50, 70] });
    expect({ ...p, countedAt: 0 }).toEqual({ ...(await preview(ref, '1.1.0', 0, 0)), countedAt: 0 });
  });

  test('endpoints the store holds no cohort for: every endpoint is classified', async () => {
    const t = createTestOtao({ start: '2026-03-02T08:00:00Z' });
    fleet(t, 50);
    await catalogue(t);
    const real = t.endpoints.shapes.bind(t.endpoints);
    // a store whose endpoints were written before cohorts were stored: no bucket on some shapes
    jest.spyOn(t.endpoints, 'shapes').mockImplementation(async (tenantId, appName, boundaries) => {
      const split = await real(tenantId, appName, boundaries);
      return split.map((s, i) => {
        if (i > 0) return s;
        const { cohortBucket: _dropped, ...rest } = s;
        return rest;
      });
    });
    const stream = jest.spyOn(t.endpoints, 'stream');
    const got = await preview(t, '2.0.0');
    expect(stream).toHaveBeenCalled();
    expect(got.total).toBe(50);
  });
});
