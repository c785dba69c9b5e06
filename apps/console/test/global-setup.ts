// Starts what the console's browser tests run against: a real nats-server, FerretDB and S3 server
// (versitygw) — or the NATS_URL / MONGODB_URI that scripts/test.sh already started — and the BUILT
// server with authentication off, S3 on and the console enabled, exactly as an operator runs it.
// Nothing is built here. (The sign-in test starts its own Keycloak and server.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startFerretDB, startNats, startS3 } from '@otao/test-services';
import { requireBuilt, startServer } from './support/server';

const BUCKET = 'otao-console';

export default async function globalSetup(): Promise<() => Promise<void>> {
  requireBuilt();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let natsUrl = process.env['NATS_URL'];
    if (!natsUrl) {
      const nats = await startNats();
      stops.push(() => nats.stop());
      natsUrl = nats.url;
    }
    let mongoUri = process.env['MONGODB_URI'];
    if (!mongoUri) {
      const mongo = await startFerretDB();
      stops.push(() => mongo.stop());
      mongoUri = mongo.uri;
    }
    const s3 = await startS3({ buckets: [BUCKET] });
    stops.push(() => s3.stop());

    const tag = `console${Date.now().toString(36)}`;
    const appsFile = join(mkdtempSync(join(tmpdir(), 'otao-console-')), 'applications.json');
    const app = (consentRequired: boolean, versions: string[]) => ({
      tenantId: 'default',
      consentRequired,
      versions: Object.fromEntries(versions.map((v) => [v, {}])),
    });
    writeFileSync(
      appsFile,
      JSON.stringify({
        kaa: {
          applications: {
            kettle: app(true, ['kettle-v1']),
            lamp: app(false, ['lamp-v1', 'lamp-v2']),
            editor: app(false, ['editor-v1']),
            fleet: app(false, ['fleet-v1']),
            heater: app(false, ['heater-v1']),
            planner: app(false, ['planner-v1']),
            chain: app(false, ['chain-v1']),
          },
        },
      }),
    );
    const names = { instance: `otao-${tag}`, cmx: `cmx-${tag}`, epr: `epr-${tag}` };
    const server = await startServer(await freePort(), {
      OTAO_REPLICA_ID: `${tag}-1`,
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
    stops.push(() => server.stop());
    // For the tests (workers inherit the environment of the main process).
    Object.assign(process.env, {
      CONSOLE_TEST_BASE_URL: server.baseUrl,
      CONSOLE_TEST_NATS_URL: natsUrl,
      CONSOLE_TEST_MONGODB_URI: mongoUri,
      CONSOLE_TEST_CMX: names.cmx,
      CONSOLE_TEST_PROVIDER: names.instance,
      CONSOLE_TEST_SERVER_LOG: server.logFile,
    });
  } catch (e) {
    await stopAll();
    throw e;
  }
  return stopAll;
}
