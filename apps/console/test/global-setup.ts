// Starts what the console's browser tests run against: a real nats-server, FerretDB and S3 server
// (versitygw) — or the NATS_URL / MONGODB_URI that scripts/test.sh already started — and the BUILT
// server (apps/server/dist/main.js) as a child process with authentication off, S3 on and the
// console enabled, exactly as an operator runs it. Nothing is built here.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, startFerretDB, startNats, startS3 } from '@otao/test-services';

const SERVER_MAIN = resolve(__dirname, '../../server/dist/main.js');
const CONSOLE_INDEX = resolve(__dirname, '../dist/index.html');
const BUCKET = 'otao-console';

export default async function globalSetup(): Promise<() => Promise<void>> {
  for (const [file, what] of [
    [SERVER_MAIN, 'the server'],
    [CONSOLE_INDEX, 'the console'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${file} is missing: the console tests run ${what} as built. Build first: npx turbo run build --filter=@otao/server...`);
  }
  const stops: (() => Promise<void>)[] = [];
  const natsUrl = process.env['NATS_URL'] ?? (await startNats().then((n) => (stops.push(() => n.stop()), n.url)));
  const mongoUri = process.env['MONGODB_URI'] ?? (await startFerretDB().then((m) => (stops.push(() => m.stop()), m.uri)));
  const s3 = await startS3({ buckets: [BUCKET] });
  stops.push(() => s3.stop());

  const tag = `console${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'otao-console-'));
  const appsFile = join(dir, 'applications.json');
  const app = (consentRequired: boolean, versions: string[]) => ({ tenantId: 'default', consentRequired, versions: Object.fromEntries(versions.map((v) => [v, {}])) });
  writeFileSync(appsFile, JSON.stringify({ kaa: { applications: { kettle: app(true, ['kettle-v1']), lamp: app(false, ['lamp-v1', 'lamp-v2']), editor: app(false, ['editor-v1']) } } }));
  const port = await freePort();
  const names = { instance: `otao-${tag}`, cmx: `cmx-${tag}`, epr: `epr-${tag}` };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OTAO_') && !k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    OTAO_HTTP_PORT: String(port),
    OTAO_REPLICA_ID: `${tag}-1`,
    OTAO_LOG_LEVEL: 'info',
    OTAO_NATS_URLS: natsUrl,
    OTAO_MONGODB_URI: mongoUri,
    OTAO_MONGODB_DATABASE: tag,
    OTAO_SERVICE_INSTANCE_NAME: names.instance,
    OTAO_SOFTWARE_CONSUMER_INSTANCE_NAME: names.cmx,
    OTAO_EPR_INSTANCE_NAME: names.epr,
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
  const logFile = join(dir, 'otao.log');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', fd, fd] });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}); log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    const ready = await fetch(`${baseUrl}/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > until) throw new Error(`the server was not ready within 60 s; log ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // For the tests (workers inherit the environment of the main process).
  process.env['CONSOLE_TEST_BASE_URL'] = baseUrl;
  process.env['CONSOLE_TEST_NATS_URL'] = natsUrl;
  process.env['CONSOLE_TEST_CMX'] = names.cmx;
  process.env['CONSOLE_TEST_PROVIDER'] = names.instance;
  process.env['CONSOLE_TEST_SERVER_LOG'] = logFile;

  return async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
}
