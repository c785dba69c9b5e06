// End-to-end tests of the assembled server (issue #7): the BUILT server (`dist/main.js`) runs as a
// child process with a real nats-server, FerretDB and an S3 server (versitygw), configured only by
// environment variables; the Kaa services around it are the wire-level stand-ins (FakeCmx, FakeEpr,
// FakeTekton) and, for tokens, a real Keycloak. Each test uses its own database, NATS instance
// names and applications, so the tests do not see each other's messages or data.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigResponseRecord, ConfigUpdatedRecord } from '@otao/nats-cdtp';
import { FakeCmx, FakeEpr, FakeTenantManager } from '@otao/nats-cdtp/testing';
import { FakeTekton } from '@otao/tekton-config/testing';
import { type FerretDB, type NatsServer, type S3Server, startFerretDB, startKeycloak, startNats, startS3, type Keycloak } from '@otao/test-services';
import { OtaoProcess, requireBuiltServer, runServerToExit } from './support/otao-process';

jest.setTimeout(60_000);

const BUCKET = 'otao-e2e';
let nats: NatsServer;
let mongo: FerretDB;
let s3: S3Server;
const workDir = mkdtempSync(join(tmpdir(), 'otao-e2e-'));
const fakes: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  requireBuiltServer();
  [nats, mongo, s3] = await Promise.all([startNats(), startFerretDB(), startS3({ buckets: [BUCKET] })]);
});

afterEach(async () => {
  // Every server of a test is stopped by the test; whatever is left (a failed test) is killed here.
  await OtaoProcess.killAll();
  await Promise.all(fakes.splice(0).map((f) => f.stop().catch(() => undefined)));
});

afterAll(async () => {
  await OtaoProcess.killAll();
  await Promise.all([nats?.stop(), mongo?.stop(), s3?.stop()]);
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** JSON as parsed: the tests read its fields freely. */
type Json = ReturnType<typeof JSON.parse>;

interface Http {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Http> {
  const raw = body instanceof Uint8Array;
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': raw ? 'application/octet-stream' : 'application/json', ...headers },
    ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls `probe` every 100 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A test's isolated names: database, NATS instances, applications file. */
function scenario(tag: string, apps: Record<string, { tenantId: string; consentRequired: boolean; versions: string[] }> | undefined) {
  const names = {
    db: `e2e_${tag}`,
    instance: `otao-${tag}`,
    cmx: `cmx-${tag}`,
    epr: `epr-${tag}`,
    tekton: `tekton-${tag}`,
  };
  let appsFile: string | undefined;
  if (apps) {
    appsFile = join(workDir, `${tag}-applications.json`);
    const doc = {
      kaa: {
        applications: Object.fromEntries(
          Object.entries(apps).map(([app, a]) => [
            app,
            { tenantId: a.tenantId, consentRequired: a.consentRequired, versions: Object.fromEntries(a.versions.map((v) => [v, {}])) },
          ]),
        ),
      },
    };
    writeFileSync(appsFile, JSON.stringify(doc));
  }
  const env: Record<string, string> = {
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongo.uri,
    OTAO_MONGODB_DATABASE: names.db,
    OTAO_SERVICE_INSTANCE_NAME: names.instance,
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: names.cmx,
    OTAO_EPR_INSTANCE_NAME: names.epr,
    OTAO_SCMP_PROVIDER_INSTANCE_NAME: names.tekton,
    OTAO_SECURITY_IGNORED: '/**',
    ...(appsFile ? { OTAO_APPLICATIONS_FILE: appsFile } : {}),
  };
  const cmx = async (): Promise<FakeCmx> => {
    const c = await new FakeCmx({ servers: nats.url, instanceName: names.cmx, providerInstanceName: names.instance }).start();
    fakes.push(c);
    return c;
  };
  const epr = async (): Promise<FakeEpr> => {
    const e = await new FakeEpr({ servers: nats.url, instanceName: names.epr }).start();
    fakes.push(e);
    return e;
  };
  return { names, env, cmx, epr };
}

const pushesTo = (cmx: FakeCmx, endpointId: string): ConfigUpdatedRecord[] => cmx.pushes.filter((p) => p.endpointId === endpointId);
const json = (content: Buffer | null): Json => (content === null ? null : JSON.parse(Buffer.from(content).toString('utf8')));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Kaa's date form, whole seconds. */
const kaaDate = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function expectOffer(r: ConfigResponseRecord, version: string): Json {
  expect({ statusCode: r.statusCode, configId: r.configId, contentType: r.contentType }).toEqual({
    statusCode: 200,
    configId: version,
    contentType: 'application/json',
  });
  expect(r.content).not.toBeNull();
  return json(r.content);
}

// ---------------------------------------------------------------------------------------------

test('the full OTA cycle over CDTP, with the file in S3 behind a presigned link', async () => {
  const s = scenario('cycle', { kettle: { tenantId: 'default', consentRequired: false, versions: ['kettle-v1'] } });
  const otao = await OtaoProcess.start({
    name: 'cycle',
    env: {
      ...s.env,
      OTAO_S3_ENABLED: 'true',
      OTAO_S3_BUCKET: BUCKET,
      OTAO_S3_ENDPOINT: s3.endpoint,
      OTAO_S3_REGION: s3.region,
      OTAO_S3_FORCE_PATH_STYLE: 'true',
      OTAO_S3_URL_PATH: 'download.url',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    },
  });
  const api = `${otao.baseUrl}/api/v1/applications/kettle`;
  for (const [version, from, notes] of [
    ['1.0.0', '0.9.0', 'first'],
    ['1.1.0', '1.0.0', 'fixes'],
    ['2.0.0', '1.1.0', 'features'],
  ] as const) {
    const r = await http('POST', `${api}/software`, { version, upgradableFrom: [from], rolloutStrategy: 'general', specification: { notes } });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/api/v1/applications/kettle/software/${version}`);
  }
  const firmware = randomBytes(300 * 1024);
  const up = await http('PUT', `${api}/software/1.1.0/file?name=kettle-1.1.0.bin`, firmware);
  expect(up.status).toBe(201);
  expect(up.body).toMatchObject({ name: 'kettle-1.1.0.bin', size: firmware.length, sha256: sha256(firmware) });

  const cmx = await s.cmx();
  const ep = 'kettle-ep-1';
  const offer = await cmx.pull({ endpointId: ep, appVersionName: 'kettle-v1', configId: '1.0.0' });
  expect(offer.endpointId).toBe(ep);
  const spec = expectOffer(offer, '1.1.0');
  expect(spec.notes).toBe('fixes');
  const link: unknown = spec.download?.url;
  expect(typeof link).toBe('string');
  const dl = await fetch(link as string, { signal: AbortSignal.timeout(15_000) });
  expect(dl.status).toBe(200);
  const downloaded = Buffer.from(await dl.arrayBuffer());
  expect(downloaded.length).toBe(firmware.length);
  expect(sha256(downloaded)).toBe(sha256(firmware));

  // Installed and reported: the next hop (2.0.0) is pushed without any request.
  expect(pushesTo(cmx, ep)).toEqual([]);
  await cmx.applied({ endpointId: ep, appVersionName: 'kettle-v1', configId: '1.1.0', statusCode: 200 });
  const pushed = await eventually('ConfigUpdated 2.0.0', 10_000, () => pushesTo(cmx, ep)[0]);
  expect({ configId: pushed.configId, appVersionName: pushed.appVersionName, contentType: pushed.contentType }).toEqual({
    configId: '2.0.0',
    appVersionName: 'kettle-v1',
    contentType: 'application/json',
  });
  expect(json(pushed.content)).toEqual({ notes: 'features' });

  const view = await http('GET', `${api}/endpoints/${ep}/software`);
  expect(view.status).toBe(200);
  expect(view.body).toMatchObject({ endpointId: ep, appVersionName: 'kettle-v1', currentVersion: '1.1.0', next: '2.0.0', goal: '2.0.0', path: ['2.0.0'] });
  expect(view.body.lastReport).toMatchObject({ configId: '1.1.0', statusCode: 200 });
  const rollout = await http('GET', `${api}/software/1.1.0/rollout`);
  expect(rollout.body).toMatchObject({ offered: 1, applied: 1, failed: 0 });
  expect(pushesTo(cmx, ep).map((p) => p.configId)).toEqual(['2.0.0']);

  await otao.stop();
});

test('REST with real tokens: 401 without, 201 for the admin, 403 for a reader writing, 404 for another tenant', async () => {
  let kc: Keycloak | undefined;
  try {
    kc = await startKeycloak({ verbose: false });
    const s = scenario('auth', { kettle: { tenantId: 'tenant-a', consentRequired: false, versions: ['kettle-a-v1'] } });
    const { OTAO_SECURITY_IGNORED: _off, ...env } = s.env;
    const otao = await OtaoProcess.start({
      name: 'auth',
      env: {
        ...env,
        OTAO_TENANTS: JSON.stringify([
          { id: 'tenant-a', issuer: kc.issuer('tenant-a') },
          { id: 'tenant-b', issuer: kc.issuer('tenant-b') },
        ]),
        OTAO_OAUTH_AUDIENCE: 'otao',
        OTAO_AUTHZ_MODE: 'rpt',
        OTAO_TENANT_MANAGER_INSTANCE_NAME: 'tm-auth',
      },
    });
    const api = `${otao.baseUrl}/api/v1/applications/kettle/software`;
    const bearer = async (realm: string, user: string): Promise<Record<string, string>> => ({ authorization: `Bearer ${await kc!.rptToken(realm, user)}` });
    const body = { version: '1.0.0', rolloutStrategy: 'general' };

    const anonymous = await http('POST', api, body);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('auth.unauthenticated');
    expect((await http('GET', api)).status).toBe(401);
    expect((await http('GET', `${otao.baseUrl}/ready`)).status).toBe(200);

    const created = await http('POST', api, body, await bearer('tenant-a', 'admin'));
    expect(created.status).toBe(201);
    expect(created.body.version).toBe('1.0.0');

    const reader = await bearer('tenant-a', 'reader');
    expect((await http('GET', `${api}/1.0.0`, undefined, reader)).status).toBe(200);
    const forbidden = await http('POST', api, { version: '2.0.0', rolloutStrategy: 'general' }, reader);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('auth.forbidden');

    // tenant-b's admin may manage "kettle" in tenant-b, but tenant-a's kettle does not exist for them.
    const other = await bearer('tenant-b', 'admin');
    const hidden = await http('GET', `${api}/1.0.0`, undefined, other);
    expect(hidden.status).toBe(404);
    expect((await http('GET', api, undefined, other)).status).toBe(404);
    expect((await http('POST', api, { version: '3.0.0', rolloutStrategy: 'general' }, other)).status).toBe(404);
    // nothing of tenant-b's attempts reached tenant-a
    const list = await http('GET', api, undefined, reader);
    expect(list.body.map((x: { version: string }) => x.version)).toEqual(['1.0.0']);

    // 21/TLE unregistered: the reader's token, valid (and cached) a moment ago, is refused at once;
    // tenant-b's token is untouched.
    const tm = await new FakeTenantManager({ servers: nats.url, instanceName: 'tm-auth' }).start();
    fakes.push(tm);
    await tm.unregistered('tenant-a');
    const refused = await eventually('401 for a tenant-a token after 21/TLE unregistered', 5000, async () => {
      const r = await http('GET', api, undefined, reader);
      return r.status === 401 ? r : undefined;
    });
    expect(refused.body.code).toBe('auth.unauthenticated');
    expect((await http('GET', api, undefined, await bearer('tenant-a', 'admin'))).status).toBe(401);
    expect((await http('GET', api, undefined, other)).status).toBe(404);

    await otao.stop();
  } finally {
    await kc?.stop();
  }
}, 240_000);

test('an SCMP notification switching consentRequired off pushes the version and pull offers it', async () => {
  const s = scenario('scmp', undefined);
  const tekton = new FakeTekton();
  await tekton.start();
  fakes.push(tekton);
  tekton.apps.set('kettle', { tenantId: 'default', consentRequired: true, versions: ['kettle-t-v1'] });
  const otao = await OtaoProcess.start({ name: 'scmp', env: { ...s.env, OTAO_TEKTON_ENABLED: 'true', OTAO_TEKTON_URL: tekton.url } });
  expect(tekton.requests.some((r) => r.startsWith('GET /api/v1/app-configs'))).toBe(true);
  const api = `${otao.baseUrl}/api/v1/applications/kettle`;
  expect((await http('POST', `${api}/software`, { version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general' })).status).toBe(201);
  expect(
    (await http('POST', `${api}/software`, { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { n: 1 } })).status,
  ).toBe(201);

  const cmx = await s.cmx();
  const ep = 'kettle-no-consent';
  // Consent required and none given: the endpoint stays on what it runs.
  const before = await cmx.pull({ endpointId: ep, appVersionName: 'kettle-t-v1', configId: '1.0.0' });
  // (docs/errors.md: "unchanged" is 200 with configId and content null and no reason phrase)
  expect({ statusCode: before.statusCode, configId: before.configId, content: before.content, reasonPhrase: before.reasonPhrase }).toEqual({
    statusCode: 200,
    configId: null,
    content: null,
    reasonPhrase: null,
  });
  const view = await http('GET', `${api}/endpoints/${ep}/software`);
  expect(view.body.currentVersion).toBe('1.0.0');
  expect(view.body.next).toBeUndefined();
  expect(pushesTo(cmx, ep)).toEqual([]);

  // Tekton's configuration changes; the SCMP broadcast makes OTAO reload it and push.
  tekton.apps.set('kettle', { tenantId: 'default', consentRequired: false, versions: ['kettle-t-v1'] });
  tekton.notify(cmx.connection.client(), { tenantId: 'default', appName: 'kettle' }, { broadcastFrom: s.names.tekton });
  const pushed = await eventually('ConfigUpdated 1.1.0 after the SCMP notification', 15_000, () => pushesTo(cmx, ep)[0]);
  expect(pushed.configId).toBe('1.1.0');
  expect(json(pushed.content)).toEqual({ n: 1 });
  expect(tekton.requests).toContain('GET /api/v1/app-configs/applications/kettle?serviceInstanceName=otao-scmp&tenantId=default');

  expect(expectOffer(await cmx.pull({ endpointId: ep, appVersionName: 'kettle-t-v1', configId: '1.0.0' }), '1.1.0')).toEqual({ n: 1 });
  await otao.stop();
});

test('a targeted rollout whose rolloutDate passes while the server runs is pushed at that date', async () => {
  const s = scenario('dates', { kettle: { tenantId: 'default', consentRequired: false, versions: ['kettle-d-v1'] } });
  const otao = await OtaoProcess.start({ name: 'dates', env: s.env });
  const api = `${otao.baseUrl}/api/v1/applications/kettle`;
  const cmx = await s.cmx();
  const epr = await s.epr();
  const ep = 'kettle-in-f1';
  const outside = 'kettle-not-in-f1';

  // Both endpoints report 1.0.0 by pulling; only one of them matches filter f1 (18/EFE ep-matched).
  for (const e of [ep, outside]) {
    const r = await cmx.pull({ endpointId: e, appVersionName: 'kettle-d-v1', configId: '1.0.0' });
    expect({ statusCode: r.statusCode, configId: r.configId }).toEqual({ statusCode: 200, configId: null });
  }
  await epr.matched('f1', 'kettle', 'kettle-d-v1', ep);
  await eventually('the f1 membership', 10_000, async () => {
    const v = await http('GET', `${api}/endpoints/${ep}/software`);
    return v.status === 200 && (v.body.filters as string[]).includes('f1') ? true : undefined;
  });

  const rolloutDate = (Math.floor(Date.now() / 1000) + 7) * 1000;
  const created = await http('POST', `${api}/software`, {
    version: '1.1.0',
    upgradableFrom: ['1.0.0'],
    rolloutStrategy: 'targeted',
    filters: [{ filterId: 'f1', rolloutDate: kaaDate(rolloutDate) }],
    specification: { wave: 1 },
  });
  expect(created.status).toBe(201);
  expect(created.body.filters).toEqual([{ filterId: 'f1', rolloutDate: kaaDate(rolloutDate) }]);

  // Before the date: not offered, not pushed.
  const early = await cmx.pull({ endpointId: ep, appVersionName: 'kettle-d-v1', configId: '1.0.0' });
  expect(Date.now()).toBeLessThan(rolloutDate);
  expect(early.configId).toBeNull();
  expect(pushesTo(cmx, ep)).toEqual([]);

  // After the date: pushed by the scheduler, without any request.
  const pushed = await eventually('ConfigUpdated at the rollout date', rolloutDate - Date.now() + 15_000, () => pushesTo(cmx, ep)[0]);
  const arrived = Date.now();
  expect(arrived).toBeGreaterThanOrEqual(rolloutDate);
  expect(pushed.configId).toBe('1.1.0');
  expect(json(pushed.content)).toEqual({ wave: 1 });
  expect(expectOffer(await cmx.pull({ endpointId: ep, appVersionName: 'kettle-d-v1', configId: '1.0.0' }), '1.1.0')).toEqual({ wave: 1 });
  // The endpoint outside the filter gets nothing.
  expect((await cmx.pull({ endpointId: outside, appVersionName: 'kettle-d-v1', configId: '1.0.0' })).configId).toBeNull();
  expect(pushesTo(cmx, outside)).toEqual([]);
  await otao.stop();
});

test('a restart loses nothing: software, ETags, endpoint state, consents and answers survive SIGTERM (and SIGKILL)', async () => {
  const s = scenario('restart', { kettle: { tenantId: 'default', consentRequired: true, versions: ['kettle-r-v1'] } });
  const otao = await OtaoProcess.start({ name: 'restart', env: s.env });
  const api = `${otao.baseUrl}/api/v1/applications/kettle`;
  for (const [version, from] of [
    ['1.0.0', '0.9.0'],
    ['1.1.0', '1.0.0'],
    ['2.0.0', '1.1.0'],
  ] as const) {
    expect((await http('POST', `${api}/software`, { version, upgradableFrom: [from], rolloutStrategy: 'general', specification: { v: version } })).status).toBe(
      201,
    );
  }
  const replaced = await http('PUT', `${api}/software/2.0.0`, {
    upgradableFrom: ['1.1.0'],
    rolloutStrategy: 'general',
    specification: { v: '2.0.0' },
    metadata: { edited: true },
  });
  expect(replaced.status).toBe(200);
  const ep = 'kettle-restarted';
  expect((await http('PUT', `${api}/endpoints/${ep}/consents/1.1.0`)).status).toBe(204);
  const cmx = await s.cmx();
  await cmx.applied({ endpointId: ep, appVersionName: 'kettle-r-v1', configId: '1.0.0', statusCode: 200 });
  await eventually('the push of 1.1.0 after the report', 10_000, () => pushesTo(cmx, ep)[0]);
  const answerBefore = await cmx.pull({ endpointId: ep, appVersionName: 'kettle-r-v1', configId: '1.0.0' });
  expect(expectOffer(answerBefore, '1.1.0')).toEqual({ v: '1.1.0' });

  const snapshot = async (): Promise<{ list: unknown; etags: (string | null)[]; view: unknown }> => {
    const list = await http('GET', `${api}/software`);
    expect(list.status).toBe(200);
    const etags = [];
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) etags.push((await http('GET', `${api}/software/${v}`)).headers.get('etag'));
    const view = await http('GET', `${api}/endpoints/${ep}/software`);
    expect(view.status).toBe(200);
    return { list: list.body, etags, view: view.body };
  };
  const before = await snapshot();
  expect(before.etags).toEqual([
    expect.stringMatching(/^"r1\.[0-9a-z]+"$/),
    expect.stringMatching(/^"r1\.[0-9a-z]+"$/),
    expect.stringMatching(/^"r2\.[0-9a-z]+"$/),
  ]);
  expect(before.view).toMatchObject({ currentVersion: '1.0.0', next: '1.1.0', consents: ['1.1.0'], lastReport: { configId: '1.0.0', statusCode: 200 } });

  const sameAnswer = async (): Promise<void> => {
    const again = await cmx.pull({ endpointId: ep, appVersionName: 'kettle-r-v1', configId: '1.0.0' }, { waitMs: 10_000 });
    expect({ ...again, correlationId: '', timestamp: 0 }).toEqual({ ...answerBefore, correlationId: '', timestamp: 0 });
  };

  await otao.stop(); // exit status 0, asserted by stop()
  await expect(fetch(`${otao.baseUrl}/health`)).rejects.toThrow();
  await otao.start();
  expect(await snapshot()).toEqual(before);
  await sameAnswer();

  // A crash (SIGKILL) loses nothing acknowledged either.
  await otao.kill();
  await otao.start();
  expect(await snapshot()).toEqual(before);
  await sameAnswer();
  expect(pushesTo(cmx, ep).map((p) => p.configId)).toEqual(['1.1.0']);
  await otao.stop();
}, 90_000);

test('an invalid configuration stops the start within a second, naming every wrong variable', async () => {
  const r = await runServerToExit({
    OTAO_HTTP_PORT: 'abc',
    OTAO_NATS_URLS: 'http://x',
    OTAO_S3_ENABLED: 'true',
    OTAO_LOG_LEVEL: 'loud',
    OTAO_SECURITY_IGNORED: '/**',
  });
  expect(r.signal).toBeNull();
  expect(r.code).not.toBe(0);
  expect(r.code).toBe(2);
  expect(r.wallMs).toBeLessThan(1000);
  for (const variable of ['OTAO_HTTP_PORT', 'OTAO_NATS_URLS', 'OTAO_S3_BUCKET', 'OTAO_LOG_LEVEL', 'OTAO_APPLICATIONS_FILE']) {
    expect(r.stderr).toContain(variable);
  }
  expect(r.stderr).toContain('"abc"');
  expect(r.stderr).toContain('"loud"');
  expect(r.stdout).toBe('');
});
