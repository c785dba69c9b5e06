import { endpointState } from '@otao/core/testing';
import { software } from '@otao/contract-tests';
import type { Document } from 'mongodb';
import { COLLECTIONS, type MongoStore } from '../src';
import { idOf, idRange } from '../src/keys';
import { databaseName, dropDatabase, startStore, startTestServer, type TestServer } from './harness';

// Every query the adapter sends that reads more than one `_id` is served by an index: `explain` of
// each against the real store, over collections large enough that the planner's choice is the one
// production gets, must show no collection scan (MongoDB: COLLSCAN; FerretDB v2/PostgreSQL: Seq Scan).
jest.setTimeout(180_000);

let server: TestServer;
let store: MongoStore;
const db = databaseName(__filename);
const T = 'tenant-a';
const APP = 'app';
const ENDPOINTS = 30_000;

beforeAll(async () => {
  server = await startTestServer();
  store = await startStore(server.uri, db);
  const states = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const app = i % 3 === 0 ? 'other' : APP;
    states.push(
      endpointState(i % 7 === 0 ? 'tenant-b' : T, app, `ep-${String(i).padStart(6, '0')}`, {
        appVersionName: `${app}-v1`,
        currentVersion: `1.${i % 20}.0`,
        filters: i % 50 === 0 ? ['f-rare'] : i % 2 === 0 ? ['f-half'] : [],
        membershipsKnown: true,
        updatedAt: 1,
      }),
    );
  }
  await store.endpoints.importStates(states);
  for (let i = 0; i < 300; i++) {
    const s = software(`tenant-${i % 30}`, `app-${i % 10}`, `1.${i}.0`, {
      rolloutStrategy: i % 3 === 0 ? 'targeted' : i % 3 === 1 ? 'general' : 'suspended',
      ...(i % 50 === 1
        ? {
            phases: [
              { percent: 10, soakMinutes: 60 },
              { percent: 100, soakMinutes: 60 },
            ],
          }
        : {}),
    });
    await store.software.create(s);
    await store.stats.increment(s.tenantId, s.appName, s.version, 'offered');
  }
  // pending offers (report timeouts) of several versions and apps; history buckets of many software
  for (let v = 0; v < 6; v++) {
    const ids = Array.from({ length: 5000 }, (_, i) => `ep-${String(i).padStart(6, '0')}`);
    await store.endpoints.confirmPushes(v % 2 === 0 ? T : 'tenant-b', v % 3 === 0 ? 'other' : APP, ids, `2.${v}.0`, 1_000_000 + v);
    for (let i = 0; i < 5000; i += 1000)
      await store.endpoints.markOffered({ tenantId: T, appName: APP, endpointId: `fresh-${v}-${i}` }, `2.${v}.0`, 2_000_000 + i);
  }
  for (let i = 0; i < 300; i++) await store.stats.increment(`tenant-${i % 30}`, `app-${i % 10}`, `1.${i}.0`, 'applied', 1, 1_000_000 + i * 60_000);
  for (let i = 0; i < 300; i++) await store.endpoints.markFilterLoaded(`tenant-${i % 30}`, `app-${i % 10}`, `f-${i}`);
  for (let i = 0; i < 2000; i++) await store.jobs.enqueue('pushes', `key-${i}`, '{}', 1_000_000 + i);
  for (let i = 0; i < 500; i++) await store.jobs.claim('r', 2_000_000, 1000);
  // 20 000 audit entries over 30 tenants and 10 apps, a few pending
  const audit = [];
  for (let i = 0; i < 20_000; i++) {
    audit.push({
      _id: `audit-${i}`,
      tenantId: `tenant-${i % 30}`,
      appName: `app-${i % 10}`,
      at: 1_000_000 + i * 1000,
      actor: { type: 'user', id: `sub-${i % 50}`, name: `user-${i % 50}` },
      action: i % 3 === 0 ? 'software.created' : 'software.updated',
      version: `1.${i % 40}.0`,
      correlationId: `c-${i}`,
      state: i % 500 === 0 ? 'pending' : 'committed',
    });
  }
  for (let i = 0; i < audit.length; i += 5000) await store.db.collection(COLLECTIONS.audit).insertMany(audit.slice(i, i + 5000) as unknown as Document[]);
  // Let PostgreSQL's planner see the new tables' statistics (autovacuum would do it a little later).
  await new Promise((r) => setTimeout(r, 1500));
}, 600_000);

afterAll(async () => {
  await store?.stop();
  if (server) await dropDatabase(server.uri, db);
  await server?.stop();
});

/** Every node of a plan tree (MongoDB's `inputStage`s, PostgreSQL's `Plans`). */
function nodes(plan: unknown): Record<string, unknown>[] {
  if (plan === null || typeof plan !== 'object') return [];
  if (Array.isArray(plan)) return plan.flatMap(nodes);
  return [plan as Record<string, unknown>, ...Object.values(plan).flatMap(nodes)];
}

/**
 * Whether a plan reads a whole collection. MongoDB: a COLLSCAN stage. FerretDB v2 (PostgreSQL with
 * DocumentDB): a `Seq Scan`, or an index scan whose only condition is the collection's shard key
 * (`shard_key_value = N`: that is how DocumentDB walks a whole collection through its primary key).
 */
function scans(plan: Document): { text: string; fullScan: boolean } {
  const text = JSON.stringify(plan);
  const fullScan = nodes(plan).some((n) => {
    if (n['stage'] === 'COLLSCAN' || n['Node Type'] === 'Seq Scan') return true;
    if (typeof n['Node Type'] !== 'string' || !String(n['Node Type']).includes('Index')) return false;
    const cond = typeof n['Index Cond'] === 'string' ? n['Index Cond'] : '';
    return cond.replace(/\(?shard_key_value = '-?\d+'::bigint\)?/g, '').replace(/[()\s]|AND/g, '') === '';
  });
  return { text, fullScan };
}

async function explainFind(collection: string, filter: Document, options: { sort?: Document; skip?: number; limit?: number } = {}): Promise<Document> {
  let cursor = store.db.collection(collection).find(filter);
  if (options.sort) cursor = cursor.sort(options.sort);
  if (options.skip) cursor = cursor.skip(options.skip);
  if (options.limit) cursor = cursor.limit(options.limit);
  return cursor.explain('queryPlanner');
}

async function explainCount(collection: string, filter: Document): Promise<Document> {
  // countDocuments is this aggregation
  return store.db
    .collection(collection)
    .aggregate([{ $match: filter }, { $group: { _id: 1, n: { $sum: 1 } } }])
    .explain('queryPlanner');
}

const app = idRange(T, APP);
const ep = (i: number): string => idOf(T, APP, `ep-${String(i).padStart(6, '0')}`);

const queries: [string, () => Promise<Document>][] = [
  ['endpoints.get (batched $in)', () => explainFind(COLLECTIONS.endpoints, { _id: { $in: [ep(1), ep(2), ep(4), ep(5)] } })],
  ['endpoints.stream page', () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: ep(1000), $lt: app.hi } }, { sort: { _id: 1 }, limit: 1000 })],
  [
    'endpoints.stream page of a filter',
    () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: app.lo, $lt: app.hi }, filters: 'f-rare' }, { sort: { _id: 1 }, limit: 1000 }),
  ],
  ['endpoints.list page', () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: app.lo, $lt: app.hi } }, { sort: { _id: 1 }, skip: 5000, limit: 100 })],
  [
    'endpoints.list page by version',
    () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: app.lo, $lt: app.hi }, currentVersionKey: '1.4.0' }, { sort: { _id: 1 }, skip: 100, limit: 100 }),
  ],
  ['endpoints.page from the end', () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: app.lo, $lt: app.hi } }, { sort: { _id: -1 }, skip: 50, limit: 50 })],
  [
    'endpoints.page from the end, by version',
    () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: app.lo, $lt: app.hi }, currentVersionKey: '1.4.0' }, { sort: { _id: -1 }, limit: 50 }),
  ],
  [
    'endpoints.deleteTenant (stored counts)',
    () => explainFind(COLLECTIONS.endpointCounts, { _id: { $gt: idRange('tenant-b').lo, $lt: idRange('tenant-b').hi } }),
  ],
  [
    'endpoints.backfillCohorts page (the whole collection at start)',
    () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: ep(1000) }, cohort: { $exists: false } }, { sort: { _id: 1 }, limit: 1000 }),
  ],
  [
    'endpoints.backfillCohorts page (one application, before a grouping)',
    () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: ep(1000), $lt: app.hi }, cohort: { $exists: false } }, { sort: { _id: 1 }, limit: 1000 }),
  ],
  ['endpoints.list count', () => explainCount(COLLECTIONS.endpoints, { tenantId: T, appName: APP })],
  ['endpoints.list count by version', () => explainCount(COLLECTIONS.endpoints, { tenantId: T, appName: APP, currentVersionKey: '1.4.0' })],
  [
    'endpoints.replaceFilterMembers / removeFilter (the app range)',
    () => explainFind(COLLECTIONS.endpoints, { _id: { $gt: app.lo, $lt: app.hi }, filters: 'f-rare' }, {}),
  ],
  ['endpoints.delete', () => explainFind(COLLECTIONS.endpoints, { tenantId: T, endpointId: 'ep-000001' })],
  ['endpoints.deleteTenant', () => explainFind(COLLECTIONS.endpoints, { tenantId: 'tenant-b' })],
  ['endpoints.loadedFilters', () => explainFind(COLLECTIONS.loadedFilters, { tenantId: 'tenant-3', appName: 'app-3' })],
  ['software.list', () => explainFind(COLLECTIONS.software, { tenantId: 'tenant-3', appName: 'app-3' })],
  ['software.listTargeted', () => explainFind(COLLECTIONS.software, { rolloutStrategy: 'targeted' })],
  ['software.listWindowed', () => explainFind(COLLECTIONS.software, { windowed: true })],
  ['software.listPhased', () => explainFind(COLLECTIONS.software, { phased: true })],
  ['stats.deleteTenant', () => explainFind(COLLECTIONS.rolloutStats, { tenantId: 'tenant-3' })],
  ['stats.active', () => explainFind(COLLECTIONS.rolloutStats, { lastOfferedAt: { $gte: 1_000_000_000 } }, { sort: { lastOfferedAt: -1 }, limit: 1000 })],
  [
    "stats.history (a software's bucket range)",
    () =>
      explainFind(
        COLLECTIONS.rolloutHistory,
        { _id: { $gte: idOf('tenant-3', 'app-3', '1.3.0', 'minute', '0'), $lt: idOf('tenant-3', 'app-3', '1.3.0', 'minute', '9') } },
        { sort: { _id: 1 } },
      ),
  ],
  ['stats.prune', () => explainFind(COLLECTIONS.rolloutHistory, { bucket: 'minute', start: { $lt: 1_000_000 + 10 * 60_000 } })],
  [
    'stats.delete / deleteTenant (history range)',
    () => explainFind(COLLECTIONS.rolloutHistory, { _id: { $gt: idRange('tenant-3').lo, $lt: idRange('tenant-3').hi } }),
  ],
  [
    'endpoints.findTimedOut',
    () =>
      explainFind(
        COLLECTIONS.pendingOffers,
        { tenantId: T, appName: APP, versionKey: '2.1.0', at: { $lte: 1_500_000 } },
        { sort: { at: 1, endpointId: 1 }, limit: 1000 },
      ),
  ],
  [
    'endpoints.findTimedOut after (the rest of a time)',
    () =>
      explainFind(
        COLLECTIONS.pendingOffers,
        { tenantId: T, appName: APP, versionKey: '2.1.0', at: 1_000_100, endpointId: { $gt: 'ep-000500' } },
        { sort: { at: 1, endpointId: 1 }, limit: 1000 },
      ),
  ],
  [
    'endpoints.findTimedOut after (later times)',
    () =>
      explainFind(
        COLLECTIONS.pendingOffers,
        { tenantId: T, appName: APP, versionKey: '2.1.0', at: { $gt: 1_000_100, $lte: 1_500_000 } },
        { sort: { at: 1, endpointId: 1 }, limit: 1000 },
      ),
  ],
  [
    'endpoints.markTimedOut (tagged offers)',
    () => explainFind(COLLECTIONS.pendingOffers, { _id: { $in: [idOf(T, 'ep-000001', APP, '2.1.0'), idOf(T, 'ep-000002', APP, '2.1.0')] }, resolving: 'x' }),
  ],
  [
    "endpoints.recordReport (an endpoint's pending offers)",
    () =>
      explainFind(COLLECTIONS.pendingOffers, { _id: { $gt: idRange(T, 'ep-000001', APP).lo, $lt: idRange(T, 'ep-000001', APP).hi }, at: { $lte: 5_000_000 } }),
  ],
  [
    'endpoints.delete (pending offers)',
    () => explainFind(COLLECTIONS.pendingOffers, { _id: { $gt: idRange(T, 'ep-000001').lo, $lt: idRange(T, 'ep-000001').hi } }),
  ],
  ['endpoints.deleteTenant (pending offers)', () => explainFind(COLLECTIONS.pendingOffers, { tenantId: 'tenant-b' })],
  [
    'jobs.claim',
    () => explainFind(COLLECTIONS.jobs, { availableAt: { $lte: 1_000_100 }, until: { $lte: 1_000_100 } }, { sort: { availableAt: 1, createdAt: 1 }, limit: 1 }),
  ],
  [
    'audit.page (tenant, app, newest first)',
    () => explainFind(COLLECTIONS.audit, { tenantId: 'tenant-3', appName: 'app-3', state: 'committed' }, { sort: { at: -1, _id: -1 }, skip: 100, limit: 100 }),
  ],
  [
    'audit.page with filters',
    () =>
      explainFind(
        COLLECTIONS.audit,
        {
          tenantId: 'tenant-3',
          appName: 'app-3',
          state: 'committed',
          at: { $gte: 2_000_000, $lt: 9_000_000 },
          version: '1.3.0',
          $or: [{ 'actor.id': 'user-3' }, { 'actor.name': 'user-3' }],
        },
        { sort: { at: -1, _id: -1 }, limit: 100 },
      ),
  ],
  ['audit.page count', () => explainCount(COLLECTIONS.audit, { tenantId: 'tenant-3', appName: 'app-3', state: 'committed' })],
  [
    'audit.pending (the reconciler)',
    () => explainFind(COLLECTIONS.audit, { state: 'pending', at: { $lt: 15_000_000 } }, { sort: { at: 1, _id: 1 }, limit: 500 }),
  ],
  ['audit.prune (the oldest entries)', () => explainFind(COLLECTIONS.audit, { at: { $lt: 5_000_000 } }, { sort: { at: 1 }, limit: 500 })],
  ['audit.deleteTenant', () => explainFind(COLLECTIONS.audit, { tenantId: 'tenant-4', action: { $ne: 'tenant.deleted' } })],
  ['jobs.enqueue (the waiting job of a key)', () => explainFind(COLLECTIONS.jobs, { slot: 'key-1999' })],
];

test.each(queries)('%s uses an index', async (_name, explain) => {
  const { text, fullScan } = scans(await explain());
  if (process.env['OTAO_SHOW_PLANS'])
    console.log(
      _name,
      JSON.stringify(
        nodes(JSON.parse(text))
          .filter((n) => n['Node Type'] || n['stage'])
          .map((n) => [n['Node Type'] ?? n['stage'], n['Index Name'] ?? n['indexName'], n['Index Cond']]),
      ),
    );
  if (fullScan) throw new Error(`collection scan in the plan: ${text.slice(0, 2000)}`);
  expect(fullScan).toBe(false);
});

test('the check sees a collection scan when there is one (a query on a field without an index)', async () => {
  const s = scans(await explainFind(COLLECTIONS.endpoints, { updatedAt: 1 }));
  if (!s.fullScan) console.log(s.text);
  expect(s.fullScan).toBe(true);
});
