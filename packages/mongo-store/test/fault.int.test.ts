import { isOtaoError, OtaoError } from '@otao/core';
import { software, unique } from '@otao/contract-tests';
import { type FerretDB, startFerretDB } from '@otao/test-services';
import { MongoStore } from '../src';
import { databaseName, storeConfig } from './harness';

// The store goes away mid-test: every call fails fast with OtaoError('store.unavailable') (no hang,
// no crash); when the server is back on the same port and data, the same adapter instance works
// again without being rebuilt. Uses its own FerretDB whatever MONGODB_URI says.
jest.setTimeout(120_000);

const TIMEOUT_MS = 1000;
let fdb: FerretDB;
let store: MongoStore;

beforeAll(async () => {
  fdb = await startFerretDB();
  store = new MongoStore(storeConfig(fdb.uri, databaseName(__filename), { serverSelectionTimeoutMS: TIMEOUT_MS, connectTimeoutMS: TIMEOUT_MS, socketTimeoutMS: TIMEOUT_MS }));
  await store.start();
}, 60_000);

afterAll(async () => {
  await store?.stop();
  await fdb?.stop();
});

async function failure(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await call();
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
  throw new Error('the call succeeded while the store was down');
}

async function eventually(call: () => Promise<unknown>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await call();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test.each([
  ['stop (SIGTERM)', 'stop'],
  ['kill (SIGKILL)', 'kill'],
] as const)('store %s: calls fail with store.unavailable within the timeout, then the same instance recovers', async (_title, how) => {
  const tenant = unique('t');
  const key = { tenantId: tenant, appName: 'app', endpointId: 'ep-1' };
  await store.software.create(software(tenant, 'app', '1.0.0'));
  await store.endpoints.setCurrentVersion(key, 'app-v1', '1.0.0', 1);
  await store.stats.increment(tenant, 'app', '1.0.0', 'applied');

  if (how === 'stop') await fdb.process.stop();
  else await fdb.process.kill();

  const calls: [string, () => Promise<unknown>][] = [
    ['ping', () => store.ping()],
    ['software.get', () => store.software.get(tenant, 'app', '1.0.0')],
    ['software.list', () => store.software.list(tenant, 'app')],
    ['endpoints.get', () => store.endpoints.get(key)],
    ['endpoints.setCurrentVersion', () => store.endpoints.setCurrentVersion(key, 'app-v1', '1.1.0', 2)],
    ['endpoints.claimPushes', () => store.endpoints.claimPushes(tenant, 'app', ['ep-1'], '1.1.0', 'owner', 1, 60_000)],
    ['endpoints.confirmPushes', () => store.endpoints.confirmPushes(tenant, 'app', ['ep-1'], '1.1.0')],
    ['endpoints.stream', async () => {
      for await (const _b of store.endpoints.stream(tenant, 'app', { batchSize: 10 })) void _b;
    }],
    ['lease.tryAcquire', () => store.lease.tryAcquire(unique('l'), 'a', 1000, 0)],
  ];
  // A count made while the store is down is not an error and not lost: it is written when the store returns.
  expect(await store.stats.increment(tenant, 'app', '1.0.0', 'failed')).toEqual({ offered: 0, applied: 1, failed: 1 });
  expect(store.stats.owedCount()).toBe(1);
  for (const [name, call] of calls) {
    const { error, ms } = await failure(call).catch((e: Error) => { throw new Error(`${name}: ${e.message}`); });
    expect([name, isOtaoError(error) ? error.code : String(error)]).toEqual([name, 'store.unavailable']);
    expect(error).toBeInstanceOf(OtaoError);
    // a bound against hanging, not a performance claim
    expect([name, ms < 3 * TIMEOUT_MS]).toEqual([name, true]);
  }

  await fdb.process.start(); // same port, same data directory
  await eventually(() => store.ping(), 20_000);
  expect((await store.software.get(tenant, 'app', '1.0.0'))?.version).toBe('1.0.0');
  expect((await store.endpoints.get(key))?.currentVersion).toBe('1.0.0');
  expect(await store.endpoints.claimPushes(tenant, 'app', ['ep-1'], '1.1.0', 'owner', 1, 60_000)).toEqual(['ep-1']);
  expect(await store.stats.increment(tenant, 'app', '1.0.0', 'applied')).toEqual({ offered: 0, applied: 2, failed: 1 });
  expect(store.stats.owedCount()).toBe(0);
  expect(await store.stats.get(tenant, 'app', '1.0.0')).toEqual({ offered: 0, applied: 2, failed: 1 });
});
