import { HOSTILE_JSON, software, unique } from '@otao/contract-tests';
import { cohortOf as cohortOfCore, type Software } from '@otao/core';
import { endpointState, PlainSha256 } from '@otao/core/testing';
import { INDEXES, type MongoStore } from '../src';
import { databaseName, dropDatabase, startStore, startTestServer, type TestServer } from './harness';

// What the contract suites cannot see: the indexes, several replicas (separate clients) racing on
// the compare-and-sets and counters, lease takeover between replicas, free JSON in the raw documents.
jest.setTimeout(60_000);

let server: TestServer;
let store: MongoStore;
const db = databaseName(__filename);

beforeAll(async () => {
  server = await startTestServer();
  store = await startStore(server.uri, db);
}, 120_000);

afterAll(async () => {
  await store?.stop();
  if (server) await dropDatabase(server.uri, db);
  await server?.stop();
});

/** n stores, each with its own MongoClient (its own connections), as n replicas would have. */
async function replicas(n: number): Promise<MongoStore[]> {
  return Promise.all(Array.from({ length: n }, () => startStore(server.uri, db)));
}
async function stopAll(stores: readonly MongoStore[]): Promise<void> {
  await Promise.all(stores.map((s) => s.stop()));
}

describe('indexes', () => {
  test('every hot-path index exists after start(), and start() is idempotent', async () => {
    await store.start(); // a second start: no error, same indexes
    for (const [collection, wanted] of Object.entries(INDEXES)) {
      const got = await store.db.collection(collection).listIndexes().toArray();
      for (const w of wanted) {
        const idx = got.find((i) => i['name'] === w.name);
        expect(idx).toBeDefined();
        expect(idx?.['key']).toEqual(w.key);
        expect(Boolean(idx?.['unique'])).toBe(Boolean(w.unique));
      }
    }
    const names = (await store.db.collection('endpoints').listIndexes().toArray()).map((i) => i['name'] as string);
    expect([...names].sort()).toEqual(['_id_', 'endpoints_by_tenant', 'endpoints_by_version']);
    const sw = (await store.db.collection('software').listIndexes().toArray()).find((i) => i['name'] === 'software_by_version');
    expect(sw?.['key']).toEqual({ tenantId: 1, appName: 1, versionKey: 1 });
  });
});

describe('obsolete indexes', () => {
  test('start() drops the indexes an earlier version created (each costs every write)', async () => {
    const other = `${db}_old`;
    const old = await startStore(server.uri, other);
    try {
      await old.db.collection('endpoints').createIndex({ tenantId: 1, appName: 1, filters: 1 }, { name: 'endpoints_by_filter' });
      await old.start();
      const names = (await old.db.collection('endpoints').listIndexes().toArray()).map((i) => i['name'] as string);
      expect(names).not.toContain('endpoints_by_filter');
    } finally {
      await old.db.dropDatabase().catch(() => undefined);
      await old.stop();
    }
  });
});

describe('lease between replicas', () => {
  test('expiry and takeover: the holder is refused once another took over, the checkpoint survives', async () => {
    const [a, b] = await replicas(2);
    try {
      const name = unique('lease');
      expect(await a!.lease.tryAcquire(name, 'a', 1000, 1_000_000)).toBe(true);
      expect(await b!.lease.tryAcquire(name, 'b', 1000, 1_000_999)).toBe(false);
      expect(await b!.lease.tryAcquire(name, 'b', 1000, 1_001_000)).toBe(true); // expired: taken over
      expect(await a!.lease.tryAcquire(name, 'a', 1000, 1_001_001)).toBe(false);
      await a!.lease.release(name, 'a'); // not the holder: no effect
      expect(await a!.lease.tryAcquire(name, 'a', 1000, 1_001_500)).toBe(false);
      await b!.lease.release(name, 'b');
      expect(await a!.lease.tryAcquire(name, 'a', 1000, 1_001_501)).toBe(true);
      await a!.lease.setCheckpoint(name, 1_800_000_000_000);
      expect(await b!.lease.getCheckpoint(name)).toBe(1_800_000_000_000);
    } finally {
      await stopAll([a!, b!]);
    }
  });

  test('8 replicas contending for an expired lease: exactly one wins', async () => {
    const rs = await replicas(8);
    try {
      const name = unique('lease');
      expect(await rs[0]!.lease.tryAcquire(name, 'old', 10, 0)).toBe(true);
      const won = await Promise.all(rs.map((r, i) => r.lease.tryAcquire(name, `r${i}`, 60_000, 1000)));
      expect(won.filter(Boolean)).toHaveLength(1);
    } finally {
      await stopAll(rs);
    }
  });
});

describe('8 parallel writers, 8 separate connections', () => {
  test('concurrent increments all count, each sees a distinct total', async () => {
    const rs = await replicas(8);
    try {
      const tenant = unique('t');
      const perWriter = 25;
      const results = await Promise.all(
        rs.flatMap((r, w) =>
          Array.from({ length: perWriter }, (_, i) => r.stats.increment(tenant, 'app', '1.0.0+build', (w + i) % 2 === 0 ? 'applied' : 'failed')),
        ),
      );
      const total = rs.length * perWriter;
      const counts = await store.stats.get(tenant, 'app', '1.0.0');
      expect(counts.applied + counts.failed).toBe(total);
      expect(counts.offered).toBe(0);
      expect(new Set(results.map((c) => c.applied + c.failed)).size).toBe(total);
    } finally {
      await stopAll(rs);
    }
  });

  test('claimPushes and markOffered: each endpoint goes to exactly one replica; confirm counts each offer once', async () => {
    const rs = await replicas(8);
    try {
      const tenant = unique('t');
      const ids = Array.from({ length: 300 }, (_, i) => `ep-${i}`);
      await store.endpoints.importStates(ids.map((id) => endpointState(tenant, 'app', id, { appVersionName: 'app-v1', currentVersion: '1.0.0' })));
      const claimed = await Promise.all(
        rs.flatMap((r, i) => [
          r.endpoints.claimPushes(tenant, 'app', ids, '2.0.0', `r${i}`, 1000, 60_000),
          r.endpoints.claimPushes(tenant, 'app', [...ids].reverse(), '2.0.0', `r${i}b`, 1000, 60_000),
        ]),
      );
      expect(claimed.flat().sort()).toEqual([...ids].sort());
      // pulls of a third of the fleet race the confirmations: every endpoint is offered once in all
      const pulls = Promise.all(
        ids.filter((_, i) => i % 3 === 0).map((id, i) => rs[i % 8]!.endpoints.markOffered({ tenantId: tenant, appName: 'app', endpointId: id }, '2.0.0')),
      );
      const confirmed = Promise.all(claimed.map((won, i) => rs[Math.floor(i / 2)]!.endpoints.confirmPushes(tenant, 'app', won, '2.0.0')));
      const newByPull = (await pulls).filter(Boolean).length;
      const newByPush = (await confirmed).reduce((a, n) => a + n, 0);
      expect(newByPull + newByPush).toBe(ids.length);
      expect(await rs[3]!.endpoints.claimPushes(tenant, 'app', ids, '2.0.0', 'late', 10_000_000, 60_000)).toEqual([]);
      expect((await store.endpoints.get({ tenantId: tenant, appName: 'app', endpointId: 'ep-7' }))?.pushed).toEqual(['2.0.0']);
    } finally {
      await stopAll(rs);
    }
  });

  test('first writes of a new record racing from 8 replicas: none lost (an upsert on `_id` alone replaces on FerretDB v2)', async () => {
    const rs = await replicas(8);
    try {
      for (let round = 0; round < 10; round++) {
        const tenant = unique('t');
        const key = { tenantId: tenant, appName: 'app', endpointId: 'new-ep' };
        // every replica's first write creates the endpoint: eight memberships, all kept
        await Promise.all(rs.map((r, i) => r.endpoints.addMembership(key, 'app-v1', `f${i}`, 1)));
        expect([...((await store.endpoints.get(key))?.filters ?? [])].sort()).toEqual(rs.map((_, i) => `f${i}`).sort());
        // every replica's first count of a software: eight increments, all counted
        await Promise.all(rs.map((r) => r.stats.increment(tenant, 'app', '1.0.0', 'failed', 3)));
        expect((await store.stats.get(tenant, 'app', '1.0.0')).failed).toBe(24);
        // every replica creates a version of a new app: the catalogue revision moves once per create
        await Promise.all(rs.map((r, i) => r.software.create(software(tenant, 'app2', `1.${i}.0`))));
        expect(await store.software.catalogueRevision(tenant, 'app2')).toBe(8);
      }
    } finally {
      await stopAll(rs);
    }
  });

  test('replace compare-and-set: exactly one replica wins a revision', async () => {
    const rs = await replicas(8);
    try {
      const tenant = unique('t');
      await store.software.create(software(tenant, 'app', '1.0.0'));
      const outcomes = await Promise.all(
        rs.map((r, i) => r.software.replace(software(tenant, 'app', '1.0.0', { revision: 2, specification: { writer: i } }), 1)),
      );
      expect(outcomes.filter((o) => o === 'replaced')).toHaveLength(1);
      const winner = outcomes.indexOf('replaced');
      expect((await store.software.get(tenant, 'app', '1.0.0'))?.specification).toEqual({ writer: winner });
    } finally {
      await stopAll(rs);
    }
  });
});

describe('free JSON', () => {
  test('hostile specifications and metadata round-trip through the raw documents', async () => {
    const tenant = unique('t');
    const all = HOSTILE_JSON.map((h) => h.value);
    const s: Software = software(tenant, 'app', '1.0.0+x', {
      specification: { all },
      metadata: all,
      file: { name: 'f\u0000.bin', size: 1, sha256: '00', contentType: 'a/b', uploadedAt: 1 },
    });
    expect(await store.software.create(s)).toBe('created');
    for (const h of HOSTILE_JSON) {
      const v = software(tenant, 'app', `2.0.0-${unique('h').replace(/[^a-z0-9-]/gi, '-')}`, { specification: h.value, metadata: h.value });
      expect(await store.software.create(v)).toBe('created');
      const got = await store.software.get(tenant, 'app', v.version);
      expect(JSON.stringify(got?.specification)).toBe(JSON.stringify(h.value));
      expect(JSON.stringify(got?.metadata)).toBe(JSON.stringify(h.value));
    }
    const got = await store.software.get(tenant, 'app', '1.0.0');
    expect(JSON.stringify(got)).toBe(JSON.stringify(s));
    // the raw document carries the free JSON as text only
    const raw = await store.db.collection('software').findOne({ tenantId: tenant, versionKey: '1.0.0' });
    expect(typeof raw?.['body']).toBe('string');
    expect(raw?.['specification']).toBeUndefined();
  });

  test('endpoint reports with device-supplied strings round-trip', async () => {
    const key = { tenantId: unique('t'), appName: 'app', endpointId: 'a.b$c\u00fc' };
    const report = { configId: '1.0.0', statusCode: 500, reasonPhrase: 'bad\u0000 {"$set": 1} a.b', at: 5 };
    await store.endpoints.recordReport(key, 'app-v1', report, false);
    expect((await store.endpoints.get(key))?.lastReport).toEqual(report);
  });
});

describe('whole-application reads (the scan client)', () => {
  test('a page deep in the list, the count and the grouping are exact, also after the store was stopped and started', async () => {
    const tenant = unique('t');
    const n = 10_030;
    const ids = Array.from({ length: n }, (_, i) => `ep-${String(i).padStart(6, '0')}`);
    await store.endpoints.importStates(
      ids.map((id, i) =>
        endpointState(tenant, 'app', id, {
          appVersionName: 'app-v1',
          currentVersion: i % 2 === 0 ? '1.0.0' : '2.0.0',
          ...(i % 5 === 0 ? { filters: ['f'] } : {}),
        }),
      ),
    );
    const check = async (s: MongoStore): Promise<void> => {
      const deep = await s.endpoints.list(tenant, 'app', { offset: 10_000, limit: 50 }); // past DEEP_PAGE_OFFSET: the scan client
      expect(deep.totalElements).toBe(n);
      expect(deep.content.map((e) => e.endpointId)).toEqual(ids.slice(10_000));
      const onTwo = await s.endpoints.list(tenant, 'app', { version: '2.0.0', offset: 5_000, limit: 10 });
      expect(onTwo.totalElements).toBe(n / 2);
      expect(onTwo.content.map((e) => e.endpointId)).toEqual(ids.filter((_, i) => i % 2 === 1).slice(5_000, 5_010));
      const shapes = (await s.endpoints.shapes(tenant, 'app')).map((x) => `${x.currentVersion}|${x.filters.join(',')}=${x.count}`).sort();
      expect(shapes).toEqual(['1.0.0|=4012', '1.0.0|f=1003', '2.0.0|=4012', '2.0.0|f=1003'].sort());
    };
    await check(store);
    const other = await startStore(server.uri, db);
    await other.stop();
    await other.start();
    await check(other);
    await other.stop();
  });
});

describe('cohorts stored with the endpoints (spec §4.10; MongoStoreConfig.cohortOf)', () => {
  test('endpoints written without the rule get their cohort: by the first grouping split by cohort, or by backfillCohorts', async () => {
    const cohortOf = (t: string, a: string, e: string): number => cohortOfCore(new PlainSha256(), t, a, e);
    const tenant = unique('t');
    const without = await startStore(server.uri, db); // a replica of before: no rule
    const withRule = await startStore(server.uri, db, { cohortOf });
    const key = (endpointId: string, appName = 'app') => ({ tenantId: tenant, appName, endpointId });
    const ids = [
      ...Array.from({ length: 30 }, (_, i) => `old-${i}`),
      ...Array.from({ length: 1500 }, (_, i) => `imp-${String(i).padStart(4, '0')}`),
      ...Array.from({ length: 10 }, (_, i) => `new-${i}`),
    ];
    try {
      for (const id of ids.slice(0, 30)) await without.endpoints.setCurrentVersion(key(id), 'app-v1', '1.0.0', 1);
      await without.endpoints.importStates(ids.slice(30, 1530).map((id) => endpointState(tenant, 'app', id, { currentVersion: '1.0.0' })));
      for (const id of ids.slice(1530)) await withRule.endpoints.setCurrentVersion(key(id), 'app-v1', '1.0.0', 1);
      const boundaries = [25, 50];
      const count = (xs: readonly { count: number }[]) => xs.reduce((n, s) => n + s.count, 0);
      const before = await without.endpoints.shapes(tenant, 'app', boundaries);
      expect(count(before.filter((s) => s.cohortBucket === undefined))).toBe(1530);
      expect(count(before.filter((s) => s.cohortBucket !== undefined))).toBe(10);

      // a store with the rule stores the missing cohorts of the application it groups, then groups again
      const after = await withRule.endpoints.shapes(tenant, 'app', boundaries);
      expect(after.every((s) => s.cohortBucket !== undefined)).toBe(true);
      const want = [0, 0, 0];
      for (const id of ids) want[boundaries.filter((b) => cohortOf(tenant, 'app', id) >= b).length]! += 1;
      const got = [0, 0, 0];
      for (const s of after) got[s.cohortBucket!]! += s.count;
      expect(got).toEqual(want);

      // the whole collection at once (at start): another application's endpoints written without the rule
      for (let i = 0; i < 20; i++) await without.endpoints.setCurrentVersion(key(`x-${i}`, 'other'), 'other-v1', '1.0.0', 1);
      expect(await without.backfillCohorts()).toBe(0); // no rule: nothing to store
      expect(await withRule.backfillCohorts()).toBeGreaterThanOrEqual(20); // other tests' endpoints of this database too
      expect(await withRule.backfillCohorts()).toBe(0); // idempotent
      const docs = await withRule.endpoints.collection.find({ tenantId: tenant }, { projection: { appName: 1, endpointId: 1, cohort: 1 } }).toArray();
      expect(docs).toHaveLength(1560);
      for (const d of docs) expect([d.endpointId, d.cohort]).toEqual([d.endpointId, cohortOf(tenant, d.appName, d.endpointId)]);
    } finally {
      await stopAll([without, withRule]);
    }
  });
});
