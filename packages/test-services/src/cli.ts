// `node packages/test-services/dist/cli.js <nats|ferretdb>`: starts one service, prints
// `KEY=value` lines for the environment (NATS_URL or MONGODB_URI) and `PID=…`, and keeps running
// until SIGTERM/SIGINT. Used by scripts/test.sh and the local stack.
import { startFerretDB } from './ferretdb';
import { startNats } from './nats';

async function main(): Promise<void> {
  const what = process.argv[2];
  const port = process.argv[3] ? Number(process.argv[3]) : undefined;
  let stop: () => Promise<void>;
  if (what === 'nats') {
    const s = await startNats(port ? { port } : {});
    console.log(`NATS_URL=${s.url}`);
    stop = s.stop;
  } else if (what === 'ferretdb') {
    const s = await startFerretDB({ ...(port ? { port } : {}), ...(process.argv[4] ? { dataDir: process.argv[4] } : {}) });
    console.log(`MONGODB_URI=${s.uri}`);
    stop = s.stop;
  } else {
    console.error('usage: cli.js <nats|ferretdb> [port] [dataDir]');
    process.exit(2);
  }
  console.log('READY');
  const quit = (): void => {
    void stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
