import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cohortOf } from '@otao/core';
import { endpointState } from '@otao/core/testing';
import { NodeCryptoSha256 } from '@otao/node-platform';
import { createMongoStore, type MongoStore } from '@otao/mongo-store';
import { startFerretDB, startNats, type FerretDB, type NatsServer } from '@otao/test-services';
import { OtaoProcess } from './support/otao-process';

// The counts of a large application (docs/api.md "Counts of large applications", ADR 0020), end to
// end on the real store with two replicas: an application of at least OTAO_EXACT_COUNTS_BELOW
// endpoints answers its lists and previews from stored counts with their time (`countedAt`), which
// a read older than OTAO_COUNTS_MAX_AGE_MS has recounted in the background; a small one is counted
// for every answer; pages past the middle are read from the end and equal the pages read from the start.
jest.setTimeout(300_000);
const TENANT = 'default';
const LARGE = 'fleet';
const SMALL = 'small';
const EXACT_BELOW = 100;
const MAX_AGE_MS = 1000;

let nats: NatsServer;
let fdb: FerretDB;
let store: MongoStore;
let replicas: OtaoProcess[] = [];
const database = `otao_counts_${Date.now().toString(36)}`;
const ep = (i: number): string => `ep-${String(i).padStart(4, '0')}`;

async function put(app: string, from: number, n: number, version: string): Promise<void> {
  await store.endpoints.importStates(
    Array.from({ length: n }, (_, i) => endpointState(TENANT, app, ep(from + i), { appVersionName: `${app}-v1`, currentVersion: version, updatedAt: 1 })),
  );
}

async function get<T = Record<string, unknown>>(replica: OtaoProcess, path: string): Promise<T> {
  const res = await fetch(`${replica.baseUrl}/api/v1/applications/${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

type Page = { content: { endpointId: string }[]; totalElements: number; countedAt: string };
type Preview = { total: number; countedAt: string; counts: Record<string, number>; content: { endpointId: string }[] };

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  nats = await startNats();
  fdb = await startFerretDB();
  const dir = mkdtempSync(join(tmpdir(), 'otao-counts-'));
  const apps = join(dir, 'apps.yaml');
  writeFileSync(
    apps,
    `kaa:\n  applications:\n${[LARGE, SMALL].map((a) => `    ${a}:\n      tenantId: ${TENANT}\n      versions:\n        ${a}-v1: {}\n`).join('')}`,
  );
  store = createMongoStore({ uri: fdb.uri, database });
  await store.start();
  await put(LARGE, 0, 150, '1.0.0');
  await put(SMALL, 0, 20, '1.0.0');
  const env = {
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: fdb.uri,
    OTAO_MONGODB_DATABASE: database,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: apps,
    OTAO_EXACT_COUNTS_BELOW: String(EXACT_BELOW),
    OTAO_COUNTS_MAX_AGE_MS: String(MAX_AGE_MS),
  };
  replicas = await Promise.all(
    [1, 2].map((i) => OtaoProcess.start({ name: `counts${i}`, env: { ...env, OTAO_REPLICA_ID: `counts-${i}` }, readyTimeoutMs: 60_000 })),
  );
  for (const app of [LARGE, SMALL]) {
    for (const [version, from] of [
      ['1.0.0', []],
      ['1.1.0', ['1.0.0']],
    ] as const) {
      const res = await fetch(`${replicas[0]!.baseUrl}/api/v1/applications/${app}/software`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ version, upgradableFrom: from, rolloutStrategy: 'general', specification: { v: version } }),
      });
      expect(res.status).toBe(201);
    }
  }
});

afterAll(async () => {
  await OtaoProcess.killAll();
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.stop();
  await fdb?.stop();
  await nats?.stop();
});

test('a large application answers from stored counts, recounted in the background; a small one is counted for every answer', async () => {
  const [a, b] = replicas as [OtaoProcess, OtaoProcess];
  // first open: counted for the answer; the count is then stored in the background
  const first = await get<Page>(a, `${LARGE}/endpoints?limit=10`);
  expect(first.totalElements).toBe(150);
  expect(Math.abs(Date.parse(first.countedAt) - Date.now())).toBeLessThan(5_000);
  const stored = await until(
    'the stored counts',
    () => store.endpoints.storedCounts(TENANT, LARGE),
    (c) => c !== undefined,
  );
  expect(stored).toMatchObject({ total: 150 });

  // 30 more endpoints: until a recount, both replicas answer the stored count with its time
  await put(LARGE, 150, 30, '0.9.0');
  await put(SMALL, 20, 5, '0.9.0');
  const seen = await get<Page>(b, `${LARGE}/endpoints?limit=10`);
  expect(seen.totalElements).toBe(150);
  expect(seen.countedAt).toBe(new Date(stored!.countedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  // the small application is exact at once
  expect((await get<Page>(b, `${SMALL}/endpoints?limit=10`)).totalElements).toBe(25);
  expect((await get<Preview>(b, `${SMALL}/software/1.1.0/preview?limit=5`)).total).toBe(25);

  // older than OTAO_COUNTS_MAX_AGE_MS: a read starts a recount; a later answer has it, on either replica
  const recounted = await until(
    'the recount',
    () => get<Page>(b, `${LARGE}/endpoints?limit=10`),
    (p) => p.totalElements === 180,
  );
  expect(Date.parse(recounted.countedAt)).toBeGreaterThanOrEqual(Math.floor(stored!.countedAt / 1000) * 1000);
  expect((await get<Page>(a, `${LARGE}/endpoints?limit=1&version=0.9.0`)).totalElements).toBe(30);
  const preview = await get<Preview>(a, `${LARGE}/software/1.1.0/preview?limit=5`);
  expect(preview.total).toBe(180);
  expect(preview.counts).toMatchObject({ now: 150, 'no-path': 30 });

  // pages past the middle are read from the end: every page equals the one read from the start
  const all = (await get<Page>(a, `${LARGE}/endpoints?limit=1000`)).content.map((e) => e.endpointId);
  expect(all).toHaveLength(180);
  for (const offset of [0, 60, 89, 90, 91, 130, 170, 179, 180]) {
    const page = await get<Page>(a, `${LARGE}/endpoints?limit=50&offset=${offset}`);
    expect(page.content.map((e) => e.endpointId)).toEqual(all.slice(offset, offset + 50));
  }
  const onOld = await get<Page>(b, `${LARGE}/endpoints?limit=20&offset=20&version=0.9.0`);
  expect(onOld.content.map((e) => e.endpointId)).toEqual(all.slice(170, 180));

  // the recounts are measured: at least the first count and the one after the 30 new endpoints
  let ok = 0;
  for (const r of replicas) {
    const text = await (await fetch(`${r.baseUrl}/metrics`)).text();
    ok += Number(/^otao_fleet_recount_duration_seconds_count\{result="ok"\} (\d+)/m.exec(text)?.[1] ?? 0);
  }
  expect(ok).toBeGreaterThanOrEqual(2);

  // nothing went wrong in the background
  for (const r of replicas) expect(readFileSync(r.logFile, 'utf8')).not.toMatch(/recounting the endpoints of a large application failed/);
});

test('a phased preview of a large application is answered from counts split by cohort: the replicas store every endpoint’s cohort, also of those written before', async () => {
  const [a, b] = replicas as [OtaoProcess, OtaoProcess];
  // 150 endpoints were imported by a store without the cohort rule before the replicas started (they
  // backfill them at start), 30 after (as by a replica of before during a rolling upgrade: stored by
  // the first grouping split by cohort).
  const res = await fetch(`${a.baseUrl}/api/v1/applications/${LARGE}/software`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      version: '2.0.0',
      upgradableFrom: ['1.1.0', '1.0.0'],
      rolloutStrategy: 'general',
      specification: {},
      phases: [{ percent: 30 }, { percent: 100 }],
    }),
  });
  expect(res.status).toBe(201);
  const expected = (i: number): number => cohortOf(new NodeCryptoSha256(), TENANT, LARGE, ep(i));
  // 1.0.0 endpoints (the first 150) below the 30 % boundary get 2.0.0 now, the other 1.0.0 ones later (phase 1)
  const below = Array.from({ length: 150 }, (_, i) => expected(i)).filter((c) => c < 30).length;
  const preview = await until(
    'the phased preview from counts split by cohort',
    () => get<Preview>(b, `${LARGE}/software/2.0.0/preview?limit=5`),
    (p) => p.total === 180 && p.counts['now'] === below,
  );
  expect(preview.counts).toMatchObject({ now: below, later: 150 - below });
  const stored = await until(
    'counts split by the new boundary',
    () => store.endpoints.storedCounts(TENANT, LARGE),
    (c) => c?.cohortBoundaries?.[0] === 30,
  );
  expect(stored?.cohortBoundaries).toEqual([30]);
  expect(stored?.shapes.every((s) => s.cohortBucket === 0 || s.cohortBucket === 1)).toBe(true);
  // every endpoint of the application now has its cohort, the rule's
  const docs = await store.endpoints.collection.find({ tenantId: TENANT, appName: LARGE }, { projection: { endpointId: 1, cohort: 1 } }).toArray();
  expect(docs).toHaveLength(180);
  for (const d of docs) expect([d.endpointId, d.cohort]).toEqual([d.endpointId, expected(Number(d.endpointId.slice(3)))]);
});
