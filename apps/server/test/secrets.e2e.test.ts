// Credentials inside configured URLs (user info, query tokens) never reach the log (issue 11 item
// 10, spec §8 "secrets never appear in logs, error messages or metrics"): the BUILT server runs
// with such URLs for OTAO_TENANT_MANAGER_URL, OTAO_TEKTON_URL, OTAO_S3_ENDPOINT (and the issuer,
// the store and NATS), all of them unreachable or failing so that errors about them are logged too,
// and everything it wrote is searched for the secrets.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FerretDB, freePort, type NatsServer, startFerretDB, startNats } from '@otao/test-services';
import { requireBuiltServer, runServerToExit } from './support/otao-process';

jest.setTimeout(60_000);

let nats: NatsServer;
let mongo: FerretDB;

beforeAll(async () => {
  requireBuiltServer();
  [nats, mongo] = await Promise.all([startNats(), startFerretDB()]);
});

afterAll(async () => {
  await Promise.all([nats?.stop(), mongo?.stop()]);
});

const SECRETS = [
  'TM-PASSWORD',
  'TM-QUERY-TOKEN',
  'TK-PASSWORD',
  'TK-QUERY-TOKEN',
  'S3-PASSWORD',
  'S3-QUERY-TOKEN',
  'ISSUER-PASSWORD',
  'ISSUER-QUERY-SECRET',
  'CLIENT-SECRET-VALUE',
];

/** A syntactically valid JWT of an unknown signature: enough to make OTAO ask the Tenant Manager. */
function fakeJwt(issuer: string): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'k' })}.${part({ iss: issuer, sub: 'x', exp: Math.floor(Date.now() / 1000) + 600 })}.${randomBytes(32).toString('base64url')}`;
}

async function env(s3: boolean): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'otao-secrets-'));
  const appsFile = join(dir, 'apps.yaml');
  writeFileSync(appsFile, 'kaa:\n  applications:\n    kettle:\n      versions:\n        kettle-v1: {}\n');
  // Ports nobody listens on: every call there fails, and the failure is logged.
  const [tm, tekton, s3Port, kc, http] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  return {
    OTAO_HTTP_PORT: String(http),
    OTAO_NATS_URLS: nats.url,
    OTAO_MONGODB_URI: mongo.uri,
    OTAO_MONGODB_DATABASE: `secrets${randomBytes(3).toString('hex')}`,
    OTAO_SERVICE_INSTANCE_NAME: `otao-${randomBytes(3).toString('hex')}`,
    OTAO_LOG_LEVEL: 'trace',
    OTAO_TENANT_MANAGER_URL: `http://tmuser:TM-PASSWORD@127.0.0.1:${tm}/?token=TM-QUERY-TOKEN`,
    OTAO_TEKTON_ENABLED: 'true',
    OTAO_TEKTON_URL: `http://tkuser:TK-PASSWORD@127.0.0.1:${tekton}/?access_token=TK-QUERY-TOKEN`,
    OTAO_OAUTH_ISSUER: `http://kcuser:ISSUER-PASSWORD@127.0.0.1:${kc}/realms/kaa?client_secret=ISSUER-QUERY-SECRET`,
    OTAO_OAUTH_CLIENT_ID: 'otao',
    OTAO_OAUTH_CLIENT_SECRET: 'CLIENT-SECRET-VALUE',
    ...(s3
      ? {
          OTAO_S3_ENABLED: 'true',
          OTAO_S3_BUCKET: 'otao-secrets',
          OTAO_S3_FORCE_PATH_STYLE: 'true',
          OTAO_S3_ENDPOINT: `http://s3user:S3-PASSWORD@127.0.0.1:${s3Port}/?X-Amz-Security-Token=S3-QUERY-TOKEN`,
        }
      : { OTAO_APPLICATIONS_FILE: appsFile }),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test-aws-secret',
    AWS_REGION: 'us-east-1',
  };
}

/** Runs the server for `ms`, calling `poke` with its base URL once HTTP answers; returns everything it wrote. */
async function run(variables: Record<string, string>, ms: number, poke?: (base: string) => Promise<void>): Promise<string> {
  const running = runServerToExit(variables, ms);
  const base = `http://127.0.0.1:${variables['OTAO_HTTP_PORT']}`;
  if (poke) {
    for (let i = 0; i < 50; i++) {
      try {
        await fetch(`${base}/health`, { signal: AbortSignal.timeout(500) });
        await poke(base);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const r = await running;
  return r.stdout + r.stderr;
}

test('S3, the Tenant Manager, Tekton and the issuer with credentials in their URLs: no log line carries them', async () => {
  // S3 on: the endpoint is logged with the configuration, and its failure at start.
  const withS3 = await run(await env(true), 6000);
  // S3 off: the start goes on to Tekton (through the client-credentials token of the issuer), and a
  // request with a token makes OTAO ask the Tenant Manager; each failure is logged.
  const withoutS3 = await run(await env(false), 8000, async (base) => {
    const res = await fetch(`${base}/api/v1/applications/kettle/software`, { headers: { authorization: `Bearer ${fakeJwt('http://issuer.local/realms/t')}` } });
    await res.text();
  });
  for (const [name, log] of [
    ['S3 on', withS3],
    ['S3 off', withoutS3],
  ] as const) {
    expect(log).toContain('starting OTAO'); // the configuration line was written
    for (const secret of SECRETS) {
      const at = log.indexOf(secret);
      if (at >= 0) throw new Error(`${name}: the log carries ${secret}: …${log.slice(Math.max(0, at - 200), at + 50)}…`);
    }
  }
  // The lines are there, redacted.
  expect(withS3).toContain('"endpoint":"http://***@127.0.0.1:');
  expect(withS3).toContain('X-Amz-Security-Token=***');
  expect(withoutS3).toContain('"tenantManagerUrl":"http://***@127.0.0.1:');
  expect(withoutS3).toMatch(/"tekton":\{[^}]*"url":"http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\?access_token=\*\*\*"/);
});
