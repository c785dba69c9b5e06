import { OtaoError, type RecountOutcome } from '@otao/core';
import { MAX_STORED_SHAPES } from '@otao/core/internal';
import { createTestOtao, endpointState, softwareBody, TEST_APP, TEST_APP_VERSION, TEST_TENANT, type TestOtao } from '@otao/core/testing';

// The lists and the preview of a large application answer their counts from stored counts, recounted
// in the background when old (FleetCounts); a small one is counted for every answer.
const LARGE = 50;
const MAX_AGE = 60_000;

function fleet(t: TestOtao, n: number, from = 0, version = '1.0.0'): void {
  for (let i = from; i < from + n; i++) {
    t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, `ep-${String(i).padStart(4, '0')}`, { appVersionName: TEST_APP_VERSION, currentVersion: version }));
  }
}

async function setup(): Promise<TestOtao> {
  const t = createTestOtao({ exactCountsBelow: LARGE, countsMaxAgeMs: MAX_AGE });
  for (const [v, from] of [
    ['1.0.0', []],
    ['1.1.0', ['1.0.0']],
  ] as const) {
    const r = await t.core.software.create(TEST_TENANT, TEST_APP, softwareBody(v, from), `create-${v}`);
    if (!r.ok) throw new Error(r.error.message);
  }
  return t;
}

const list = async (t: TestOtao, q: { version?: string; offset?: number; limit?: number } = {}) => {
  const r = await t.core.insight.endpoints(TEST_TENANT, TEST_APP, { offset: 0, limit: 10, ...q });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const preview = async (t: TestOtao, offset = 0, limit = 10) => {
  const r = await t.core.insight.preview(TEST_TENANT, TEST_APP, '1.1.0', { offset, limit });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('fleet counts', () => {
  test('a small application is counted for every answer and stores no counts', async () => {
    const t = await setup();
    fleet(t, LARGE - 1);
    const start = t.clock.now();
    expect(await list(t)).toMatchObject({ totalElements: LARGE - 1, countedAt: start });
    await t.core.insight.countsSettled();
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toBeUndefined();
    fleet(t, 1, 100, '0.9.0'); // now LARGE endpoints: counted exactly, then stored in the background
    t.clock.advance(5);
    expect(await list(t)).toMatchObject({ totalElements: LARGE, countedAt: start + 5 });
    expect((await preview(t)).counts.now).toBe(LARGE - 1);
  });

  test('a large application answers from stored counts, recounted in the background when older than the maximum age', async () => {
    const t = await setup();
    fleet(t, LARGE);
    const t0 = t.clock.now();
    expect(await list(t)).toMatchObject({ totalElements: LARGE, countedAt: t0 }); // exact: nothing stored yet
    await t.core.insight.countsSettled();
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toMatchObject({ total: LARGE, countedAt: t0 });

    fleet(t, 10, 1000, '0.9.0');
    t.clock.advance(MAX_AGE); // not older than the maximum age yet
    const shapes = jest.spyOn(t.endpoints, 'shapes');
    expect(await list(t)).toMatchObject({ totalElements: LARGE, countedAt: t0 });
    expect(await list(t, { version: '0.9.0' })).toMatchObject({ totalElements: 0, countedAt: t0 });
    expect(await preview(t)).toMatchObject({ total: LARGE, countedAt: t0, counts: expect.objectContaining({ now: LARGE }) });
    await t.core.insight.countsSettled();
    expect(shapes).not.toHaveBeenCalled();

    t.clock.advance(1); // older: this answer is still the stored one, the next has the recount
    expect(await list(t)).toMatchObject({ totalElements: LARGE, countedAt: t0 });
    await t.core.insight.countsSettled();
    expect(shapes).toHaveBeenCalledTimes(1);
    const t1 = t.clock.now();
    expect(await list(t)).toMatchObject({ totalElements: LARGE + 10, countedAt: t1 });
    expect(await list(t, { version: '0.9.0' })).toMatchObject({ totalElements: 10, countedAt: t1 });
    const p = await preview(t);
    expect(p).toMatchObject({ total: LARGE + 10, countedAt: t1 });
    expect(p.counts).toMatchObject({ now: LARGE, 'no-path': 10 });
  });

  test('the preview counts a large application once, then answers from the stored counts', async () => {
    const t = await setup();
    fleet(t, LARGE + 5);
    const first = await preview(t);
    expect(first).toMatchObject({ total: LARGE + 5, countedAt: t.clock.now() });
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toMatchObject({ total: LARGE + 5 }); // stored by that count
    const shapes = jest.spyOn(t.endpoints, 'shapes');
    t.clock.advance(10);
    expect(await preview(t)).toEqual({ ...first, countedAt: first.countedAt });
    expect(shapes).not.toHaveBeenCalled();
  });

  test('a preview opened while the first count of a large application runs waits for it instead of counting again', async () => {
    const t = await setup();
    fleet(t, LARGE + 5);
    // the first stored count (in the background) takes its time
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const real = t.endpoints.shapes.bind(t.endpoints);
    const shapes = jest.spyOn(t.endpoints, 'shapes').mockImplementationOnce(async (tenantId, appName) => {
      await gate;
      return real(tenantId, appName);
    });
    expect(await list(t)).toMatchObject({ totalElements: LARGE + 5 }); // exact; starts the first stored count
    const opened = preview(t);
    await new Promise((r) => setTimeout(r, 20));
    release();
    const p = await opened;
    expect(p).toMatchObject({ total: LARGE + 5, counts: expect.objectContaining({ now: LARGE + 5 }) });
    expect(shapes).toHaveBeenCalledTimes(1);
  });

  test('every page of a large list, read from the end past its middle, equals the exact page', async () => {
    const t = await setup();
    fleet(t, 70);
    fleet(t, 23, 500, '0.9.0');
    const exact = createTestOtao({ exactCountsBelow: 1_000_000 });
    for (const s of await t.endpoints.page(TEST_TENANT, TEST_APP, { offset: 0, limit: 1000 })) exact.endpoints.put(s);
    await list(t);
    await t.core.insight.countsSettled();
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toBeDefined();
    const page = jest.spyOn(t.endpoints, 'page');
    for (const version of [undefined, '0.9.0']) {
      for (const limit of [1, 7, 10]) {
        for (let offset = 0; offset <= 95; offset += 3) {
          const q = { offset, limit, ...(version !== undefined ? { version } : {}) };
          const want = await exact.core.insight.endpoints(TEST_TENANT, TEST_APP, q);
          const got = await list(t, q);
          expect(want.ok && { ...want.value, countedAt: 0 }).toEqual({ ...got, countedAt: 0 });
        }
      }
    }
    // the last page was read from the end
    expect(page).toHaveBeenCalledWith(TEST_TENANT, TEST_APP, { offset: 0, limit: 3, fromEnd: true });
  });

  test('one recount at a time across replicas (a store lease); a failed recount keeps the older counts and is told', async () => {
    const recounts: RecountOutcome[] = [];
    const t = createTestOtao({ exactCountsBelow: LARGE, countsMaxAgeMs: MAX_AGE, onRecount: (r) => recounts.push(r) });
    fleet(t, LARGE);
    await list(t);
    await t.core.insight.countsSettled();
    const t0 = t.clock.now();
    fleet(t, 1, 999);
    t.clock.advance(MAX_AGE + 1);
    // another replica holds the recount lease
    expect(await t.lease.tryAcquire(`fleet-counts:${JSON.stringify([TEST_TENANT, TEST_APP])}`, 'other-replica', MAX_AGE, t.clock.now())).toBe(true);
    await list(t);
    await t.core.insight.countsSettled();
    expect(await list(t)).toMatchObject({ totalElements: LARGE, countedAt: t0 });
    await t.lease.release(`fleet-counts:${JSON.stringify([TEST_TENANT, TEST_APP])}`, 'other-replica');

    jest.spyOn(t.endpoints, 'shapes').mockRejectedValueOnce(new OtaoError('store.unavailable', 'simulated'));
    await list(t);
    await t.core.insight.countsSettled();
    expect(recounts.map((r) => r.ok)).toEqual([true, false]);
    expect(recounts[0]).toMatchObject({ tenantId: TEST_TENANT, appName: TEST_APP, ok: true, total: LARGE });
    expect(await list(t)).toMatchObject({ totalElements: LARGE, countedAt: t0 });
  });

  test(`counts of more than ${MAX_STORED_SHAPES} shapes are not stored: such an application is counted for every answer`, async () => {
    const t = await setup();
    for (let i = 0; i <= MAX_STORED_SHAPES; i++) {
      t.endpoints.put(endpointState(TEST_TENANT, TEST_APP, `ep-${i}`, { appVersionName: TEST_APP_VERSION, currentVersion: '1.0.0', consents: [`${i}.0.0`] }));
    }
    expect((await preview(t, 0, 1)).total).toBe(MAX_STORED_SHAPES + 1);
    await list(t);
    await t.core.insight.countsSettled();
    expect(await t.endpoints.storedCounts(TEST_TENANT, TEST_APP)).toBeUndefined();
  });
});
