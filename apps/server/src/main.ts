#!/usr/bin/env node
// `npm start`: runs OTAO in the foreground from environment variables only (spec §9).
import { ConfigError, loadConfig, type OtaoConfig } from './config';
import type { OtaoServer } from './lifecycle';

async function main(): Promise<void> {
  let config: OtaoConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // The server and its adapters (MongoDB, NATS, AWS SDK, Express…) are loaded only once the
  // configuration is valid: loading them takes about half a second, and a bad configuration must
  // be reported within one (docs/operations.md).
  const { OtaoServer: Server } = await import('./lifecycle.js');
  const server: OtaoServer = new Server(config);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'signal received');
    server.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        server.log.error({ err: (e as Error).message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await server.start();
  } catch (e) {
    server.log.fatal({ err: (e as Error).message }, 'OTAO could not start');
    await server.stop(1000).catch(() => undefined);
    process.exit(1);
  }
}

void main();
