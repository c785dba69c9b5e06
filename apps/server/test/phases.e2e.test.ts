// End-to-end test of phased rollouts (spec §4.10, §6.3) on the BUILT server (`dist/main.js`) with a
// real nats-server and FerretDB: a simulated fleet pulls over 6/CDTP and reports ConfigApplied; the
// first phase advances by itself (soak 0, once the gate has its reports: the server's phase tick),
// the next ones by the operator over REST; the test checks who was offered what, and when.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cohortOf } from '@otao/core';
import { NodeCryptoSha256 } from '@otao/node-platform';
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { type FerretDB, type NatsServer, startFerretDB, startNats } from '@otao/test-services';
import { OtaoProcess, requireBuiltServer } from './support/otao-process';

const SHA256 = new NodeCryptoSha256(); // what the server computes cohorts with

jest.setTimeout(90_000);

let nats: NatsServer;
let mongo: FerretDB;
let cmx: FakeCmx | undefined;

beforeAll(async () => {
  requireBuiltServer();
  [nats, mongo] = await Promise.all([startNats(), startFerretDB()]);
});

afterAll(async () => {
  await cmx?.stop().catch(() => undefined);
  await OtaoProcess.killAll();
  await Promise.all([nats?.stop(), mongo?.stop()]);
});

type Json = ReturnType<typeof JSON.parse>;

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a phased rollout over CDTP: the open cohort only, an automatic advance on the gate, hold and manual advances over REST', async () => {
  const tag = 'phases';
  const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-e2e-phases-')), 'applications.json');
  writeFileSync(
    appsFile,
    JSON.stringify({ kaa: { applications: { kettle: { tenantId: 'default', consentRequired: false, versions: { 'kettle-v1': {} } } } } }),
  );
  const otao = await OtaoProcess.start({
    name: tag,
    env: {
      OTAO_NATS_URLS: nats.url,
      OTAO_MONGODB_URI: mongo.uri,
      OTAO_MONGODB_DATABASE: `e2e_${tag}`,
      OTAO_SERVICE_INSTANCE_NAME: `otao-${tag}`,
      OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: `cmx-${tag}`,
      OTAO_EPR_INSTANCE_NAME: `epr-${tag}`,
      OTAO_SCMP_PROVIDER_INSTANCE_NAME: `tekton-${tag}`,
      OTAO_SECURITY_IGNORED: '/**',
      OTAO_APPLICATIONS_FILE: appsFile,
    },
  });
  cmx = await new FakeCmx({ servers: nats.url, instanceName: `cmx-${tag}`, providerInstanceName: `otao-${tag}` }).start();
  const api = `${otao.baseUrl}/api/v1/applications/kettle/software`;

  // Maintenance windows through the server's zone rules (Luxon behind the core's ZoneRules port, ADR 0018),
  // before any endpoint exists: an unknown zone is refused as before; a known one is stored and evaluated.
  const badZone = await http('POST', api, {
    version: '0.9.0',
    rolloutStrategy: 'general',
    maintenanceWindow: { timeZone: 'Mars/Olympus', start: '01:00', end: '02:00' },
  });
  expect(badZone.status).toBe(400);
  expect(badZone.body).toEqual({
    code: 'software.invalid',
    message: 'maintenanceWindow.timeZone: must be an IANA time zone name such as Europe/Berlin, got "Mars/Olympus"',
  });
  const kolkata = { timeZone: 'Asia/Kolkata', start: '01:00', end: '02:00' }; // 19:30Z–20:30Z
  expect((await http('POST', api, { version: '0.5.0', rolloutStrategy: 'general', maintenanceWindow: kolkata })).status).toBe(201);
  const windowView = (await http('GET', `${api}/0.5.0/rollout`)).body.window;
  expect(typeof windowView.open).toBe('boolean');
  expect(windowView.nextOpenAt).toMatch(/T19:30:00Z$/); // 01:00 IST, whatever the date
  expect((await http('DELETE', `${api}/0.5.0`)).status).toBe(204);

  const fleet = Array.from({ length: 60 }, (_, i) => `kettle-${String(i).padStart(3, '0')}`);
  const cohort = (ep: string): number => cohortOf(SHA256, 'default', 'kettle', ep);
  const between = (lo: number, hi: number): string[] => fleet.filter((ep) => cohort(ep) >= lo && cohort(ep) < hi).sort();
  const first = between(0, 25);
  expect(first.length).toBeGreaterThan(3);
  expect(between(25, 60).length).toBeGreaterThan(3);

  expect((await http('POST', api, { version: '1.0.0', rolloutStrategy: 'general' })).status).toBe(201);
  const created = await http('POST', api, {
    version: '2.0.0',
    upgradableFrom: ['1.0.0'],
    rolloutStrategy: 'general',
    phases: [
      { percent: 25, soakMinutes: 0 },
      { percent: 60, soakMinutes: 600 },
      { percent: 100, soakMinutes: 600 },
    ],
    phaseGate: { maxFailureRate: 0.5, minReports: first.length },
  });
  expect(created.status).toBe(201);
  expect(created.body.phase).toMatchObject({ index: 0, percent: 25, hold: false });

  /** Every endpoint still on 1.0.0 pulls; returns who was offered 2.0.0. */
  const onOld = new Set(fleet);
  const pullAll = async (): Promise<string[]> => {
    const offered: string[] = [];
    for (const ep of [...onOld]) {
      const r = await cmx!.pull({ endpointId: ep, appVersionName: 'kettle-v1', configId: '1.0.0' });
      expect(r.statusCode).toBe(200);
      if (r.configId === '2.0.0') offered.push(ep);
      else expect(r.configId).toBeNull();
    }
    return offered.sort();
  };
  const pushed = (): string[] => [...new Set(cmx!.pushes.filter((p) => p.configId === '2.0.0').map((p) => p.endpointId))].sort();

  // phase 0 (25 %): pulls offer 2.0.0 to the first cohort only
  expect(await pullAll()).toEqual(first);
  const view0 = await http('GET', `${api}/2.0.0/rollout`);
  expect(view0.body.phase).toMatchObject({ index: 0, percent: 25, waitingFor: 'reports' });
  expect(typeof view0.body.phase.nextCheckAt).toBe('string');

  // the first cohort installs it; with the gate's reports in, the server's tick opens 60 % and pushes to exactly the new cohort
  for (const ep of first) {
    await cmx.applied({ endpointId: ep, appVersionName: 'kettle-v1', configId: '2.0.0', statusCode: 200 });
    onOld.delete(ep);
  }
  await eventually('phase 1 opened', 20_000, async () => ((await http('GET', `${api}/2.0.0/rollout`)).body.phase?.index === 1 ? true : undefined));
  await eventually('pushes to the 25–60 % cohort', 10_000, () => (pushed().length >= between(25, 60).length ? true : undefined));
  await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
  expect(pushed()).toEqual(between(25, 60));
  const view1 = (await http('GET', `${api}/2.0.0/rollout`)).body;
  expect(view1).toMatchObject({ applied: first.length, failed: 0, phase: { index: 1, percent: 60, hold: false, waitingFor: 'soak' } });
  expect(await pullAll()).toEqual(between(25, 60)); // offered on a pull too until they report, nobody beyond 60 %

  // held: the phase stays; a manual advance opens 100 % now (soak skipped) and clears the hold
  const held = await http('PUT', `${api}/2.0.0/rollout/hold`, { hold: true, reason: 'checking the canaries' });
  expect(held.status).toBe(200);
  expect(held.body.phase).toMatchObject({ index: 1, hold: true, holdReason: 'checking the canaries', waitingFor: 'hold' });
  expect((await http('PUT', `${api}/2.0.0/rollout/hold`, { hold: 'yes' })).status).toBe(400);
  const pushesBefore = cmx.pushes.length;
  const advanced = await http('POST', `${api}/2.0.0/rollout/advance`);
  expect(advanced.status).toBe(200);
  expect(advanced.body.phase).toMatchObject({ index: 2, percent: 100, hold: false, waitingFor: 'done' });
  await eventually('pushes to the rest', 10_000, () => (pushed().length >= fleet.length - first.length ? true : undefined));
  expect(
    cmx.pushes
      .slice(pushesBefore)
      .map((p) => p.endpointId)
      .sort(),
  ).toEqual(between(60, 100));
  expect(await pullAll()).toEqual(fleet.filter((ep) => !first.includes(ep)).sort());

  const last = await http('POST', `${api}/2.0.0/rollout/advance`);
  expect(last.status).toBe(409);
  expect(last.body.code).toBe('rollout.last_phase');
  expect((await http('POST', `${api}/1.0.0/rollout/advance`)).body.code).toBe('rollout.not_phased');
  expect((await http('GET', `${api}/2.0.0`)).body.phase).toMatchObject({ index: 2, percent: 100, hold: false });

  await otao.stop();
});
