// Spec §10 "Concurrent writers (replicas, or one replica's concurrent requests) never lose an
// update" through the whole assembled product (issue 10 item 4): two replicas of the BUILT server
// against one nats-server and one store, and three writers hammering one endpoint at once —
//   consents:    grant / revoke over REST, alternating between the two replicas;
//   memberships: 18/EFE ep-matched / ep-unmatched over NATS (queue group: either replica);
//   reports:     6/CDTP ConfigApplied over NATS (queue group: either replica).
// Each writer is sequential (every operation awaited: a REST call by its answer, an event by polling
// the endpoint view until it shows the event — queue-grouped events of one endpoint can otherwise be
// processed out of order by two replicas); the writers run concurrently. The end state must be the
// one any serial order gives. A store or adapter that rewrites whole records, or reads and writes
// back, loses some of these updates.
// Size: OTAO_TEST_LOST_UPDATE_RUNS (default 100 runs, each on its own endpoint, 10 at a time).
// Uses MONGODB_URI and NATS_URL when set (scripts/test.sh), else starts FerretDB and nats-server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCmx, FakeEpr } from '@otao/nats-cdtp/testing';
import { startFerretDB, startNats } from '@otao/test-services';
import { OtaoProcess, requireBuiltServer } from './support/otao-process';

const RUNS = Number(process.env['OTAO_TEST_LOST_UPDATE_RUNS'] ?? 100);
const AT_ONCE = 10;
const APP = 'hammer';
const AVN = 'hammer-v1';
jest.setTimeout(300_000);

const tag = `lu${Date.now().toString(36)}`;
const names = { db: `e2e_${tag}`, instance: `otao-${tag}`, cmx: `cmx-${tag}`, epr: `epr-${tag}` };
const stops: (() => Promise<void>)[] = [];
let replicas: OtaoProcess[] = [];
let cmx: FakeCmx;
let epr: FakeEpr;

beforeAll(async () => {
  requireBuiltServer();
  const [nats, mongo] = await Promise.all([process.env['NATS_URL'] ? undefined : startNats(), process.env['MONGODB_URI'] ? undefined : startFerretDB()]);
  const natsUrl = process.env['NATS_URL'] ?? nats!.url;
  const mongoUri = process.env['MONGODB_URI'] ?? mongo!.uri;
  if (nats) stops.push(() => nats.stop());
  if (mongo) stops.push(() => mongo.stop());
  const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-lost-update-')), 'applications.yaml');
  writeFileSync(appsFile, `kaa:\n  applications:\n    ${APP}:\n      tenantId: default\n      versions:\n        ${AVN}: {}\n`);
  const env = {
    OTAO_NATS_URLS: natsUrl,
    OTAO_MONGODB_URI: mongoUri,
    OTAO_MONGODB_DATABASE: names.db,
    OTAO_SERVICE_INSTANCE_NAME: names.instance,
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: names.cmx,
    OTAO_EPR_INSTANCE_NAME: names.epr,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_LOG_LEVEL: 'warn',
  };
  replicas = await Promise.all(['a', 'b'].map((r) => OtaoProcess.start({ name: `lost-update-${r}`, env: { ...env, OTAO_REPLICA_ID: `${tag}-${r}` } })));
  cmx = await new FakeCmx({ servers: natsUrl, instanceName: names.cmx, providerInstanceName: names.instance }).start();
  epr = await new FakeEpr({ servers: natsUrl, instanceName: names.epr }).start();
  // A version every report makes due: each applied report and consent grant also races a push
  // (claim, confirm: the endpoint's pushed/offered fields) with the writers.
  const res = await fetch(`${replicas[0]!.baseUrl}/api/v1/applications/${APP}/software`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ version: '2.0.0', upgradableFrom: ['>=1.0.0 <2.0.0'], rolloutStrategy: 'general', specification: { v: 2 } }),
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await OtaoProcess.killAll();
  await cmx?.stop().catch(() => undefined);
  await epr?.stop().catch(() => undefined);
  for (const stop of stops) await stop().catch(() => undefined);
});

interface View {
  readonly currentVersion?: string;
  readonly lastReport?: { readonly configId: string; readonly statusCode: number };
  readonly consents: string[];
  readonly filters: string[];
}

let turn = 0;
/** The next replica, round robin: every writer alternates between the two. */
const replica = (): OtaoProcess => replicas[turn++ % replicas.length]!;
const endpointUrl = (r: OtaoProcess, ep: string): string => `${r.baseUrl}/api/v1/applications/${APP}/endpoints/${encodeURIComponent(ep)}`;

async function view(ep: string): Promise<View | undefined> {
  const res = await fetch(`${endpointUrl(replica(), ep)}/software`, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET endpoint ${ep}: ${res.status} ${await res.text()}`);
  return (await res.json()) as View;
}

/** Polls the endpoint view (alternating replicas) until `cond` holds: how an event is awaited. */
async function until(ep: string, what: string, cond: (v: View) => boolean): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const v = await view(ep);
    if (v && cond(v)) return;
    if (Date.now() > end) throw new Error(`${ep}: timed out waiting for ${what}; last view ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** REST answers 503 ("retry later") that the consent writer retried, with their reasons. */
const unavailable: string[] = [];

/** A consent change as a client makes it: a 503 is retried (nothing was changed), anything but 204 fails. */
async function consent(r: OtaoProcess, method: 'PUT' | 'DELETE', ep: string, version: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${endpointUrl(r, ep)}/consents/${encodeURIComponent(version)}`, { method, signal: AbortSignal.timeout(10_000) });
    if (res.status === 204) return;
    const body = await res.text();
    if (res.status !== 503 || attempt === 5) throw new Error(`${method} consent ${version} of ${ep}: ${res.status} ${body}`);
    unavailable.push(`${r.replicaId} ${method} ${version}: ${body}`);
  }
}

async function hammer(ep: string): Promise<string | undefined> {
  await cmx.applied({ endpointId: ep, appVersionName: AVN, configId: '1.0.0', statusCode: 200 });
  await until(ep, 'the first report', (v) => v.currentVersion === '1.0.0');
  let n = 0;
  const next = (): OtaoProcess => replicas[n++ % replicas.length]!; // strictly alternating
  const consents = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) {
      await consent(next(), 'PUT', ep, `2.${i}.0`);
      await consent(next(), 'PUT', ep, '*');
      await consent(next(), 'DELETE', ep, '*');
    }
    await consent(next(), 'DELETE', ep, '2.1.0');
  };
  const memberships = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) {
      await epr.matched(`f${i}`, APP, AVN, ep);
      await until(ep, `ep-matched f${i}`, (v) => v.filters.includes(`f${i}`));
      await epr.matched('flip', APP, AVN, ep);
      await until(ep, 'ep-matched flip', (v) => v.filters.includes('flip'));
      await epr.unmatched('flip', APP, AVN, ep);
      await until(ep, 'ep-unmatched flip', (v) => !v.filters.includes('flip'));
    }
    await epr.unmatched('f2', APP, AVN, ep);
    await until(ep, 'ep-unmatched f2', (v) => !v.filters.includes('f2'));
  };
  const reports = async (): Promise<void> => {
    for (let i = 1; i <= 6; i++) {
      await cmx.applied({ endpointId: ep, appVersionName: AVN, configId: `1.${i}.0`, statusCode: 200 });
      await until(ep, `ConfigApplied 1.${i}.0`, (v) => v.lastReport?.configId === `1.${i}.0` && v.currentVersion === `1.${i}.0`);
    }
    await cmx.applied({ endpointId: ep, appVersionName: AVN, configId: '1.7.0', statusCode: 500, reasonPhrase: 'install failed' });
    await until(ep, 'ConfigApplied 1.7.0 (500)', (v) => v.lastReport?.configId === '1.7.0');
  };
  await Promise.all([consents(), memberships(), reports()]);
  const want = JSON.stringify({
    consents: ['2.0.0', '2.2.0', '2.3.0'],
    filters: ['f0', 'f1', 'f3'],
    currentVersion: '1.6.0',
    lastReport: { configId: '1.7.0', statusCode: 500 },
  });
  // The end state as each replica reads it.
  for (const r of replicas) {
    const res = await fetch(`${endpointUrl(r, ep)}/software`);
    const v = (await res.json()) as View;
    const got = JSON.stringify({
      consents: [...v.consents].sort(),
      filters: [...v.filters].sort(),
      currentVersion: v.currentVersion,
      lastReport: v.lastReport ? { configId: v.lastReport.configId, statusCode: v.lastReport.statusCode } : undefined,
    });
    if (got !== want) return `${ep} read by ${r.replicaId}: ${got}`;
  }
  return undefined;
}

test(`two replicas, three writers hammering one endpoint (REST consents, EFE memberships, CDTP reports): the serial end state, ${RUNS} runs`, async () => {
  const t0 = Date.now();
  const lost: string[] = [];
  for (let first = 0; first < RUNS; first += AT_ONCE) {
    const runs = Array.from({ length: Math.min(AT_ONCE, RUNS - first) }, (_, i) => hammer(`${tag}-ep-${first + i}`));
    for (const r of await Promise.all(runs)) if (r !== undefined) lost.push(r);
  }
  console.log(
    `lost-update: ${RUNS} runs over 2 replicas in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${lost.length} with a lost update; ` +
      `${unavailable.length} consent calls answered 503 and retried${unavailable.length ? `:\n  ${unavailable.slice(0, 5).join('\n  ')}` : ''}`,
  );
  // want: consents 2.0.0, 2.2.0, 2.3.0 (the * grants revoked, 2.1.0 revoked); filters f0, f1, f3;
  // current version 1.6.0 (the last 2xx report); last report 1.7.0 with status 500.
  expect(lost).toEqual([]);
});
