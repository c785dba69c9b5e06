// The local stack's processes, shared by up.js (which stops a previous stack first) and down.js.
// state.json (in .otao/local) names every process the stack started: the test-services CLI of each
// service, OTAO, and — for the store — the FerretDB and PostgreSQL processes the store's CLI runs,
// so that they are stopped even when that CLI died. PostgreSQL runs as the `postgres` user when the
// stack runs as root; root may signal it. PostgreSQL is stopped with SIGINT (fast shutdown).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const DIR = process.env.OTAO_LOCAL_DIR || path.join(ROOT, '.otao', 'local');
const STATE = path.join(DIR, 'state.json');
/** FerretDB v2's data: the PostgreSQL cluster in `pg/`, FerretDB's state, their logs. */
const STORE_DIR = path.join(DIR, 'store');

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE, 'utf8'));
  } catch {
    return undefined;
  }
}

const alive = (pid) => {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/** True when `pid` runs and its command line contains `needle` (a pid reused by another program is left alone). */
function runs(pid, needle) {
  if (!alive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return true; // no /proc: trust the pid
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Sends `signals` in turn (each followed by up to `graceMs`) until the process is gone. */
async function stopPid(pid, signals, graceMs) {
  for (const sig of signals) {
    if (!alive(pid)) return true;
    try {
      process.kill(pid, sig);
    } catch {
      return !alive(pid);
    }
    for (let waited = 0; waited < graceMs && alive(pid); waited += 100) await sleep(100);
  }
  return !alive(pid);
}

/** The postmaster of the store's cluster, from PostgreSQL's own lock file (a crashed stack leaves it running). */
function postmasterPid(pgData) {
  try {
    const pid = Number(fs.readFileSync(path.join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return runs(pid, 'postgres') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stops every process of the stack described by state.json, in reverse start order (OTAO, S3, the
 * store, NATS); then whatever of the store is still running (FerretDB: SIGTERM; PostgreSQL: SIGINT,
 * then SIGQUIT), also when state.json is gone but PostgreSQL's lock file names a running postmaster.
 * Returns the names of what it stopped and of what is still running.
 */
async function stopStack(say) {
  const s = readState();
  const stopped = [];
  const failed = [];
  if (s) {
    const what = { otao: 'main.js', s3: 'cli.js', ferretdb: 'cli.js', nats: 'cli.js' };
    const order = Object.keys(s.pids || {}).reverse();
    for (const name of order) {
      const pid = s.pids[name];
      if (!runs(pid, what[name] ?? '')) continue;
      // The store's CLI stops FerretDB, then PostgreSQL, before it exits: give it time.
      const ok = await stopPid(pid, ['SIGTERM', 'SIGKILL'], name === 'ferretdb' ? 30_000 : 10_000);
      say(`stopped ${name} (pid ${pid})${ok ? '' : ' — still running!'}`);
      (ok ? stopped : failed).push(name);
    }
  }
  const store = s?.store;
  if (store && runs(store.ferretdbPid, 'ferretdb')) {
    await stopPid(store.ferretdbPid, ['SIGTERM', 'SIGKILL'], 5000);
    say(`stopped FerretDB (pid ${store.ferretdbPid})`);
    stopped.push('FerretDB');
  }
  const pgData = store?.pgData ?? path.join(STORE_DIR, 'pg');
  const candidates = new Set([store?.postgresPid, postmasterPid(pgData)].filter((p) => runs(p, 'postgres')));
  for (const pid of candidates) {
    // SIGINT: fast shutdown (clients disconnected, a checkpoint written); SIGQUIT: immediate, as a last resort.
    const ok = await stopPid(pid, ['SIGINT', 'SIGQUIT'], 15_000);
    say(`stopped PostgreSQL (pid ${pid})${ok ? '' : ' — still running!'}`);
    (ok ? stopped : failed).push('PostgreSQL');
  }
  return { stopped, failed };
}

module.exports = { ROOT, DIR, STATE, STORE_DIR, readState, alive, runs, stopStack };
