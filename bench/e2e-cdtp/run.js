#!/usr/bin/env node
// bench/e2e-cdtp: the assembled server (apps/server/dist/main.js, a separate process) on the store
// (FerretDB v2 on PostgreSQL + DocumentDB, durable, shared_buffers 1GB, started here) with N stored
// endpoints, answering 6/CDTP ConfigRequests, versus bare NATS request/reply (a trivial responder
// process answering a prepared payload of the same size) in the same run, same concurrency. Prints
// throughput, p50/p99, the answers by status (503 = store unavailable), the store commands per
// answered pull (otao_store_commands_total from the server's /metrics, before and after the
// measured run) and the server's memory. Needs a build first.
// Options: --endpoints N (1000000) --seconds S per round (20) --rounds R (3) --concurrency C (64) --legacy-bare --json
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { connect } = require('nats');
const { endpointState } = require('@otao/core/testing');
const { createMongoStore } = require('@otao/mongo-store');
const { codecs } = require('@otao/nats-cdtp');
const { startFerretDB, startNats, freePort } = require('@otao/test-services');

const args = process.argv.slice(2);
const arg = (n, d) => { const i = args.indexOf(`--${n}`); return i >= 0 ? Number(args[i + 1]) : d; };
const N = arg('endpoints', 1_000_000);
const SECONDS = arg('seconds', 20);
const C = arg('concurrency', 64);
const ROUNDS = arg('rounds', 3);
/** FerretDB v2 rejects write batches above 25 000 documents: never hand more to one importStates. */
const IMPORT_CHUNK = 25_000;
const JSON_OUT = args.includes('--json');
const log = (s) => { if (!JSON_OUT) console.log(s); else process.stderr.write(`${s}\n`); };
const ep = (i) => `ep-${String(i).padStart(7, '0')}`;

async function load(nc, subject, seconds, makePayload) {
  const lat = [];
  const statuses = {};
  let n = 0;
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async (w) => {
    let k = w;
    while (performance.now() < until) {
      const t = performance.now();
      try {
        const m = await nc.request(subject, makePayload(k), { timeout: 120_000 });
        lat.push(performance.now() - t);
        n++;
        let status = 'raw';
        try {
          status = String(codecs.configResponse.decode(m.data).statusCode);
        } catch {
          // the bare responder answers a prepared payload
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
      } catch {
        errors++;
      }
      k += C;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, (_, w) => worker(w)));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN);
  return { requests: n, errors, statuses, throughput: n / secs, p50: q(0.5), p99: q(0.99) };
}

/** otao_store_commands_total of the server, by command. */
async function storeCommands(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^otao_store_commands_total\{command="([^"]+)"\} (\S+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

function diffCommands(before, after) {
  const d = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) d[k] = v - (before[k] ?? 0);
  return d;
}

/** The median of each figure over the rounds (throughput, p50, p99), with the sums of the counts. */
function medianRun(rounds) {
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const statuses = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    requests: med(rounds.map((r) => r.requests)),
    totalRequests: rounds.reduce((a, r) => a + r.requests, 0),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    statuses,
    throughput: med(rounds.map((r) => r.throughput)),
    p50: med(rounds.map((r) => r.p50)),
    p99: med(rounds.map((r) => r.p99)),
  };
}

function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function main() {
  const nats = await startNats();
  const fdb = await startFerretDB({ durability: 'durable', sharedBuffers: '1GB' });
  const database = `otao_e2e_bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otao-e2e-bench-'));
  const apps = path.join(dir, 'apps.yaml');
  fs.writeFileSync(apps, 'kaa:\n  applications:\n    fleet:\n      tenantId: default\n      versions:\n        fleet-v1: {}\n');
  const port = await freePort();
  const env = { ...process.env, OTAO_HTTP_PORT: String(port), OTAO_NATS_URLS: nats.url, OTAO_MONGODB_URI: fdb.uri, OTAO_MONGODB_DATABASE: database, OTAO_SECURITY_IGNORED: '/**', OTAO_APPLICATIONS_FILE: apps, OTAO_LOG_LEVEL: 'warn', OTAO_REPLICA_ID: 'bench-1' };
  // OTAO_BENCH_SERVER_NODE_ARGS: extra node flags for the server process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
  const serverArgs = (process.env.OTAO_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = spawn(process.execPath, [...serverArgs, path.join(__dirname, '../../apps/server/dist/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  // The bare responder answers with a prepared ConfigResponse of the shape OTAO answers here (200,
  // unchanged), so the measuring client decodes the same bytes in both runs.
  // --legacy-bare: the responder of the earlier bench (60 bytes the client cannot decode: it pays for
  // a failed decode on every bare answer), to compare with figures measured that way.
  const legacyBare = args.includes('--legacy-bare');
  const prepared = legacyBare ? Buffer.alloc(60, 7).toString('base64') : Buffer.from(codecs.configResponse.encode({ correlationId: 'c0000000', timestamp: Date.now(), timeout: 0, appVersionName: 'fleet-v1', endpointId: 'ep-0000000', statusCode: 200, reasonPhrase: null, configId: '1.0.0', contentType: 'application/json', content: null })).toString('base64');
  const bare = spawn(process.execPath, ['-e', `
    const { connect } = require('nats');
    (async () => { const nc = await connect({ servers: process.argv[1] }); const payload = Buffer.from(process.argv[2], 'base64');
      nc.subscribe('bench.bare', { queue: 'bare', callback: (_e, m) => m.respond(payload) }); await nc.flush(); process.send && process.send('ready'); })();
  `, nats.url, prepared], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: __dirname });
  let store;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 600) throw new Error('server not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const base = `http://127.0.0.1:${port}/api/v1/applications/fleet/software`;
    for (const body of [{ version: '1.0.0', upgradableFrom: ['0.9.0'], rolloutStrategy: 'general', specification: { v: '1.0.0', url: 'https://example.com/fw-1.0.0.bin' } }]) {
      const r = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 201) throw new Error(`create: ${r.status}`);
    }
    await new Promise((r) => setTimeout(r, 2000)); // the (empty) push job of the creation runs now, before the fleet exists
    store = createMongoStore({ uri: fdb.uri, database, socketTimeoutMS: 600_000 });
    await store.start();
    const t0 = performance.now();
    for (let i = 0; i < N; i += IMPORT_CHUNK) {
      const states = [];
      for (let k = i; k < Math.min(N, i + IMPORT_CHUNK); k++) states.push(endpointState('default', 'fleet', ep(k), { appVersionName: 'fleet-v1', currentVersion: '1.0.0', updatedAt: 1 }));
      await store.endpoints.importStates(states);
    }
    const importS = (performance.now() - t0) / 1000;
    log(`e2e-cdtp: ${N.toLocaleString('en')} endpoints stored in FerretDB v2 / PostgreSQL in ${importS.toFixed(1)} s (${IMPORT_CHUNK.toLocaleString('en')} per insert)`);
    const nc = await connect({ servers: nats.url });
    const reqPayload = (k) => codecs.configRequest.encode({ correlationId: `c${k}`, timestamp: Date.now(), timeout: 0, appVersionName: 'fleet-v1', endpointId: ep((k * 7919) % N), configId: '1.0.0', configName: null });
    // warm-up of both, then the measured runs
    await load(nc, 'bench.bare', 1, reqPayload);
    await load(nc, 'kaa.v1.service.otao.cdtp.request', 2, reqPayload);
    // ROUNDS alternating rounds of each (bare, OTAO, bare, OTAO, …): the medians, so that a burst of
    // other work on this shared machine does not decide the ratio.
    const bareRounds = [];
    const otaoRounds = [];
    let rssMax = 0;
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssMB(server.pid)); }, 250);
    const storeCommandsRun = {};
    for (let round = 0; round < ROUNDS; round++) {
      bareRounds.push(await load(nc, 'bench.bare', SECONDS, reqPayload));
      const commandsBefore = await storeCommands(port);
      otaoRounds.push(await load(nc, 'kaa.v1.service.otao.cdtp.request', SECONDS, reqPayload));
      // Background work (rollout-date ticks, lease renewals) lands in the same counter: a few commands
      // over the run, negligible next to the pulls.
      for (const [k, v] of Object.entries(diffCommands(commandsBefore, await storeCommands(port)))) storeCommandsRun[k] = (storeCommandsRun[k] ?? 0) + v;
    }
    clearInterval(sampler);
    rssMax = Math.max(rssMax, rssMB(server.pid));
    const bareR = medianRun(bareRounds);
    const otaoR = medianRun(otaoRounds);
    await nc.close();
    const commandsTotal = Object.values(storeCommandsRun).reduce((a, b) => a + b, 0);
    const out = {
      endpoints: N,
      seconds: SECONDS,
      concurrency: C,
      importSeconds: importS,
      importChunk: IMPORT_CHUNK,
      bare: bareR,
      otao: otaoR,
      throughputRatio: otaoR.throughput / bareR.throughput,
      p99Ratio: otaoR.p99 / bareR.p99,
      storeCommands: storeCommandsRun,
      rounds: ROUNDS,
      bareResponder: legacyBare ? 'legacy: 60 undecodable bytes' : 'a prepared ConfigResponse (200, unchanged)',
      roundRatios: otaoRounds.map((o, i) => o.throughput / bareRounds[i].throughput),
      storeCommandsPerPull: otaoR.totalRequests > 0 ? commandsTotal / otaoR.totalRequests : NaN,
      answers503: otaoRounds.reduce((a, r) => a + (r.statuses['503'] ?? 0), 0),
      serverRssMaxMB: Math.round(rssMax),
    };
    if (JSON_OUT) console.log(JSON.stringify(out));
    else {
      log(`  bare NATS request/reply     ${bareR.throughput.toFixed(0)} req/s (${out.bareResponder})  p50 ${bareR.p50.toFixed(2)} ms  p99 ${bareR.p99.toFixed(2)} ms`);
      log(`  OTAO server on FerretDB v2  ${otaoR.throughput.toFixed(1)} req/s  p50 ${otaoR.p50.toFixed(1)} ms  p99 ${otaoR.p99.toFixed(1)} ms  (${otaoR.requests} answered: ${JSON.stringify(otaoR.statuses)}, ${otaoR.errors} timeouts)`);
      log(`  ratio ${out.throughputRatio.toFixed(4)} (medians of ${ROUNDS} alternating rounds; per round ${out.roundRatios.map((r) => r.toFixed(3)).join(', ')}), p99 x${out.p99Ratio.toFixed(1)}; server rss max ${out.serverRssMaxMB} MB`);
      log(`  store commands per pull ${out.storeCommandsPerPull.toFixed(3)} (${commandsTotal} commands: ${JSON.stringify(storeCommandsRun)}); 503 answers ${out.answers503}`);
    }
  } finally {
    server.kill('SIGTERM');
    bare.kill();
    await new Promise((r) => setTimeout(r, 1000));
    if (store) { await store.db.dropDatabase().catch(() => undefined); await store.stop(); }
    await fdb.stop();
    await nats.stop();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
