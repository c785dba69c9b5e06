import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { createMongoStore, type MongoStore } from '@otao/mongo-store';
import { codecs } from '@otao/nats-cdtp';
import { endpointState } from '@otao/core/testing';
import { startFerretDB, startNats, type FerretDB, type NatsServer } from '@otao/test-services';
import { OtaoProcess } from './support/otao-process';

// Three replicas of one OTAO instance against one nats-server and one store behave as one
// service: every CDTP request is answered exactly once; a `general` rollout pushes each endpoint
// once; killing the replica that runs the rollout loses nothing (its job is resumed by another
// replica once its claim expires, and re-sends what the dead one had not seen confirmed).
// Sizes: OTAO_TEST_REPLICA_REQUESTS (default 10 000 requests) and OTAO_TEST_REPLICA_ROLLOUT (default
// 10 000 endpoints pushed).
const REQUESTS = Number(process.env['OTAO_TEST_REPLICA_REQUESTS'] ?? 10_000);
const ROLLOUT = Number(process.env['OTAO_TEST_REPLICA_ROLLOUT'] ?? 10_000);
const ENDPOINTS = Math.max(REQUESTS, ROLLOUT);
const TENANT = 'default';
const APP = 'fleet';
const AVN = 'fleet-v1';
jest.setTimeout(1_800_000);

let nats: NatsServer;
let fdb: FerretDB;
let nc: NatsConnection;
let store: MongoStore;
let replicas: OtaoProcess[] = [];
const database = `otao_replicas_${Date.now().toString(36)}`;

const ep = (i: number): string => `ep-${String(i).padStart(6, '0')}`;

beforeAll(async () => {
  nats = await startNats();
  fdb = await startFerretDB();
  nc = await connect({ servers: nats.url });
  const dir = mkdtempSync(join(tmpdir(), 'otao-replicas-'));
  const apps = join(dir, 'apps.yaml');
  writeFileSync(apps, `kaa:\n  applications:\n    ${APP}:\n      tenantId: ${TENANT}\n      versions:\n        ${AVN}: {}\n`);
  store = createMongoStore({ uri: fdb.uri, database, socketTimeoutMS: 120_000 });
  await store.start();
  // the fleet, every endpoint on 1.0.0, imported in bulk
  // endpoints below ROLLOUT run 1.0.0 (the rollout of 2.0.0 reaches them); the others run 0.5.0, which 2.0.0 does not accept
  const states = Array.from({ length: ENDPOINTS }, (_, i) =>
    endpointState(TENANT, APP, ep(i), { appVersionName: AVN, currentVersion: i < ROLLOUT ? '1.0.0' : '0.5.0', membershipsKnown: true, updatedAt: 1 }),
  );
  await store.endpoints.importStates(states);
  const env = {
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: fdb.uri,
    OTAO_MONGODB_DATABASE: database,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: apps,
    OTAO_LOG_LEVEL: 'info',
  };
  replicas = await Promise.all(
    [1, 2, 3].map((i) => OtaoProcess.start({ name: `replica${i}`, env: { ...env, OTAO_REPLICA_ID: `replica-${i}` }, readyTimeoutMs: 60_000 })),
  );
  const res = await fetch(`${replicas[0]!.baseUrl}/api/v1/applications/${APP}/software`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general', specification: { v: 1 } }),
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await OtaoProcess.killAll();
  await nc?.close();
  await store?.db.dropDatabase().catch(() => undefined);
  await store?.stop();
  await fdb?.stop();
  await nats?.stop();
});

const until = async (what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

test(`${REQUESTS} CDTP requests over three replicas are each answered exactly once`, async () => {
  const answers = new Map<string, number>();
  const byReplica = new Map<string, number>();
  const replySubject = 'kaa.v1.replica.test-cmx-0.cdtp.response';
  const sub = nc.subscribe(replySubject, {
    callback: (_e, m) => {
      const r = codecs.configResponse.decode(m.data);
      answers.set(r.correlationId, (answers.get(r.correlationId) ?? 0) + 1);
    },
  });
  await nc.flush();
  const t0 = Date.now();
  const WINDOW = 200;
  for (let i = 0; i < REQUESTS; i++) {
    const bytes = codecs.configRequest.encode({
      correlationId: `req-${i}`,
      timestamp: Date.now(),
      timeout: 0,
      appVersionName: AVN,
      endpointId: ep(i),
      configId: i < ROLLOUT ? '1.0.0' : '0.5.0',
      configName: null,
    });
    nc.publish('kaa.v1.service.otao.cdtp.request', bytes, { reply: replySubject });
    if (i % WINDOW === WINDOW - 1) await until('answers of a window', () => answers.size >= i + 1 - WINDOW, 120_000);
  }
  await until(`${REQUESTS} answers`, () => answers.size >= REQUESTS, 300_000);
  await new Promise((r) => setTimeout(r, 1000)); // late duplicates would arrive now
  sub.unsubscribe();
  const seconds = (Date.now() - t0) / 1000;
  expect(answers.size).toBe(REQUESTS);
  expect([...answers.values()].filter((n) => n !== 1)).toEqual([]);
  // every replica took part (queue group `otao`)
  for (const r of replicas) {
    const m = await (await fetch(`${r.baseUrl}/metrics`)).text();
    const handled = [...m.matchAll(/^otao_cdtp_requests_total\{[^}]*\} (\d+)/gm)].reduce((a, x) => a + Number(x[1]), 0);
    byReplica.set(r.replicaId, handled);
  }
  expect([...byReplica.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
  for (const n of byReplica.values()) expect(n).toBeGreaterThan(0);
  console.log(`replicas: ${REQUESTS} requests answered once each in ${seconds.toFixed(1)} s; per replica ${JSON.stringify(Object.fromEntries(byReplica))}`);
});

test(`a general rollout to ${ROLLOUT} endpoints pushes each exactly once, even when the replica running it is killed`, async () => {
  const pushes = new Map<string, number>();
  const sub = nc.subscribe('kaa.v1.events.otao.endpoint.config.updated', {
    callback: (_e, m) => {
      const u = codecs.configUpdated.decode(m.data);
      if (u.configId === '2.0.0') pushes.set(u.endpointId, (pushes.get(u.endpointId) ?? 0) + 1);
    },
  });
  await nc.flush();
  const t0 = Date.now();
  const res = await fetch(`${replicas[1]!.baseUrl}/api/v1/applications/${APP}/software`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '2.0.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { v: 2 } }),
  });
  expect(res.status).toBe(201);
  // kill the replica holding the rollout job once about a third of the fleet was pushed
  await until('a third of the pushes', () => pushes.size >= ROLLOUT / 3, 600_000);
  const claim = await store.db
    .collection<{ holder: string | null; until: number }>('jobs')
    .find({ holder: { $ne: null } })
    .sort({ until: -1 })
    .limit(1)
    .next();
  const victim = replicas.find((r) => r.replicaId === claim?.holder);
  expect(victim).toBeDefined();
  const atKill = pushes.size;
  await victim!.kill();
  // Nothing may be lost (spec §4.3): a push counts as sent only once NATS confirmed it, so what the
  // killed replica had claimed but not confirmed is sent again by the replica that resumes its job.
  await until(`${ROLLOUT} distinct endpoints pushed`, () => pushes.size >= ROLLOUT, 1_200_000);
  await until('the job queue to empty', async () => (await store.jobs.size()) === 0, 120_000);
  await new Promise((r) => setTimeout(r, 2000));
  sub.unsubscribe();
  const duplicates = [...pushes.values()].reduce((a, n) => a + n - 1, 0);
  console.log(
    `replicas: rollout of ${ROLLOUT} endpoints in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${victim!.replicaId} killed after ${atKill} pushes; ${pushes.size} distinct endpoints pushed, ${duplicates} sent twice (claimed by the killed replica, maybe delivered, never confirmed)`,
  );
  expect(pushes.size).toBe(ROLLOUT);
  expect([...pushes.keys()].every((id) => id < ep(ROLLOUT))).toBe(true);
  // At least once across a crash, once otherwise: only the killed replica's window in flight
  // (pushConcurrency, 256) may arrive twice.
  expect(duplicates).toBeLessThanOrEqual(256);
});
