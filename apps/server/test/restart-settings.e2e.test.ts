// Issue 11 item 8: switching `consentRequired` off in the local applications file and restarting
// must push what consent held back (spec §4.3: "consentRequired switched off" is a push trigger),
// although no replica saw the switch happen: the last value seen is kept in the store.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { type FerretDB, type NatsServer, startFerretDB, startNats } from '@otao/test-services';
import { OtaoProcess, requireBuiltServer } from './support/otao-process';

jest.setTimeout(120_000);

let nats: NatsServer;
let mongo: FerretDB;
let cmx: FakeCmx | undefined;

beforeAll(async () => {
  requireBuiltServer();
  [nats, mongo] = await Promise.all([startNats(), startFerretDB()]);
});

afterAll(async () => {
  await OtaoProcess.killAll();
  await cmx?.stop();
  await Promise.all([nats?.stop(), mongo?.stop()]);
});

test('consentRequired switched off in the applications file while OTAO is down: the restarted server pushes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otao-restart-settings-'));
  const appsFile = join(dir, 'applications.yaml');
  const writeApps = (consentRequired: boolean): void =>
    writeFileSync(
      appsFile,
      `kaa:\n  applications:\n    kettle:\n      tenantId: default\n      consentRequired: ${consentRequired}\n      versions:\n        kettle-v1: {}\n`,
    );
  const env = {
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongo.uri,
    OTAO_MONGODB_DATABASE: `e2e_restart_settings_${Date.now().toString(36)}`,
    OTAO_SERVICE_INSTANCE_NAME: 'otao-rs',
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: 'cmx-rs',
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
  };
  writeApps(true);
  const otao = await OtaoProcess.start({ name: 'restart-settings', env });
  const api = `${otao.baseUrl}/api/v1/applications/kettle/software`;
  for (const body of [
    { version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general' },
    { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { n: 1 } },
  ]) {
    const r = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(201);
  }
  cmx = await new FakeCmx({ servers: nats.url, instanceName: 'cmx-rs', providerInstanceName: 'otao-rs' }).start();
  // consent required and none given: the endpoint is not offered 1.1.0 and nothing is pushed
  const before = await cmx.pull({ endpointId: 'kettle-1', appVersionName: 'kettle-v1', configId: '1.0.0' });
  expect(before.configId).toBeNull();
  await new Promise((r) => setTimeout(r, 1500));
  expect(cmx.pushes.filter((p) => p.endpointId === 'kettle-1')).toEqual([]);
  await otao.stop();

  // the operator edits the file while OTAO is down, then starts it again
  writeApps(false);
  await otao.start();
  const until = Date.now() + 30_000;
  while (!cmx.pushes.some((p) => p.endpointId === 'kettle-1') && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  expect(cmx.pushes.filter((p) => p.endpointId === 'kettle-1').map((p) => p.configId)).toEqual(['1.1.0']);
  await otao.stop();
});
