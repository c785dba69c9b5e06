#!/usr/bin/env node
// bench/e2e-rollout: a `general` rollout by the assembled server (apps/server/dist/main.js, a
// separate process, pushes unpaced: OTAO_PUSH_RATE_PER_SECOND unset) on the store (FerretDB v2 on
// PostgreSQL + DocumentDB, durable, shared_buffers 1GB, started here) with N stored endpoints of one
// application, all on 1.0.0 with their application version set and nothing pushed yet. The bench
// POSTs software 1.1.0 (general, upgradable from 1.0.0) over REST and counts the ConfigUpdated
// messages on kaa.v1.events.otao.endpoint.config.updated (decoded with @otao/nats-cdtp's codecs:
// distinct endpoints, duplicates) until all N arrived, nothing new came for --stall seconds, or
// --timeout. Baseline in the same run: one process publishing N messages of the same size to a
// subscriber on the same nats-server (bare NATS publish throughput). Prints pushes/s (first to last
// push, and from the POST), the ratio to the baseline, store commands per push (the server's
// otao_store_commands_total) and the server's RSS. Needs a build first.
// Options: --endpoints N (100000) --timeout S (900) --stall S (60) --json
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
const N = arg('endpoints', 100_000);
const TIMEOUT_S = arg('timeout', 900);
const STALL_S = arg('stall', 60);
const JSON_OUT = args.includes('--json');
const log = (s) => { if (!JSON_OUT) console.log(s); else process.stderr.write(`${s}\n`); };
const ep = (i) => `ep-${String(i).padStart(7, '0')}`;
/** FerretDB v2 rejects write batches above 25 000 documents: never hand more to one importStates. */
const IMPORT_CHUNK = 25_000;
const APP = 'fleet';
const AVN = 'fleet-v1';
const PUSH_SUBJECT = 'kaa.v1.events.otao.endpoint.config.updated';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function storeCommandsTotal(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^otao_store_commands_total\{command="[^"]+"\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}

/** Bare NATS: a child process publishes `n` messages of `bytes` bytes; this process counts them. */
async function barePublish(natsUrl, n, bytes) {
  const nc = await connect({ servers: natsUrl });
  let count = 0;
  let first = 0;
  let last = 0;
  let done;
  const all = new Promise((r) => (done = r));
  nc.subscribe('bench.bare.rollout', {
    callback: () => {
      const t = performance.now();
      if (count === 0) first = t;
      last = t;
      if (++count === n) done();
    },
  });
  await nc.flush();
  const t0 = performance.now();
  const pub = spawn(process.execPath, ['-e', `
    const { connect } = require('nats');
    (async () => {
      const nc = await connect({ servers: process.argv[1] });
      const payload = Buffer.alloc(Number(process.argv[3]), 7);
      for (let i = 0; i < Number(process.argv[2]); i++) nc.publish('bench.bare.rollout', payload);
      await nc.flush();
      await nc.close();
    })();
  `, natsUrl, String(n), String(bytes)], { stdio: ['ignore', 'ignore', 'inherit'], cwd: __dirname });
  let timer;
  const timedOut = await Promise.race([all.then(() => false), new Promise((r) => (timer = setTimeout(() => r(true), 120_000)))]);
  clearTimeout(timer);
  pub.kill();
  await nc.close();
  const firstToLast = (last - first) / 1000;
  return { messages: count, bytes, timedOut, firstToLastSeconds: firstToLast, fromStartSeconds: (last - t0) / 1000, perSecond: count / Math.max(firstToLast, 1e-9) };
}

async function main() {
  const nats = await startNats();
  const fdb = await startFerretDB({ durability: 'durable', sharedBuffers: '1GB' });
  const database = `otao_rollout_bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otao-rollout-bench-'));
  const apps = path.join(dir, 'apps.yaml');
  fs.writeFileSync(apps, `kaa:\n  applications:\n    ${APP}:\n      tenantId: default\n      versions:\n        ${AVN}: {}\n`);
  const port = await freePort();
  const env = { ...process.env, OTAO_HTTP_PORT: String(port), OTAO_NATS_URLS: nats.url, OTAO_MONGODB_URI: fdb.uri, OTAO_MONGODB_DATABASE: database, OTAO_SECURITY_IGNORED: '/**', OTAO_APPLICATIONS_FILE: apps, OTAO_LOG_LEVEL: 'warn', OTAO_REPLICA_ID: 'bench-1' };
  delete env.OTAO_PUSH_RATE_PER_SECOND; // unpaced
  // OTAO_BENCH_SERVER_NODE_ARGS: extra node flags for the server process (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
  const serverArgs = (process.env.OTAO_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = spawn(process.execPath, [...serverArgs, path.join(__dirname, '../../apps/server/dist/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  let store;
  let nc;
  try {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 600) throw new Error('server not ready');
      await sleep(100);
    }
    // The fleet: N endpoints on 1.0.0, application version set, nothing pushed or offered.
    store = createMongoStore({ uri: fdb.uri, database, socketTimeoutMS: 600_000 });
    await store.start();
    const i0 = performance.now();
    for (let i = 0; i < N; i += IMPORT_CHUNK) {
      const states = [];
      for (let k = i; k < Math.min(N, i + IMPORT_CHUNK); k++) states.push(endpointState('default', APP, ep(k), { appVersionName: AVN, currentVersion: '1.0.0', updatedAt: 1 }));
      await store.endpoints.importStates(states);
    }
    const importS = (performance.now() - i0) / 1000;
    log(`e2e-rollout: ${N.toLocaleString('en')} endpoints on 1.0.0 stored in FerretDB v2 / PostgreSQL in ${importS.toFixed(1)} s`);

    // Count the pushes.
    nc = await connect({ servers: nats.url });
    const seen = new Set();
    let received = 0;
    let duplicates = 0;
    let otherConfigIds = 0;
    let undecodable = 0;
    let bytes = 0;
    let first = 0;
    let last = 0;
    nc.subscribe(PUSH_SUBJECT, {
      callback: (_e, m) => {
        const t = performance.now();
        if (received === 0) first = t;
        last = t;
        received++;
        bytes += m.data.length;
        let u;
        try {
          u = codecs.configUpdated.decode(m.data);
        } catch {
          undecodable++;
          return;
        }
        if (u.configId !== '1.1.0') otherConfigIds++;
        if (seen.has(u.endpointId)) duplicates++;
        else seen.add(u.endpointId);
      },
    });
    await nc.flush();

    let rssMax = rssMB(server.pid);
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssMB(server.pid)); }, 250);
    const commandsBefore = await storeCommandsTotal(port);
    const body = { version: '1.1.0', upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: { v: '1.1.0', url: 'https://example.com/fw-1.1.0.bin', sha256: 'ab'.repeat(32) } };
    const t0 = performance.now();
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/applications/${APP}/software`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`create 1.1.0: ${r.status} ${await r.text()}`);
    let lastProgress = performance.now();
    let lastSeen = 0;
    let outcome = 'complete';
    let nextReport = performance.now() + 10_000;
    for (;;) {
      if (seen.size >= N) break;
      const now = performance.now();
      if (seen.size !== lastSeen) {
        lastSeen = seen.size;
        lastProgress = now;
      }
      if (now - t0 > TIMEOUT_S * 1000) { outcome = 'timeout'; break; }
      if (received > 0 && now - lastProgress > STALL_S * 1000) { outcome = 'stalled'; break; }
      if (now > nextReport) {
        log(`  … ${seen.size.toLocaleString('en')} of ${N.toLocaleString('en')} pushed after ${((now - t0) / 1000).toFixed(0)} s`);
        nextReport = now + 10_000;
      }
      await sleep(50);
    }
    await sleep(outcome === 'complete' ? 1000 : 0); // late duplicates, if any
    clearInterval(sampler);
    rssMax = Math.max(rssMax, rssMB(server.pid));
    const commands = (await storeCommandsTotal(port)) - commandsBefore;
    const firstToLast = (last - first) / 1000;
    const fromPost = (last - t0) / 1000;
    const messageBytes = received > 0 ? Math.round(bytes / received) : 0;
    log(`  OTAO: ${seen.size.toLocaleString('en')} of ${N.toLocaleString('en')} endpoints pushed (${outcome}), ${duplicates} duplicates, ${otherConfigIds} other configIds, ${undecodable} undecodable`);

    const bare = await barePublish(nats.url, Math.max(seen.size, 1), Math.max(messageBytes, 1));
    const pushesPerSecond = seen.size / Math.max(firstToLast, 1e-9);
    const out = {
      endpoints: N,
      importSeconds: importS,
      importChunk: IMPORT_CHUNK,
      outcome,
      received,
      distinct: seen.size,
      duplicates,
      otherConfigIds,
      undecodable,
      messageBytes,
      firstPushAfterPostSeconds: received > 0 ? (first - t0) / 1000 : NaN,
      firstToLastSeconds: firstToLast,
      fromPostSeconds: fromPost,
      pushesPerSecond,
      pushesPerSecondFromPost: seen.size / Math.max(fromPost, 1e-9),
      storeCommands: commands,
      storeCommandsPerPush: seen.size > 0 ? commands / seen.size : NaN,
      serverRssMaxMB: Math.round(rssMax),
      bare,
      ratio: pushesPerSecond / bare.perSecond,
    };
    if (JSON_OUT) console.log(JSON.stringify(out));
    else {
      log(`  OTAO general rollout     ${pushesPerSecond.toFixed(0)} pushes/s first to last (${firstToLast.toFixed(2)} s), ${out.pushesPerSecondFromPost.toFixed(0)} /s from the POST (${fromPost.toFixed(2)} s; first push after ${out.firstPushAfterPostSeconds.toFixed(2)} s)`);
      log(`  bare NATS publish        ${bare.perSecond.toFixed(0)} msg/s (${bare.messages} x ${bare.bytes} B, one publishing process to one subscriber)`);
      log(`  ratio ${out.ratio.toFixed(4)}; store commands per push ${out.storeCommandsPerPush.toFixed(3)} (${commands}); server rss max ${out.serverRssMaxMB} MB`);
    }
  } finally {
    if (nc) await nc.close().catch(() => undefined);
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
