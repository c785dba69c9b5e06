// End-to-end (spec §10): S3 unavailable, also at start. The BUILT server runs as a process with a
// real nats-server, FerretDB and S3 server (versitygw). With S3 stopped before the server starts,
// the server must start and serve CDTP and REST; uploads answer 503; pulls of software with a file
// answer 503 rather than a specification without its link; `/ready` names S3 (200: NATS and the
// store decide readiness). When S3 is started again the server recovers by itself. The same when
// S3 dies while the server runs.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { type FerretDB, type NatsServer, type S3Server, startFerretDB, startNats, startS3 } from '@otao/test-services';
import { OtaoProcess, requireBuiltServer } from './support/otao-process';

jest.setTimeout(120_000);

const BUCKET = 'otao-outage';
let nats: NatsServer;
let mongo: FerretDB;
let s3: S3Server;
let cmx: FakeCmx | undefined;
const workDir = mkdtempSync(join(tmpdir(), 'otao-e2e-s3-'));

beforeAll(async () => {
  requireBuiltServer();
  [nats, mongo, s3] = await Promise.all([startNats(), startFerretDB(), startS3({ buckets: [BUCKET] })]);
}, 300_000);

afterAll(async () => {
  await OtaoProcess.killAll();
  await cmx?.stop().catch(() => undefined);
  await Promise.all([nats?.stop(), mongo?.stop(), s3?.stop()]);
});

type Json = ReturnType<typeof JSON.parse>;

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const raw = body instanceof Uint8Array;
  const res = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': raw ? 'application/octet-stream' : 'application/json' }, body: raw ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('S3 down at start: the server starts, serves CDTP and REST, answers 503 where a file is needed, names S3 in /ready, and recovers by itself', async () => {
  const appsFile = join(workDir, 'applications.json');
  writeFileSync(
    appsFile,
    JSON.stringify({ kaa: { applications: { kettle: { tenantId: 'default', consentRequired: false, versions: { 'kettle-v1': {} } } } } }),
  );
  const env = {
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongo.uri,
    OTAO_MONGODB_DATABASE: 'e2e_s3_outage',
    OTAO_SERVICE_INSTANCE_NAME: 'otao-s3out',
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: 'cmx-s3out',
    OTAO_EPR_INSTANCE_NAME: 'epr-s3out',
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_S3_ENABLED: 'true',
    OTAO_S3_BUCKET: BUCKET,
    OTAO_S3_ENDPOINT: s3.endpoint,
    OTAO_S3_REGION: s3.region,
    OTAO_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };

  // With S3 up: 1.0.0 gets a file; 3.0.0 has none.
  const otao = await OtaoProcess.start({ name: 's3out', env });
  const api = `${otao.baseUrl}/api/v1/applications/kettle`;
  expect(
    (await http('POST', `${api}/software`, { version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general', specification: { notes: 'with file' } }))
      .status,
  ).toBe(201);
  expect(
    (await http('POST', `${api}/software`, { version: '3.0.0', upgradableFrom: ['2.9.0'], rolloutStrategy: 'general', specification: { notes: 'no file' } }))
      .status,
  ).toBe(201);
  const firmware = randomBytes(64 * 1024);
  const up = await http('PUT', `${api}/software/1.0.0/file?name=fw.bin`, firmware);
  expect(up.status).toBe(201);
  await otao.stop();

  // S3 stopped, then the server started: it must come up (the old code exited at verifyBucket).
  await s3.process.kill();
  await otao.start();
  const ready = await http('GET', `${otao.baseUrl}/ready`);
  expect(ready.status).toBe(200);
  expect(ready.body.degraded).toEqual([expect.stringMatching(/^s3: /) as string]);

  cmx = await new FakeCmx({ servers: nats.url, instanceName: 'cmx-s3out', providerInstanceName: 'otao-s3out' }).start();
  // CDTP: software without a file is served; software with a file is 503, never a spec without its link.
  const plain = await cmx.pull({ endpointId: 'ep-plain', appVersionName: 'kettle-v1', configId: '2.9.0' });
  expect({ statusCode: plain.statusCode, configId: plain.configId }).toEqual({ statusCode: 200, configId: '3.0.0' });
  const withFile = await cmx.pull({ endpointId: 'ep-file', appVersionName: 'kettle-v1', configId: '0.9.0' });
  expect({ statusCode: withFile.statusCode, content: withFile.content }).toEqual({ statusCode: 503, content: null });
  // REST: reads are served; an upload, a link and a file delete are 503 and change nothing.
  const sw = await http('GET', `${api}/software/1.0.0`);
  expect(sw.status).toBe(200);
  expect(sw.body.file).toMatchObject({ name: 'fw.bin', sha256: sha256(firmware) });
  for (const r of [
    await http('PUT', `${api}/software/1.0.0/file?name=fw2.bin`, randomBytes(100)),
    await http('GET', `${api}/software/1.0.0/file`),
    await http('DELETE', `${api}/software/1.0.0/file`),
  ]) {
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('dependency.unavailable');
  }
  expect((await http('GET', `${api}/software/1.0.0`)).body.file).toEqual(sw.body.file);
  const metricsDown = await (await fetch(`${otao.baseUrl}/metrics`)).text();
  expect(metricsDown).toMatch(/otao_dependency_up\{dependency="s3"\} 0/);

  // S3 back: no restart needed.
  await s3.process.start();
  const offer = await eventually('a pull with a link', 20_000, async () => {
    const r = await cmx!.pull({ endpointId: 'ep-file', appVersionName: 'kettle-v1', configId: '0.9.0' });
    return r.statusCode === 200 ? r : undefined;
  });
  expect(offer.configId).toBe('1.0.0');
  const spec = JSON.parse(Buffer.from(offer.content!).toString('utf8')) as { notes: string; link: string };
  expect(spec.notes).toBe('with file');
  const dl = await fetch(spec.link, { signal: AbortSignal.timeout(15_000) });
  expect(dl.status).toBe(200);
  expect(sha256(Buffer.from(await dl.arrayBuffer()))).toBe(sha256(firmware));
  await eventually('/ready without S3 named', 10_000, async () => {
    const r = await http('GET', `${otao.baseUrl}/ready`);
    return r.status === 200 && r.body.degraded === undefined ? true : undefined;
  });
  const replaced = await http('PUT', `${api}/software/1.0.0/file?name=fw.bin`, randomBytes(1000));
  expect(replaced.status).toBe(200);
  expect(replaced.body.size).toBe(1000);

  // S3 dies while the server runs, with no upload to notice it: pulls of software with a file
  // turn to 503 by themselves (the link they would carry could not work), and back when S3 is.
  await s3.process.kill();
  await eventually('a 503 for software with a file while S3 is down', 20_000, async () => {
    const r = await cmx!.pull({ endpointId: 'ep-file-2', appVersionName: 'kettle-v1', configId: '0.9.0' });
    return r.statusCode === 503 ? r : undefined;
  });
  expect((await http('GET', `${otao.baseUrl}/ready`)).body.degraded).toEqual([expect.stringMatching(/^s3: /) as string]);
  expect((await cmx.pull({ endpointId: 'ep-plain-2', appVersionName: 'kettle-v1', configId: '2.9.0' })).statusCode).toBe(200);
  await s3.process.start();
  await eventually('a pull with a link again', 20_000, async () => {
    const r = await cmx!.pull({ endpointId: 'ep-file-2', appVersionName: 'kettle-v1', configId: '0.9.0' });
    return r.statusCode === 200 ? r : undefined;
  });
  await otao.stop();
});
