#!/usr/bin/env node
// bench/console-lists: do the console's lists open as fast with 1 000 000 endpoints as with 100
// (issue 13)? The assembled server (apps/server/dist/main.js, a separate process) on the store
// (FerretDB v2 on PostgreSQL + DocumentDB, durable, started here) with two applications: `small`
// with 100 stored endpoints and `fleet` with N (default 1 000 000), the same mix in both (most on
// 1.0.0, some on 0.9.0, some without a version, a third in filter `beta`, a few with a consent).
// Each application has software 0.9.0, 1.0.0 and 1.1.0 (general, upgradable from 1.0.0). For each
// route the console opens — the endpoint list's first page, its page filtered by version, its last
// page, and the preview's first page — the bench times --reps requests (after one warm-up) against
// both applications and prints the medians and the ratio fleet/small (1.0 = as fast). The baseline
// is the same route on the small application, in the same run. The first opens (before the fleet's
// counts are stored: exact counts at request time) are timed apart. Needs a build first.
// Options: --endpoints N (1000000) --reps R (5) --json
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { cohortOf } = require('@otao/core');
const { endpointState } = require('@otao/core/testing');
const { createMongoStore } = require('@otao/mongo-store');
const { NodeCryptoSha256 } = require('@otao/node-platform');
const { startFerretDB, startNats, freePort } = require('@otao/test-services');

const args = process.argv.slice(2);
const arg = (n, d) => { const i = args.indexOf(`--${n}`); return i >= 0 ? Number(args[i + 1]) : d; };
const N = arg('endpoints', 1_000_000);
const REPS = arg('reps', 5);
const JSON_OUT = args.includes('--json');
const log = (s) => { if (!JSON_OUT) console.log(s); else process.stderr.write(`${s}\n`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** FerretDB v2 rejects write batches above 25 000 documents. */
const IMPORT_CHUNK = 25_000;
const APPS = { small: 100, fleet: N };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

function stateOf(app, i) {
  const id = `ep-${String(i).padStart(7, '0')}`;
  const k = i % 20;
  const opts = { appVersionName: `${app}-v1`, updatedAt: 1 };
  if (k === 0) return endpointState('default', app, id, opts); // version unknown
  if (k < 3) return endpointState('default', app, id, { ...opts, currentVersion: '0.9.0' });
  return endpointState('default', app, id, {
    ...opts,
    currentVersion: '1.0.0',
    ...(k % 3 === 0 ? { filters: ['beta'] } : {}),
    ...(k === 7 ? { consents: ['1.1.0'] } : {}),
  });
}

async function main() {
  const nats = await startNats();
  const fdb = await startFerretDB({ durability: 'durable', sharedBuffers: '1GB' });
  const database = `otao_lists_bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otao-lists-bench-'));
  const appsFile = path.join(dir, 'apps.yaml');
  fs.writeFileSync(appsFile, `kaa:\n  applications:\n${Object.keys(APPS).map((a) => `    ${a}:\n      tenantId: default\n      versions:\n        ${a}-v1: {}\n`).join('')}`);
  const port = await freePort();
  const env = { ...process.env, OTAO_HTTP_PORT: String(port), OTAO_NATS_URLS: nats.url, OTAO_MONGODB_URI: fdb.uri, OTAO_MONGODB_DATABASE: database, OTAO_SECURITY_IGNORED: '/**', OTAO_APPLICATIONS_FILE: appsFile, OTAO_LOG_LEVEL: 'warn', OTAO_REPLICA_ID: 'bench-1' };
  const server = spawn(process.execPath, [path.join(__dirname, '../../apps/server/dist/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  let store;
  const base = `http://127.0.0.1:${port}/api/v1/applications`;
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false)) break;
      if (i > 600) throw new Error('server not ready');
      await sleep(100);
    }
    store = createMongoStore({ uri: fdb.uri, database, socketTimeoutMS: 600_000 });
    await store.start();
    const i0 = performance.now();
    for (const [app, n] of Object.entries(APPS)) {
      for (let i = 0; i < n; i += IMPORT_CHUNK) {
        const states = [];
        for (let k = i; k < Math.min(n, i + IMPORT_CHUNK); k++) states.push(stateOf(app, k));
        await store.endpoints.importStates(states);
      }
    }
    log(`console-lists: ${N.toLocaleString('en')} + 100 endpoints stored in ${((performance.now() - i0) / 1000).toFixed(1)} s`);
    // Stored as by a version of before (no cohorts): what the server does at start after an upgrade,
    // the cohort of every endpoint stored (MongoStore.backfillCohorts), timed here with the server's rule.
    const sha256 = new NodeCryptoSha256();
    const withRule = createMongoStore({ uri: fdb.uri, database, socketTimeoutMS: 600_000, scanTimeoutMS: 600_000, cohortOf: (t, a, e) => cohortOf(sha256, t, a, e) });
    await withRule.start();
    const b0 = performance.now();
    const backfilled = await withRule.backfillCohorts();
    const backfill = { endpoints: backfilled, ms: performance.now() - b0 };
    await withRule.stop();
    log(`console-lists: cohorts of ${backfilled.toLocaleString('en')} endpoints stored (backfill) in ${(backfill.ms / 1000).toFixed(1)} s`);
    for (const app of Object.keys(APPS)) {
      for (const [version, from, strategy] of [['0.9.0', [], 'general'], ['1.0.0', ['0.9.0'], 'general'], ['1.1.0', ['1.0.0'], 'general']]) {
        const body = { version, upgradableFrom: from, rolloutStrategy: strategy, specification: { v: version } };
        const r = await fetch(`${base}/${app}/software`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (r.status !== 201) throw new Error(`create ${app} ${version}: ${r.status} ${await r.text()}`);
      }
    }
    // The first opens: no stored counts yet. The list counts exactly (and stores the counts of a large
    // application in the background); the preview groups the fleet and stores that count.
    const cold = {};
    for (const [name, url] of [
      ['endpoints, first page (first open)', (app) => `${base}/${app}/endpoints?limit=50`],
      ['preview 1.1.0 (first open)', (app) => `${base}/${app}/software/1.1.0/preview?limit=50`],
    ]) {
      for (const app of Object.keys(APPS)) {
        const t = performance.now();
        const r = await fetch(url(app));
        await r.arrayBuffer();
        (cold[name] ??= {})[app] = { status: r.status, ms: performance.now() - t };
      }
      log(`  ${name.padEnd(40)} small ${cold[name].small.ms.toFixed(1).padStart(8)} ms   fleet ${cold[name].fleet.ms.toFixed(1).padStart(9)} ms (status ${cold[name].fleet.status})`);
    }
    // wait for the background count of the first list open to be stored
    for (let i = 0; i < 600; i++) {
      const b = await (await fetch(`${base}/fleet/endpoints?limit=1`)).json();
      if (Date.now() - Date.parse(b.countedAt) > 1500) break;
      await sleep(500);
    }
    const routes = {
      'endpoints, first page (limit 50)': (app) => `${base}/${app}/endpoints?limit=50`,
      'endpoints on 1.0.0, first page': (app) => `${base}/${app}/endpoints?limit=50&version=1.0.0`,
      'endpoints, last page': (app) => `${base}/${app}/endpoints?limit=50&offset=${APPS[app] - 50}`,
      'endpoints on 1.0.0, last page': (app) => `${base}/${app}/endpoints?limit=50&version=1.0.0&offset=${Math.round(APPS[app] * 0.85) - 50}`,
      'endpoints, middle page': (app) => `${base}/${app}/endpoints?limit=50&offset=${Math.floor(APPS[app] / 2)}`,
      'preview 1.1.0, first page (limit 50)': (app) => `${base}/${app}/software/1.1.0/preview?limit=50`,
    };
    const results = [];
    for (const [name, url] of Object.entries(routes)) {
      const row = { route: name };
      for (const app of Object.keys(APPS)) {
        const times = [];
        let body;
        let error;
        for (let k = 0; k <= REPS && !error; k++) {
          const t = performance.now();
          const r = await fetch(url(app));
          body = await r.json();
          if (r.status !== 200) error = `${r.status} ${body.code ?? ''} after ${(performance.now() - t).toFixed(0)} ms`;
          else if (k > 0) times.push(performance.now() - t);
        }
        row[app] = error
          ? { error, medianMs: NaN }
          : { medianMs: median(times), maxMs: Math.max(...times), total: body.totalElements ?? body.total, items: (body.content ?? body.items).length, countsAgeS: (Date.now() - Date.parse(body.countedAt)) / 1000 };
      }
      row.ratio = row.fleet.medianMs / row.small.medianMs;
      results.push(row);
      log(`  ${name.padEnd(40)} small ${row.small.error ?? `${row.small.medianMs.toFixed(1).padStart(8)} ms`}   fleet ${row.fleet.error ?? `${row.fleet.medianMs.toFixed(1).padStart(9)} ms (total ${row.fleet.total}, ${row.fleet.items} items, counts ${row.fleet.countsAgeS.toFixed(0)} s old)`}   ratio ${row.ratio.toFixed(2)}`);
    }
    // Phased software in the catalogue: the preview is answered from counts split by the catalogue's
    // cohort boundaries (ADR 0022). Timed: the first preview after the phases appeared (a count by the
    // new boundaries, waited for), then --reps previews (the stored counts), then --reps previews after
    // a phase advance (the same stored counts: an advance does not change the boundaries).
    const phased = {};
    const timeOnce = async (url) => {
      const t = performance.now();
      const r = await fetch(url);
      const body = await r.json();
      return { status: r.status, ms: performance.now() - t, now: body.counts?.now, later: body.counts?.later, countsAgeS: (Date.now() - Date.parse(body.countedAt)) / 1000 };
    };
    const timeReps = async (url) => {
      const runs = [];
      for (let k = 0; k < REPS; k++) runs.push(await timeOnce(url));
      return { ...runs[runs.length - 1], ms: median(runs.map((x) => x.ms)), maxMs: Math.max(...runs.map((x) => x.ms)) };
    };
    for (const app of Object.keys(APPS)) {
      const body = { version: '1.2.0', upgradableFrom: ['1.0.0', '1.1.0'], rolloutStrategy: 'general', specification: { v: '1.2.0' }, phases: [{ percent: 10, soakMinutes: 60 }, { percent: 50, soakMinutes: 60 }, { percent: 100, soakMinutes: 0 }] };
      const r = await fetch(`${base}/${app}/software`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`create ${app} 1.2.0: ${r.status} ${await r.text()}`);
      const url = `${base}/${app}/software/1.2.0/preview?limit=50`;
      const first = await timeOnce(url);
      const stored = await timeReps(url);
      const a = await fetch(`${base}/${app}/software/1.2.0/rollout/advance`, { method: 'POST' });
      if (a.status !== 200) throw new Error(`advance ${app} 1.2.0: ${a.status} ${await a.text()}`);
      const advanced = await timeReps(url);
      phased[app] = { first, stored, advanced };
    }
    for (const [name, key] of [['phased preview, first (new boundaries)', 'first'], ['phased preview (stored counts)', 'stored'], ['phased preview after a phase advance', 'advanced']]) {
      const f = phased.fleet[key];
      const sm = phased.small[key];
      log(`  ${name.padEnd(40)} small ${sm.ms.toFixed(1).padStart(8)} ms   fleet ${f.ms.toFixed(1).padStart(9)} ms (status ${f.status}; now ${f.now}, later ${f.later}; counts ${f.countsAgeS.toFixed(0)} s old)   ratio ${(f.ms / sm.ms).toFixed(2)}`);
    }
    if (JSON_OUT) console.log(JSON.stringify({ endpoints: N, reps: REPS, backfill, cold, results, phased }));
  } finally {
    server.kill('SIGTERM');
    const kill = setTimeout(() => server.kill('SIGKILL'), 20_000);
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', r)));
    clearTimeout(kill);
    if (store) { await store.db.dropDatabase().catch(() => undefined); await store.stop(); }
    await fdb.stop();
    await nats.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
