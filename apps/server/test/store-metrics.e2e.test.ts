// The built server counts its round trips to the store: `otao_store_commands_total{command}` (from
// the driver's command monitoring) is in /metrics and grows when a REST call reads the store. Uses
// MONGODB_URI and NATS_URL when set (scripts/test.sh), else starts FerretDB and nats-server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDB, startNats } from '@otao/test-services';
import { OtaoProcess, requireBuiltServer } from './support/otao-process';

jest.setTimeout(60_000);

let natsUrl: string;
let mongoUri: string;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  requireBuiltServer();
  const [nats, mongo] = await Promise.all([process.env['NATS_URL'] ? undefined : startNats(), process.env['MONGODB_URI'] ? undefined : startFerretDB()]);
  natsUrl = process.env['NATS_URL'] ?? nats!.url;
  mongoUri = process.env['MONGODB_URI'] ?? mongo!.uri;
  if (nats) stops.push(() => nats.stop());
  if (mongo) stops.push(() => mongo.stop());
});

afterAll(async () => {
  await OtaoProcess.killAll();
  await Promise.all(stops.map((s) => s()));
});

/** The samples of `otao_store_commands_total`, by command. */
async function storeCommands(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const m of text.matchAll(/^otao_store_commands_total\{command="([^"]+)"\} (\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/gm)) samples.set(m[1]!, Number(m[2]));
  return samples;
}

const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

test('otao_store_commands_total counts store round trips by command and grows with a REST read', async () => {
  const tag = `sm${Date.now().toString(36)}`;
  const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-store-metrics-')), 'applications.yaml');
  writeFileSync(appsFile, `kaa:\n  applications:\n    kettle:\n      tenantId: default\n      versions:\n        kettle-v1: {}\n`);
  const otao = await OtaoProcess.start({
    name: 'store-metrics',
    env: {
      OTAO_NATS_URLS: natsUrl,
      OTAO_MONGODB_URI: mongoUri,
      OTAO_MONGODB_DATABASE: `e2e_${tag}`,
      OTAO_SERVICE_INSTANCE_NAME: `otao-${tag}`,
      OTAO_SECURITY_IGNORED: '/**',
      OTAO_APPLICATIONS_FILE: appsFile,
    },
  });

  const text = await (await fetch(`${otao.baseUrl}/metrics`)).text();
  expect(text).toContain('# TYPE otao_store_commands_total counter');
  expect(text).toContain('# TYPE otao_store_operation_duration_seconds histogram');

  const before = await storeCommands(otao.baseUrl);
  // Starting up already talked to the store (indexes, filter bootstrap, lease): counted, and the
  // driver's handshakes and pings are not.
  expect(total(before)).toBeGreaterThan(0);
  for (const ignored of ['hello', 'isMaster', 'ismaster', 'ping']) expect(before.has(ignored)).toBe(false);

  // The first read of an application's software cannot come from a cache: it is a store read.
  const list = await fetch(`${otao.baseUrl}/api/v1/applications/kettle/software`);
  expect(list.status).toBe(200);
  const after = await storeCommands(otao.baseUrl);
  expect(total(after)).toBeGreaterThan(total(before));
  expect([...after.keys()].some((c) => ['find', 'aggregate', 'count'].includes(c))).toBe(true);

  await otao.stop();
});
