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
  store = new MongoStore(
    storeConfig(fdb.uri, databaseName(__filename), { serverSelectionTimeoutMS: TIMEOUT_MS, connectTimeoutMS: TIMEOUT_MS, socketTimeoutMS: TIMEOUT_MS }),
  );
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
    [
      'endpoints.stream',
      async () => {
        for await (const _b of store.endpoints.stream(tenant, 'app', { batchSize: 10 })) void _b;
      },
    ],
    ['lease.tryAcquire', () => store.lease.tryAcquire(unique('l'), 'a', 1000, 0)],
  ];
  // A count made while the store is down is not an error and not lost: it is written when the store returns.
  expect(await store.stats.increment(tenant, 'app', '1.0.0', 'failed')).toEqual({ offered: 0, applied: 1, failed: 1, timedOut: 0, rolledBack: 0 });
  expect(store.stats.owedCount()).toBe(1);
  for (const [name, call] of calls) {
    const { error, ms } = await failure(call).catch((e: Error) => {
      throw new Error(`${name}: ${e.message}`);
    });
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
  expect(await store.stats.increment(tenant, 'app', '1.0.0', 'applied')).toEqual({ offered: 0, applied: 2, failed: 1, timedOut: 0, rolledBack: 0 });
  expect(store.stats.owedCount()).toBe(0);
  expect(await store.stats.get(tenant, 'app', '1.0.0')).toEqual({ offered: 0, applied: 2, failed: 1, timedOut: 0, rolledBack: 0 });
});

// After a restart of FerretDB under load, the driver was seen to keep a client that never reached
// the server again (its monitor hung in the reconnection handshake; calls failed or hung forever,
// one replica answering 503 for good). The store's watch replaces such a client and gives up the
// calls pending on it. Several stores (like replicas) under a steady load through restarts.
test('under load through repeated restarts, every store instance answers again after each restart', async () => {
  const stores = [0, 1, 2].map(
    () =>
      new MongoStore(
        storeConfig(fdb.uri, databaseName(__filename), { serverSelectionTimeoutMS: TIMEOUT_MS, connectTimeoutMS: TIMEOUT_MS, socketTimeoutMS: TIMEOUT_MS }),
      ),
  );
  await Promise.all(stores.map((s) => s.start()));
  const tenant = unique('t');
  let running = true;
  const lastOk = stores.map(() => 0);
  const loops = stores.map(async (s, i) => {
    for (let k = 0; running; k++) {
      const key = { tenantId: tenant, appName: 'app', endpointId: `ep-${k % 50}` };
      try {
        await Promise.all([s.endpoints.get(key), s.endpoints.setCurrentVersion(key, 'app-v1', '1.0.0', k)]);
        lastOk[i] = Date.now();
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  try {
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (round % 2) await fdb.process.kill();
      else await fdb.process.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await fdb.process.start();
      const back = Date.now();
      const until = back + 15_000; // a bound against staying stuck, not a performance claim
      while (lastOk.some((t) => t < back) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect([round, lastOk.map((t) => t >= back)]).toEqual([round, [true, true, true]]);
    }
  } finally {
    running = false;
    await Promise.all(loops);
    await Promise.all(stores.map((s) => s.stop()));
  }
}, 150_000);

// The watch itself, driven by hand (the store is not started, so no timer watches it too): the
// ping through the client fails — as a ping sent while the server was still down does — and the
// server is there. Replacing a client that reaches the server again would give up the calls it is
// answering (a count given up after the server applied it would be made twice): it is kept. Only a
// client that still cannot reach the server a fresh client reaches is replaced.
describe('the watch', () => {
  /** Makes the next `times` pings through the store's current client fail. */
  function failPings(s: MongoStore, times: number): void {
    const client = s.client;
    const realDb = client.db.bind(client);
    let left = times;
    jest.spyOn(client, 'db').mockImplementation((name, options) => {
      const db = realDb(name, options);
      const realCommand = db.command.bind(db);
      db.command = (command, o) =>
        'ping' in command && left-- > 0 ? Promise.reject(new Error('ping sent while the server was down')) : realCommand(command, o);
      return db;
    });
  }

  const newStore = () =>
    new MongoStore(
      storeConfig(fdb.uri, databaseName(__filename), { serverSelectionTimeoutMS: TIMEOUT_MS, connectTimeoutMS: TIMEOUT_MS, socketTimeoutMS: TIMEOUT_MS }),
    );

  test('a client whose ping failed once but that reaches the server again is kept', async () => {
    const s = newStore();
    try {
      await s.ping();
      const before = s.client;
      failPings(s, 1);
      expect(await s.watch()).toBe(false);
      expect(s.reconnects).toBe(0);
      expect(s.client).toBe(before);
    } finally {
      await s.stop();
    }
  });

  test('a client that cannot reach the server a fresh client reaches is replaced, and the store answers through the new one', async () => {
    const s = newStore();
    try {
      const tenant = unique('t');
      await s.software.create(software(tenant, 'app', '1.0.0'));
      const before = s.client;
      failPings(s, Number.POSITIVE_INFINITY);
      expect(await s.watch()).toBe(true);
      expect(s.reconnects).toBe(1);
      expect(s.client).not.toBe(before);
      expect((await s.software.get(tenant, 'app', '1.0.0'))?.version).toBe('1.0.0');
    } finally {
      await s.stop();
    }
  });
});
