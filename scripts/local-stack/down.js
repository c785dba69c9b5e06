#!/usr/bin/env node
// Stops the local stack started by scripts/start.sh: OTAO, the S3 server, the store (FerretDB, then
// PostgreSQL with a fast shutdown) and nats-server. Its data stays in .otao/local.
'use strict';
const fs = require('node:fs');
const { STATE, readState, stopStack } = require('./stack');

(async () => {
  const hadState = readState() !== undefined;
  const { stopped, failed } = await stopStack((s) => console.log(s));
  if (failed.length > 0) {
    console.error(`still running: ${failed.join(', ')} (see .otao/local/state.json)`);
    process.exit(1);
  }
  if (stopped.length === 0) console.log(hadState ? 'the local stack was not running' : 'no local stack to stop');
  fs.rmSync(STATE, { force: true });
})().catch((e) => {
  console.error(`stopping the local stack failed: ${e.message}`);
  process.exit(1);
});
