// `node packages/test-services/dist/cli.js <nats|ferretdb|s3|keycloak>`: starts one service, prints
// `KEY=value` lines for the environment (NATS_URL, MONGODB_URI, or KEYCLOAK_URL with the test
// realms' issuers and the otao client), then `READY`, and keeps running until SIGTERM/SIGINT, which
// stops the service (for the store: FerretDB, then PostgreSQL). Used by scripts/test.sh and the
// local stack.
//
// `cli.js ferretdb [port] [dataDir]`: FerretDB v2 on its own PostgreSQL cluster. The environment
// variable OTAO_STORE_DURABILITY=durable (read here only) keeps PostgreSQL's fsync and synchronous
// commit (the local stack); the default `fast` is for tests. Prints MONGODB_URI, PGPORT, PGDATA and
// the pids of both processes (FERRETDB_PID, POSTGRES_PID), so a supervisor can stop them even if
// this process dies.
import { join } from 'node:path';
import { startFerretDB } from './ferretdb';
import { startKeycloak } from './keycloak';
import { startNats } from './nats';
import { startS3 } from './s3';

async function main(): Promise<void> {
  const what = process.argv[2];
  const port = process.argv[3] ? Number(process.argv[3]) : undefined;
  let stop: () => Promise<void>;
  if (what === 'nats') {
    const s = await startNats(port ? { port } : {});
    console.log(`NATS_URL=${s.url}`);
    stop = s.stop;
  } else if (what === 'ferretdb') {
    const durability = process.env['OTAO_STORE_DURABILITY'] ?? 'fast';
    if (durability !== 'fast' && durability !== 'durable') {
      console.error(`OTAO_STORE_DURABILITY must be fast or durable, got "${durability}"`);
      process.exit(2);
    }
    const s = await startFerretDB({ ...(port ? { port } : {}), ...(process.argv[4] ? { dataDir: process.argv[4] } : {}), durability });
    console.log(`MONGODB_URI=${s.uri}`);
    console.log(`PGPORT=${s.pgPort}`);
    console.log(`PGDATA=${join(s.dataDir, 'pg')}`);
    console.log(`FERRETDB_PID=${s.process.pid ?? ''}`);
    console.log(`POSTGRES_PID=${s.postgres.pid ?? ''}`);
    console.log(`STORE_DURABILITY=${durability}`);
    stop = s.stop;
  } else if (what === 's3') {
    // node cli.js s3 [port] [dataDir] [bucket]: versitygw with the bucket created
    const bucket = process.argv[5] ?? 'otao';
    const s = await startS3({ ...(port ? { port } : {}), ...(process.argv[4] ? { dataDir: process.argv[4] } : {}), buckets: [bucket] });
    console.log(`S3_ENDPOINT=${s.endpoint}`);
    console.log(`AWS_ACCESS_KEY_ID=${s.accessKeyId}`);
    console.log(`AWS_SECRET_ACCESS_KEY=${s.secretAccessKey}`);
    console.log(`AWS_REGION=${s.region}`);
    console.log(`S3_BUCKET=${bucket}`);
    stop = s.stop;
  } else if (what === 'keycloak') {
    const s = await startKeycloak(port ? { port } : {});
    console.log(`KEYCLOAK_URL=${s.url}`);
    console.log(`OTAO_TENANTS=${JSON.stringify(s.realms.map((id) => ({ id, issuer: s.issuer(id) })))}`);
    console.log(`OTAO_OAUTH_CLIENT_ID=${s.clientId}`);
    console.log(`OTAO_OAUTH_CLIENT_SECRET=${s.clientSecret}`);
    console.log('OTAO_OAUTH_AUDIENCE=otao');
    // The `otao` CLI as tenant-a's CI client (client credentials; RPT exchange for OTAO_AUTHZ_MODE=rpt).
    const realm = s.realms[0] ?? 'tenant-a';
    const ci = s.serviceClients[0];
    if (ci) {
      console.log(`OTAO_ISSUER=${s.issuer(realm)}`);
      console.log(`OTAO_CLIENT_ID=${ci.clientId}`);
      console.log(`OTAO_CLIENT_SECRET=${s.serviceClientSecret(realm, ci.clientId)}`);
      console.log(`OTAO_RPT_AUDIENCE=${s.clientId}`);
    }
    stop = s.stop;
  } else {
    console.error('usage: cli.js <nats|ferretdb|s3|keycloak> [port] [dataDir] [bucket]   (ferretdb: OTAO_STORE_DURABILITY=fast|durable)');
    process.exit(2);
  }
  console.log('READY');
  let quitting = false;
  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    void stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
