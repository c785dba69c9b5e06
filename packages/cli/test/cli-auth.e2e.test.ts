// The built `otao` with client credentials of a real Keycloak against the built server with
// authentication on (issue #14): Keycloak realms tenant-a and tenant-b, each with the confidential
// service client `otao-ci` (all scopes on kettle) and `otao-ci-none` (no permission); the servers
// know both tenants. Keycloak is reached through a counting proxy, so the tests see every token
// request and every token issued.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FerretDB,
  type Keycloak,
  type NatsServer,
  type S3Server,
  OTAO_SCOPES,
  freePort,
  startFerretDB,
  startKeycloak,
  startNats,
  startS3,
} from '@otao/test-services';
import { CountingProxy } from './support/counting-proxy';
import { type CliRun, Server, otao, requireBuilt } from './support/run-cli';

jest.setTimeout(240_000);

const APP = 'kettle';
const work = mkdtempSync(join(tmpdir(), 'otao-cli-auth-test-'));
let kc: Keycloak;
let proxy: CountingProxy;
let nats: NatsServer;
let mongo: FerretDB | undefined;
let s3: S3Server;
/** Authentication on, OTAO_AUTHZ_MODE=rpt (the default). */
let rpt: Server;
/** Authentication on, OTAO_AUTHZ_MODE=uma. */
let uma: Server;
/** Authentication off: the shapes to compare with. */
let off: Server;

beforeAll(async () => {
  requireBuilt();
  const mongoUri = process.env['MONGODB_URI'];
  [kc, nats, mongo, s3] = await Promise.all([
    startKeycloak({
      verbose: false,
      serviceClients: [
        { clientId: 'otao-ci', grants: { kettle: OTAO_SCOPES } },
        { clientId: 'otao-ci-none', grants: {} },
      ],
    }),
    startNats(),
    mongoUri ? Promise.resolve(undefined) : startFerretDB(),
    startS3({ buckets: ['cli-rpt', 'cli-uma', 'cli-off'] }),
  ]);
  proxy = await new CountingProxy(kc.port).start();
  const appsFile = join(work, 'applications.json');
  const apps = (tenant: string, names: string[]): Record<string, unknown> =>
    Object.fromEntries(names.map((n) => [n, { consentRequired: false, versions: { [`${n}-${tenant}-v1`]: {} } }]));
  writeFileSync(
    appsFile,
    JSON.stringify({
      kaa: {
        tenants: {
          'tenant-a': { applications: apps('tenant-a', [APP]) },
          'tenant-b': { applications: apps('tenant-b', [APP, 'toaster']) },
          default: { applications: apps('default', [APP]) },
        },
      },
    }),
  );
  const base = (name: string): Record<string, string> => ({
    OTAO_REPLICA_ID: `cli-${name}`,
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongoUri ?? mongo!.uri,
    OTAO_MONGODB_DATABASE: `cli_${name}_${Date.now()}`,
    OTAO_SERVICE_INSTANCE_NAME: `otao-cli-${name}`,
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: `cmx-cli-${name}`,
    OTAO_EPR_INSTANCE_NAME: `epr-cli-${name}`,
    OTAO_SCMP_PROVIDER_INSTANCE_NAME: `tekton-cli-${name}`,
    OTAO_TENANT_MANAGER_INSTANCE_NAME: `tm-cli-${name}`,
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_S3_ENABLED: 'true',
    OTAO_S3_BUCKET: `cli-${name}`,
    OTAO_S3_ENDPOINT: s3.endpoint,
    OTAO_S3_REGION: s3.region,
    OTAO_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
  const tenants = JSON.stringify(['tenant-a', 'tenant-b'].map((id) => ({ id, issuer: proxy.issuer(id) })));
  [rpt, uma, off] = await Promise.all([
    Server.start({ ...base('rpt'), OTAO_TENANTS: tenants, OTAO_OAUTH_AUDIENCE: 'otao', OTAO_AUTHZ_MODE: 'rpt' }),
    Server.start({
      ...base('uma'),
      OTAO_TENANTS: tenants,
      OTAO_OAUTH_AUDIENCE: 'otao',
      OTAO_AUTHZ_MODE: 'uma',
      OTAO_OAUTH_CLIENT_ID: kc.clientId,
      OTAO_OAUTH_CLIENT_SECRET: kc.clientSecret,
    }),
    Server.start({ ...base('off'), OTAO_SECURITY_IGNORED: '/**' }),
  ]);
});

afterAll(async () => {
  await Promise.all([rpt?.stop(), uma?.stop(), off?.stop()]);
  await proxy?.stop();
  await Promise.all([kc?.stop(), nats?.stop(), mongo?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

/** Client credentials of `clientId` in `realm` (through the proxy), with an RPT for audience `otao` unless `rptAudience` is false. */
function creds(realm: string, o: { clientId?: string; rptAudience?: boolean; secret?: string } = {}): Record<string, string> {
  const clientId = o.clientId ?? 'otao-ci';
  return {
    OTAO_ISSUER: proxy.issuer(realm),
    OTAO_CLIENT_ID: clientId,
    OTAO_CLIENT_SECRET: o.secret ?? kc.serviceClientSecret(realm, clientId),
    ...(o.rptAudience === false ? {} : { OTAO_RPT_AUDIENCE: kc.clientId }),
  };
}
const parsed = (r: CliRun): ReturnType<typeof JSON.parse> => {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(r.stdout);
};
function expectError(r: CliRun, exit: number, code: string): void {
  expect({ exit: r.code, stdout: r.stdout }).toEqual({ exit, stdout: '' });
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^otao: ${code.replace(/\./g, '\\.')}( \\(\\d+\\))?: \\S`));
}
/** The JSON with what differs between two servers by nature (times, links, etags) replaced. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) return '<time>';
  if (typeof v === 'string' && /^https?:\/\//.test(v)) return '<url>';
  return v;
}

test('client credentials + RPT against a server in rpt mode: list, create, get, upload; JSON as without authentication', async () => {
  const file = join(work, 'fw.bin');
  const bytes = Buffer.from('firmware for tenant-a '.repeat(500));
  writeFileSync(file, bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const steps: string[][] = [
    ['software', 'create', APP, '1.0.0', '--upgradable-from', '0.9.0', '--spec', '{"notes":"first"}', '--json'],
    ['software', 'create', APP, '1.1.0', '--upgradable-from', '1.0.0', '--max-failure-rate', '0.1', '--min-reports', '5', '--json'],
    ['file', 'upload', APP, '1.1.0', file, '--json'],
    ['software', 'list', APP, '--json'],
    ['software', 'get', APP, '1.1.0', '--json'],
    ['file', 'get', APP, '1.1.0', '--json'],
    ['rollout', 'status', APP, '1.1.0', '--json'],
  ];
  for (const args of steps) {
    const withAuth = parsed(await otao(args, { OTAO_URL: rpt.url, ...creds('tenant-a') }));
    const without = parsed(await otao(args, { OTAO_URL: off.url }));
    expect({ args, json: shape(withAuth) }).toEqual({ args, json: shape(without) });
  }
  const list = parsed(await otao(['software', 'list', APP, '--json'], { OTAO_URL: rpt.url, ...creds('tenant-a') }));
  expect(list.map((s: { version: string }) => s.version)).toEqual(['1.0.0', '1.1.0']);
  const got = parsed(await otao(['file', 'get', APP, '1.1.0', '--json'], { OTAO_URL: rpt.url, ...creds('tenant-a') }));
  expect(got).toMatchObject({ size: bytes.length, sha256: sha });
  // human output too
  const human = await otao(['software', 'list', APP], { OTAO_URL: rpt.url, ...creds('tenant-a') });
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/VERSION.*STRATEGY/);
});

test('a wrong secret: one line, exit 2, auth.token_failed, the secret not in it; an unreachable issuer: exit 3', async () => {
  const wrong = 'not-the-secret-4711';
  const r = await otao(['software', 'list', APP, '--verbose'], { OTAO_URL: rpt.url, ...creds('tenant-a', { secret: wrong }) });
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('otao: ') && !l.startsWith('otao: auth: ') && !l.startsWith('otao: url '));
  expect(errors).toEqual([expect.stringMatching(/^otao: auth\.token_failed \(40[01]\): token request refused: unauthorized_client/)]);
  expect(r.stderr).not.toContain(wrong);
  const quiet = await otao(['software', 'list', APP], { OTAO_URL: rpt.url, ...creds('tenant-a', { secret: wrong }) });
  expectError(quiet, 2, 'auth.token_failed');
  // tenant-b's secret of the same client id is not tenant-a's
  expectError(
    await otao(['software', 'list', APP], { OTAO_URL: rpt.url, ...creds('tenant-a', { secret: kc.serviceClientSecret('tenant-b', 'otao-ci') }) }),
    2,
    'auth.token_failed',
  );
  const closed = await freePort();
  const gone = await otao(['software', 'list', APP], { OTAO_URL: rpt.url, ...creds('tenant-a'), OTAO_ISSUER: `http://127.0.0.1:${closed}/realms/tenant-a` });
  expectError(gone, 3, 'auth.unreachable');
});

test("the other tenant's application is invisible: 404, and a client without permissions gets no RPT", async () => {
  const asB = { OTAO_URL: rpt.url, ...creds('tenant-b') };
  const asA = { OTAO_URL: rpt.url, ...creds('tenant-a') };
  expect(parsed(await otao(['software', 'create', APP, '7.7.7', '--upgradable-from', '7.0.0', '--json'], asB)).version).toBe('7.7.7');
  // tenant-a's kettle is another application: tenant-b's version does not exist there …
  expectError(await otao(['software', 'get', APP, '7.7.7'], asA), 2, 'software.not_found');
  expect(parsed(await otao(['software', 'list', APP, '--json'], asA)).map((s: { version: string }) => s.version)).not.toContain('7.7.7');
  // … and tenant-b's toaster is not found for tenant-a's client (the 404-versus-403 rule)
  expectError(await otao(['software', 'list', 'toaster'], asA), 2, 'application.not_found');
  expectError(await otao(['file', 'get', 'toaster', '1.0.0'], asA), 2, 'application.not_found');
  // tenant-b sees its own version only
  expect(parsed(await otao(['software', 'list', APP, '--json'], asB)).map((s: { version: string }) => s.version)).toEqual(['7.7.7']);
  // a service account without any permission: Keycloak refuses the RPT (403)
  const none = await otao(['software', 'list', APP], { OTAO_URL: rpt.url, ...creds('tenant-a', { clientId: 'otao-ci-none' }) });
  expectError(none, 2, 'auth.token_failed');
  expect(none.stderr).toMatch(/^otao: auth\.token_failed \(403\): RPT request refused: access_denied/);
});

test('rpt mode without OTAO_RPT_AUDIENCE: 404 with a hint; uma mode: the plain token and the RPT both work', async () => {
  const plain = await otao(['software', 'list', APP], { OTAO_URL: rpt.url, ...creds('tenant-a', { rptAudience: false }) });
  expectError(plain, 2, 'application.not_found');
  expect(plain.stderr).toContain('set OTAO_RPT_AUDIENCE');

  const created = parsed(await otao(['software', 'create', APP, '2.0.0', '--json'], { OTAO_URL: uma.url, ...creds('tenant-a', { rptAudience: false }) }));
  expect(created.version).toBe('2.0.0');
  expect(parsed(await otao(['software', 'get', APP, '2.0.0', '--json'], { OTAO_URL: uma.url, ...creds('tenant-a') })).version).toBe('2.0.0');
  expectError(await otao(['software', 'list', 'toaster'], { OTAO_URL: uma.url, ...creds('tenant-a') }), 2, 'application.not_found');
});

test('--verbose: neither the secret nor any token appears in stdout or stderr', async () => {
  const before = proxy.issuedTokens.length;
  const file = join(work, 'verbose.bin');
  writeFileSync(file, Buffer.alloc(64 * 1024, 7));
  const env = { OTAO_URL: rpt.url, ...creds('tenant-a') };
  const runs = [
    await otao(['software', 'create', APP, '3.0.0', '--upgradable-from', '2.0.0', '--verbose'], env),
    await otao(['software', 'update', APP, '3.0.0', '--strategy', 'targeted', '--verbose', '--json'], env),
    await otao(['file', 'upload', APP, '3.0.0', file, '--verbose'], env),
    await otao(['rollout', 'watch', APP, '3.0.0', '--verbose', '--json'], env),
    await otao(['software', 'get', APP, '9.9.9', '--verbose'], env),
    await otao(['software', 'list', APP, '--verbose'], { ...env, OTAO_CLIENT_SECRET: 'wrong-secret-0815' }),
  ];
  expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 2, 2]);
  const output = runs.map((r) => r.stdout + r.stderr).join('\n');
  expect(output).toContain('otao: auth: RPT exchange');
  expect(output).toMatch(/otao: < 201 POST \/api\/v1\/applications\/kettle\/software/);
  const secrets = [kc.serviceClientSecret('tenant-a', 'otao-ci'), 'wrong-secret-0815', ...proxy.issuedTokens.slice(before)];
  expect(proxy.issuedTokens.length - before).toBeGreaterThanOrEqual(10); // 5 successful runs × (client token + RPT)
  for (const s of secrets) expect(output.includes(s)).toBe(false);
  for (const t of proxy.issuedTokens.slice(before)) expect(output.includes(t.split('.')[2] ?? t)).toBe(false); // not even a token's signature
  expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT-looking text at all
  expect(output.toLowerCase()).not.toContain('bearer');
});

test('the token is cached: one client-credentials grant and one RPT per process, and per pipeline with the file cache until shortly before expiry', async () => {
  const env = { OTAO_URL: rpt.url, ...creds('tenant-a') };
  // One process, several API requests (two of them concurrent): one token.
  let at = proxy.cliRequests('tenant-a');
  const watch = await otao(['rollout', 'watch', APP, '1.0.0', '--verbose'], env);
  expect(watch.code).toBe(0);
  const apiRequests = watch.stderr.split('\n').filter((l) => l.startsWith('otao: > ')).length;
  expect(apiRequests).toBeGreaterThanOrEqual(3);
  const update = await otao(['software', 'update', APP, '1.0.0', '--spec', '{"notes":"again"}', '--verbose'], env);
  expect(update.code).toBe(0);
  expect(update.stderr.split('\n').filter((l) => l.startsWith('otao: > '))).toEqual([
    expect.stringContaining('> GET /api/v1/applications/kettle/software/1.0.0'),
    expect.stringContaining('> PUT /api/v1/applications/kettle/software/1.0.0'),
  ]);
  let now = proxy.cliRequests('tenant-a');
  expect({ cc: now.clientCredentials - at.clientCredentials, rpt: now.rpt - at.rpt }).toEqual({ cc: 2, rpt: 2 }); // one each per process

  // The file cache: consecutive commands share one token.
  const cacheHome = mkdtempSync(join(work, 'xdg-'));
  const fileEnv = { ...env, OTAO_TOKEN_CACHE: 'file', XDG_CACHE_HOME: cacheHome };
  at = proxy.cliRequests('tenant-a');
  for (const args of [
    ['software', 'list', APP],
    ['software', 'get', APP, '1.0.0'],
    ['rollout', 'status', APP, '1.0.0'],
    ['preview', APP, '1.1.0'],
  ]) {
    expect((await otao(args, fileEnv)).code).toBe(0);
  }
  now = proxy.cliRequests('tenant-a');
  expect({ cc: now.clientCredentials - at.clientCredentials, rpt: now.rpt - at.rpt }).toEqual({ cc: 1, rpt: 1 });
  const dir = join(cacheHome, 'otao');
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  const cacheFile = join(dir, files[0]!);
  const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { accessToken: string; useUntil: number };
  // It is the RPT (its permissions), used until 30 s before its `exp` (within Keycloak's whole-second `iat`).
  const claims = JSON.parse(Buffer.from(cached.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number; authorization?: unknown };
  expect(claims.authorization).toMatchObject({ permissions: [expect.objectContaining({ rsname: 'application-kettle' })] });
  expect(cached.useUntil).toBeLessThanOrEqual(claims.exp * 1000 - 30_000 + 1000);
  expect(cached.useUntil).toBeGreaterThan(claims.exp * 1000 - 30_000 - 10_000);

  // Shortly before expiry (the cache says so): the next command fetches a new token and caches it.
  writeFileSync(cacheFile, JSON.stringify({ ...cached, useUntil: Date.now() - 1 }));
  at = proxy.cliRequests('tenant-a');
  expect((await otao(['software', 'list', APP], fileEnv)).code).toBe(0);
  expect((await otao(['software', 'list', APP], fileEnv)).code).toBe(0);
  now = proxy.cliRequests('tenant-a');
  expect({ cc: now.clientCredentials - at.clientCredentials, rpt: now.rpt - at.rpt }).toEqual({ cc: 1, rpt: 1 });
  const renewed = JSON.parse(readFileSync(cacheFile, 'utf8')) as { accessToken: string; useUntil: number };
  expect(renewed.accessToken).not.toBe(cached.accessToken);
  expect(renewed.useUntil).toBeGreaterThan(Date.now());

  // A cached token the server refuses (401): that command fails, the entry is dropped, the next command gets a new token.
  writeFileSync(cacheFile, JSON.stringify({ accessToken: 'not-a-valid-token', useUntil: Date.now() + 600_000 }));
  expectError(await otao(['software', 'list', APP], fileEnv), 2, 'auth.unauthenticated');
  expect(readdirSync(dir)).toEqual([]);
  at = proxy.cliRequests('tenant-a');
  expect((await otao(['software', 'list', APP], fileEnv)).code).toBe(0);
  now = proxy.cliRequests('tenant-a');
  expect({ cc: now.clientCredentials - at.clientCredentials, rpt: now.rpt - at.rpt }).toEqual({ cc: 1, rpt: 1 });
});
