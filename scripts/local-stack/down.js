#!/usr/bin/env node
// Stops the local stack started by scripts/start.sh (its data stays in .otao/local).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const DIR = process.env.OTAO_LOCAL_DIR || path.join(path.resolve(__dirname, '../..'), '.otao', 'local');
let state;
try {
  state = JSON.parse(fs.readFileSync(path.join(DIR, 'state.json'), 'utf8'));
} catch {
  console.log('no local stack to stop');
  process.exit(0);
}
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const pids = Object.entries(state.pids).filter(([, pid]) => alive(pid));
(async () => {
  for (const [name, pid] of pids.reverse()) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    console.log(`stopped ${name} (${pid})`);
  }
})();
