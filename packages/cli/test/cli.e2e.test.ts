// The built `otao` against the built server (authentication off), with real nats-server, FerretDB
// and S3 (versitygw), the Kaa CMX stand-in simulating endpoints over NATS (issue #14).
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeCmx } from '@otao/nats-cdtp/testing';
import { type FerretDB, type NatsServer, type S3Server, freePort, startFerretDB, startNats, startS3 } from '@otao/test-services';
import { type CliRun, Server, otao, requireBuilt } from './support/run-cli';

jest.setTimeout(120_000);

const BUCKET = 'otao-cli';
const APP = 'kettle';
const work = mkdtempSync(join(tmpdir(), 'otao-cli-test-'));
let nats: NatsServer;
let mongo: FerretDB | undefined;
let s3: S3Server;
let server: Server;
let cmx: FakeCmx;
let env: Record<string, string>;

beforeAll(async () => {
  requireBuilt();
  const mongoUri = process.env['MONGODB_URI'];
  [nats, mongo, s3] = await Promise.all([startNats(), mongoUri ? Promise.resolve(undefined) : startFerretDB(), startS3({ buckets: [BUCKET] })]);
  const appsFile = join(work, 'applications.json');
  writeFileSync(appsFile, JSON.stringify({ kaa: { applications: { [APP]: { tenantId: 'default', consentRequired: false, versions: { 'kettle-v1': {} } } } } }));
  server = await Server.start({
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongoUri ?? mongo!.uri,
    OTAO_MONGODB_DATABASE: `cli_${Date.now()}`,
    OTAO_SERVICE_INSTANCE_NAME: 'otao-cli',
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: 'cmx-cli',
    OTAO_EPR_INSTANCE_NAME: 'epr-cli',
    OTAO_SCMP_PROVIDER_INSTANCE_NAME: 'tekton-cli',
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_S3_ENABLED: 'true',
    OTAO_S3_BUCKET: BUCKET,
    OTAO_S3_ENDPOINT: s3.endpoint,
    OTAO_S3_REGION: s3.region,
    OTAO_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  });
  cmx = await new FakeCmx({ servers: nats.url, instanceName: 'cmx-cli', providerInstanceName: 'otao-cli' }).start();
  env = { OTAO_URL: server.url };
});

afterAll(async () => {
  await cmx?.stop().catch(() => undefined);
  await server?.stop();
  await Promise.all([nats?.stop(), mongo?.stop(), s3?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

const cli = (...args: string[]): Promise<CliRun> => otao(args, env);
const parsed = (r: CliRun): ReturnType<typeof JSON.parse> => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};
/** The one-line error of a failed command. */
function expectError(r: CliRun, exit: number, code: string): void {
  expect({ exit: r.code, stdout: r.stdout }).toEqual({ exit, stdout: '' });
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^otao: ${code.replace(/\./g, '\\.')}( \\(\\d+\\))?: \\S`));
}

test('--help on every command exits 0 and prints its usage', async () => {
  const commands = [
    [],
    ['software'],
    ...['list', 'get', 'create', 'update', 'delete'].map((c) => ['software', c]),
    ...['upload', 'get', 'delete'].map((c) => ['file', c]),
    ...['status', 'history', 'advance', 'hold', 'resume', 'watch'].map((c) => ['rollout', c]),
    ['preview'],
    ['endpoint', 'get'],
    ['endpoint', 'list'],
    ['consent', 'grant'],
    ['consent', 'revoke'],
    ['audit'],
  ];
  const runs = await Promise.all(commands.map((c) => cli(...c, '--help')));
  runs.forEach((r, i) => {
    expect({ cmd: commands[i], code: r.code }).toEqual({ cmd: commands[i], code: 0 });
    expect(r.stdout).toContain(`Usage: otao ${commands[i]!.join(' ')}`.trim());
  });
});

test('usage errors exit 1', async () => {
  for (const args of [
    ['software', 'get', APP],
    ['bogus'],
    ['preview', APP, '1.0.0', '--limit', '0'],
    ['software', 'create', APP, '1.0.0', '--strategy', 'sometimes'],
  ]) {
    const r = await cli(...args);
    expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
    expect(r.stderr).toMatch(/error: /);
  }
  const badUrl = await otao(['software', 'list', APP], { OTAO_URL: 'ftp://x' });
  expectError(badUrl, 1, 'cli.usage');
  const halfCreds = await otao(['software', 'list', APP], { ...env, OTAO_CLIENT_ID: 'x' });
  expectError(halfCreds, 1, 'cli.usage');
});

test('software create, list, get, update, delete: human and JSON output; 400, 404, 409 exit 2', async () => {
  const created = await cli('software', 'create', APP, '1.0.0', '--upgradable-from', '0.9.0', '--spec', '{"notes":"first"}', '--json');
  expect(parsed(created)).toMatchObject({ version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general', specification: { notes: 'first' } });

  const yamlFile = join(work, 'sw-1.1.0.yaml');
  writeFileSync(
    yamlFile,
    'version: 1.1.0\nupgradableFrom: ["1.0.0"]\nrolloutStrategy: targeted\nfilters:\n  - filterId: canary\nspecification:\n  notes: fixes\n',
  );
  const fromFile = await cli('software', 'create', APP, '--file', yamlFile);
  expect(fromFile.code).toBe(0);
  expect(fromFile.stdout).toContain('created kettle 1.1.0');
  expect(fromFile.stdout).toMatch(/rolloutStrategy\s*│\s*targeted/);
  expect(fromFile.stdout).toContain('canary');

  const list = await cli('software', 'list', APP);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/VERSION.*STRATEGY.*UPGRADABLE FROM/);
  expect(list.stdout.indexOf('1.0.0')).toBeLessThan(list.stdout.indexOf('1.1.0'));
  const listJson = parsed(await cli('software', 'list', APP, '--json'));
  expect(listJson.map((s: { version: string }) => s.version)).toEqual(['1.0.0', '1.1.0']);

  const get = await cli('software', 'get', APP, '1.1.0');
  expect(get.code).toBe(0);
  expect(get.stdout).toMatch(/version\s*│\s*1\.1\.0/);
  expect(parsed(await cli('software', 'get', APP, '1.1.0', '--json'))).toMatchObject({ version: '1.1.0', filters: [{ filterId: 'canary' }] });

  // Update from flags: read, change, write with If-Match; the other fields are kept.
  const upd = parsed(await cli('software', 'update', APP, '1.1.0', '--strategy', 'general', '--max-failure-rate', '0.2', '--min-reports', '5', '--json'));
  expect(upd).toMatchObject({
    version: '1.1.0',
    rolloutStrategy: 'general',
    failurePolicy: { maxFailureRate: 0.2, minReports: 5 },
    specification: { notes: 'fixes' },
    upgradableFrom: ['1.0.0'],
  });
  const jsonFile = join(work, 'sw-1.1.0.json');
  writeFileSync(jsonFile, JSON.stringify({ upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { notes: 'replaced' } }));
  const updFile = parsed(await cli('software', 'update', APP, '1.1.0', '--file', jsonFile, '--json'));
  expect(updFile).toMatchObject({ specification: { notes: 'replaced' }, filters: [] });
  expect(updFile.failurePolicy).toBeUndefined();

  expectError(await cli('software', 'create', APP, '1.0.0'), 2, 'software.version_conflict');
  const conflict = await cli('software', 'create', APP, '1.0.0');
  expect(conflict.stderr).toContain('(409)');
  const invalid = await cli('software', 'create', APP, '2.0.0', '--upgradable-from', 'v1.0.0');
  expect(invalid.code).toBe(2);
  expect(invalid.stderr).toMatch(/^otao: \S+ \(400\): .*upgradableFrom/);
  expectError(await cli('software', 'get', APP, '9.9.9'), 2, 'software.not_found');
  expectError(await cli('software', 'list', 'no-such-app'), 2, 'application.not_found');

  const del = parsed(await cli('software', 'create', APP, '0.1.0', '--json'));
  expect(del.version).toBe('0.1.0');
  expect(parsed(await cli('software', 'delete', APP, '0.1.0', '--json'))).toEqual({ appName: APP, version: '0.1.0', deleted: true });
  expect((await cli('software', 'delete', APP, '0.1.0')).code).toBe(2);
});

test('file upload, get, delete: human and JSON; the SHA-256 is checked', async () => {
  await cli('software', 'create', APP, '3.0.0', '--upgradable-from', '2.0.0');
  const path = join(work, 'small.bin');
  const bytes = Buffer.from('firmware '.repeat(1000));
  writeFileSync(path, bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const up = await cli('file', 'upload', APP, '3.0.0', path);
  expect(up.code).toBe(0);
  expect(up.stdout).toContain(`uploaded small.bin (${bytes.length} bytes)`);
  expect(up.stdout).toContain(`sha256 ${sha}`);
  const again = parsed(await cli('file', 'upload', APP, '3.0.0', path, '--name', 'kettle.bin', '--json'));
  expect(again).toMatchObject({ name: 'kettle.bin', size: bytes.length, sha256: sha, localSha256: sha, replaced: true });
  const got = parsed(await cli('file', 'get', APP, '3.0.0', '--json'));
  expect(got).toMatchObject({ name: 'kettle.bin', sha256: sha });
  expect(got.downloadUrl).toMatch(/^http/);
  expect((await cli('file', 'get', APP, '3.0.0')).stdout).toMatch(/downloadUrl\s*│\s*http/);
  expect(parsed(await cli('file', 'delete', APP, '3.0.0', '--json'))).toEqual({ appName: APP, version: '3.0.0', fileDeleted: true });
  expectError(await cli('file', 'get', APP, '3.0.0'), 2, 'file.not_found');
  expectError(await cli('file', 'upload', APP, '9.9.9', path), 2, 'software.not_found');
  expect((await cli('file', 'upload', APP, '3.0.0', join(work, 'missing.bin'))).code).toBe(1);
});

test('a 200 MiB upload streams: peak memory of the child stays well below the file size', async () => {
  await cli('software', 'create', APP, '4.0.0', '--upgradable-from', '3.0.0');
  const path = join(work, 'big.bin');
  const size = 200 * 1024 * 1024;
  const hash = createHash('sha256');
  await new Promise<void>((ok, fail) => {
    const out = createWriteStream(path);
    out.on('error', fail);
    const chunk = Buffer.alloc(1024 * 1024);
    let i = 0;
    const write = (): void => {
      while (i < size / chunk.length) {
        chunk.writeUInt32BE(i, 0);
        chunk.writeUInt32BE(i * 7919, 512 * 1024);
        hash.update(chunk);
        i++;
        if (!out.write(chunk)) return void out.once('drain', write);
      }
      out.end(ok);
    };
    write();
  });
  const sha = hash.digest('hex');
  const r = await otao(['file', 'upload', APP, '4.0.0', path, '--json'], { ...env, OTAO_CLI_REPORT_MAX_RSS: '1' }, 110_000);
  rmSync(path, { force: true });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ size, sha256: sha, localSha256: sha });
  const kib = Number(/otao-max-rss-kib=(\d+)/.exec(r.stderr)?.[1]);
  console.log(`otao file upload of 200 MiB: max RSS ${(kib / 1024).toFixed(1)} MiB`);
  expect(kib).toBeGreaterThan(0);
  // A Node process with these modules starts at ~60 MiB; a buffered upload would exceed 200 MiB.
  expect(kib * 1024).toBeLessThan(128 * 1024 * 1024);
});

test('rollout status, preview, endpoint list/get, consent grant/revoke over a simulated endpoint', async () => {
  await cli('software', 'create', APP, '5.0.0', '--upgradable-from', '4.9.0');
  const offer = await cmx.pull({ endpointId: 'ep-status', appVersionName: 'kettle-v1', configId: '4.9.0' });
  expect(offer.configId).toBe('5.0.0');
  await cmx.applied({ endpointId: 'ep-status', appVersionName: 'kettle-v1', configId: '5.0.0', statusCode: 200 });
  const status = await eventually(async () => {
    const s = parsed(await cli('rollout', 'status', APP, '5.0.0', '--json'));
    return s.applied === 1 ? s : undefined;
  });
  expect(status).toMatchObject({ version: '5.0.0', offered: 1, applied: 1, failed: 0, failureRate: 0, rolloutStrategy: 'general' });
  const human = await cli('rollout', 'status', APP, '5.0.0');
  expect(human.stdout).toMatch(/applied\s*│\s*1/);
  expect(human.stdout).toMatch(/failureRate\s*│\s*0\.0%/);

  const preview = parsed(await cli('preview', APP, '5.0.0', '--json'));
  expect(preview.counts['already-on-version']).toBe(1);
  expect(preview.content).toEqual([expect.objectContaining({ endpointId: 'ep-status', group: 'already-on-version' })]);
  expect((await cli('preview', APP, '5.0.0')).stdout).toMatch(/already-on-version\s*│\s*1/);

  const page = parsed(await cli('endpoint', 'list', APP, '--version', '5.0.0', '--json'));
  expect(page).toMatchObject({ totalElements: 1, content: [{ endpointId: 'ep-status', currentVersion: '5.0.0' }] });
  const listed = (await cli('endpoint', 'list', APP)).stdout;
  expect(listed).toContain('ep-status');
  expect(listed).toMatch(/\d+ of \d+ \(counted \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)/);
  const view = parsed(await cli('endpoint', 'get', APP, 'ep-status', '--json'));
  expect(view).toMatchObject({ endpointId: 'ep-status', currentVersion: '5.0.0', consents: [] });
  expect((await cli('endpoint', 'get', APP, 'ep-status')).stdout).toMatch(/currentVersion\s*│\s*5\.0\.0/);
  expectError(await cli('endpoint', 'get', APP, 'nobody'), 2, 'endpoint.not_found');

  expect(parsed(await cli('consent', 'grant', APP, 'ep-status', '*', '--json'))).toEqual({
    appName: APP,
    endpointId: 'ep-status',
    version: '*',
    consent: true,
  });
  expect(parsed(await cli('endpoint', 'get', APP, 'ep-status', '--json')).consents).toEqual(['*']);
  expect((await cli('consent', 'revoke', APP, 'ep-status', '*')).stdout).toContain('revoked consent of ep-status to *');
  expect(parsed(await cli('endpoint', 'get', APP, 'ep-status', '--json')).consents).toEqual([]);
  expectError(await cli('rollout', 'status', APP, '9.9.9'), 2, 'software.not_found');
});

test('rollout history, advance, hold, resume and audit against the real routes', async () => {
  // A phased version: 10 % then 100 %.
  const file = join(work, 'phased.json');
  writeFileSync(file, JSON.stringify({ version: '9.0.0', upgradableFrom: ['8.9.0'], rolloutStrategy: 'general', phases: [{ percent: 10 }, { percent: 100 }] }));
  expect((await cli('software', 'create', APP, '--file', file)).code).toBe(0);

  const history = parsed(await cli('rollout', 'history', APP, '9.0.0', '--json'));
  expect(history).toMatchObject({ version: '9.0.0', bucket: 'minute' });
  expect(Array.isArray(history.buckets)).toBe(true);

  const held = parsed(await cli('rollout', 'hold', APP, '9.0.0', '--reason', 'checking the canaries', '--json'));
  expect(held.phase).toMatchObject({ index: 0, percent: 10, hold: true, holdReason: 'checking the canaries', waitingFor: 'hold' });
  expect(parsed(await cli('rollout', 'resume', APP, '9.0.0', '--json')).phase).toMatchObject({ index: 0, hold: false });
  const advanced = await cli('rollout', 'advance', APP, '9.0.0');
  expect(advanced.code).toBe(0);
  expect(advanced.stdout).toContain('9.0.0');
  expect(parsed(await cli('rollout', 'status', APP, '9.0.0', '--json')).phase).toMatchObject({ index: 1, percent: 100, waitingFor: 'done' });

  // 409s: the last phase is open; an unphased version has no phases
  expectError(await cli('rollout', 'advance', APP, '9.0.0'), 2, 'rollout.last_phase');
  expect((await cli('software', 'create', APP, '9.1.0', '--upgradable-from', '8.9.0')).code).toBe(0);
  expectError(await cli('rollout', 'hold', APP, '9.1.0'), 2, 'rollout.not_phased');

  // the audit log has the operator's commands, newest first
  const audit = parsed(await cli('audit', APP, '--version', '9.0.0', '--json'));
  expect(audit.content.map((e: { action: string }) => e.action)).toEqual(['rollout.advanced', 'rollout.resumed', 'rollout.held', 'software.created']);
  const human = await cli('audit', APP, '--version', '9.0.0');
  expect(human.code).toBe(0);
  expect(human.stdout).toContain('rollout.held');
});

test('rollout watch exits 0 when done and 4 when the failure policy suspends the rollout', async () => {
  // Done: the only known endpoint applies the version.
  await cli('software', 'create', APP, '6.0.0', '--upgradable-from', '5.9.0');
  await cmx.pull({ endpointId: 'ep-done', appVersionName: 'kettle-v1', configId: '5.9.0' });
  const doneWatch = otao(['rollout', 'watch', APP, '6.0.0'], { ...env, OTAO_CLI_WATCH_INTERVAL_MS: '200' });
  await cmx.applied({ endpointId: 'ep-done', appVersionName: 'kettle-v1', configId: '6.0.0', statusCode: 200 });
  const done = await doneWatch;
  expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: '' });
  expect(done.stdout).toContain('rollout of kettle 6.0.0 done: applied 1, failed 0');

  // Suspended: 4 endpoints pull 7.0.0, 2 fail it; maxFailureRate 0.5 after 2 reports.
  await cli('software', 'create', APP, '7.0.0', '--upgradable-from', '6.9.0', '--max-failure-rate', '0.5', '--min-reports', '2');
  const eps = ['ep-a', 'ep-b', 'ep-c', 'ep-d'];
  for (const ep of eps) expect((await cmx.pull({ endpointId: ep, appVersionName: 'kettle-v1', configId: '6.9.0' })).configId).toBe('7.0.0');
  const watch = otao(['rollout', 'watch', APP, '7.0.0', '--json'], { ...env, OTAO_CLI_WATCH_INTERVAL_MS: '200' });
  await new Promise((r) => setTimeout(r, 1500));
  for (const ep of eps.slice(0, 2))
    await cmx.applied({ endpointId: ep, appVersionName: 'kettle-v1', configId: '7.0.0', statusCode: 500, reasonPhrase: 'flash failed' });
  const r = await watch;
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/^otao: rollout of kettle 7\.0\.0 suspended/);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines[0]).toMatchObject({ status: 'running', remaining: 0, unreported: 4, rollout: { offered: 4 } });
  expect(lines[lines.length - 1]).toMatchObject({ status: 'suspended', rollout: { rolloutStrategy: 'suspended', failed: 2 } });
});

test('rollout watch --timeout exits 5 when the rollout is neither done nor suspended in time', async () => {
  // One endpoint is offered 8.0.0 and never reports: the rollout keeps running.
  await cli('software', 'create', APP, '8.0.0', '--upgradable-from', '7.9.0');
  expect((await cmx.pull({ endpointId: 'ep-silent', appVersionName: 'kettle-v1', configId: '7.9.0' })).configId).toBe('8.0.0');
  const r = await otao(['rollout', 'watch', APP, '8.0.0', '--timeout', '1s', '--json'], { ...env, OTAO_CLI_WATCH_INTERVAL_MS: '200' });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 5, stderr: 'otao: watch.timeout: rollout of kettle 8.0.0 neither done nor suspended after 1s\n' });
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.length).toBeGreaterThanOrEqual(1);
  for (const l of lines) expect(l).toMatchObject({ status: 'running', unreported: 1, rollout: { offered: 1 } });
  const human = await otao(['rollout', 'watch', APP, '8.0.0', '--timeout', '500ms'], { ...env, OTAO_CLI_WATCH_INTERVAL_MS: '200' });
  expect(human.code).toBe(5);
  expect(human.stdout).toContain('kettle 8.0.0: offered 1 applied 0');
  expect(human.stderr).toBe('otao: watch.timeout: rollout of kettle 8.0.0 neither done nor suspended after 500ms\n');

  // Done before the deadline: 0 as without --timeout.
  await cmx.applied({ endpointId: 'ep-silent', appVersionName: 'kettle-v1', configId: '8.0.0', statusCode: 200 });
  const done = await eventually(async () => {
    const d = await otao(['rollout', 'watch', APP, '8.0.0', '--timeout', '10m'], { ...env, OTAO_CLI_WATCH_INTERVAL_MS: '200' });
    return d.code === 0 ? d : undefined;
  });
  expect(done.stdout).toContain('rollout of kettle 8.0.0 done: applied 1');

  for (const bad of ['0', 'soon', '-5s', '1d']) {
    const u = await cli('rollout', 'watch', APP, '8.0.0', '--timeout', bad);
    expect({ bad, code: u.code, stdout: u.stdout }).toEqual({ bad, code: 1, stdout: '' });
    expect(u.stderr).toContain('must be a duration');
  }
  expect((await cli('rollout', 'watch', '--help')).stdout).toContain('5 --timeout passed');
});

test('503 and 5xx exit 3, an unreachable server exits 3, with the code and message on one line', async () => {
  const stub: HttpServer = createServer((req, res) => {
    const status = req.url?.includes('/software/') ? 500 : 503;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: status === 503 ? 'store.unavailable' : 'internal', message: status === 503 ? 'the store is not reachable' : 'boom' }));
  });
  await new Promise<void>((ok) => stub.listen(0, '127.0.0.1', ok));
  const port = (stub.address() as { port: number }).port;
  try {
    const r = await otao(['software', 'list', APP], { OTAO_URL: `http://127.0.0.1:${port}` });
    expectError(r, 3, 'store.unavailable');
    expect(r.stderr).toBe('otao: store.unavailable (503): the store is not reachable\n');
    expectError(await otao(['software', 'get', APP, '1.0.0'], { OTAO_URL: `http://127.0.0.1:${port}` }), 3, 'internal');
  } finally {
    await new Promise((ok) => stub.close(ok));
  }
  // A server that never answers: the deadline of watch --timeout aborts the poll under way (exit 5, not 3 after the request timeout).
  const silent: HttpServer = createServer(() => undefined);
  await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
  try {
    const hung = await otao(['rollout', 'watch', APP, '1.0.0', '--timeout', '1s'], {
      OTAO_URL: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
    });
    expectError(hung, 5, 'watch.timeout');
  } finally {
    silent.closeAllConnections();
    await new Promise((ok) => silent.close(ok));
  }

  const closed = await freePort();
  const r = await otao(['software', 'list', APP, '--verbose'], { OTAO_URL: `http://127.0.0.1:${closed}`, OTAO_TOKEN: 'secret-token-value' });
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(new RegExp(`otao: api\\.unreachable: cannot reach http://127\\.0\\.0\\.1:${closed}: ECONNREFUSED`));
  expect(r.stderr).not.toContain('secret-token-value');
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
