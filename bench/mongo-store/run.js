#!/usr/bin/env node
// bench/mongo-store: the MongoDB-wire adapter on FerretDB v2 on PostgreSQL + DocumentDB (started
// here via @otao/test-services, durable, unless MONGODB_URI is set). For each fleet size (default
// 100 000 and 1 000 000 endpoints, inserted with insertMany in batches of 10 000; FerretDB v2 rejects
// more than 25 000 per batch):
//  - endpoint-state reads (EndpointRepository.get) and writes (setCurrentVersion) per second, against
//    a baseline of the raw driver doing the same (findOne / updateOne by _id) in the same run;
//  - the time to stream the push computation (core.pushes.candidates over every endpoint of the app,
//    createOtaoCore with the mongo repositories and @otao/core/testing fakes for the other ports),
//    against a baseline raw driver find() cursor over the same collection, same filter and sort;
//  - process memory (rss, heapUsed) sampled every 250 ms during the streams: it must not grow with
//    the fleet size.
// Prints absolute numbers and ratios. Requires the built packages (npx turbo run build).
// Usage: node bench/mongo-store/run.js [--endpoints 100000,1000000] [--seconds 5] [--batch 1000]
'use strict';
const { performance } = require('node:perf_hooks');
const { MongoStore } = require('@otao/mongo-store');
const { createOtaoCore, versionKey } = require('@otao/core');
const testing = require('@otao/core/testing');
const { createNodePlatform } = require('@otao/node-platform');
const { startFerretDB } = require('@otao/test-services');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const FLEETS = String(opt('endpoints', '100000,1000000')).split(',').map((s) => Number(s.replace(/_/g, '')));
const SECONDS = Number(opt('seconds', 5));
const BATCH = Number(opt('batch', 1000));
const TENANT = 'bench';
const AVN = 'fleet-v1';
const MB = (n) => (n / 1048576).toFixed(1);

// Deterministic pseudo-random numbers (mulberry32).
let seed = 42;
const rnd = () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const VERSIONS = Array.from({ length: 10 }, (_, i) => `1.${i}.0`);
const epId = (i) => `ep-${String(i).padStart(7, '0')}`;

function endpointDoc(app, i) {
  const current = VERSIONS[Math.floor(rnd() * 9)];
  const endpointId = epId(i);
  return {
    _id: JSON.stringify([TENANT, app, endpointId]),
    tenantId: TENANT,
    appName: app,
    endpointId,
    appVersionName: AVN,
    currentVersion: current,
    currentVersionKey: versionKey(current),
    filters: rnd() < 0.1 ? ['f1'] : [],
    membershipsKnown: true,
    consents: [],
    pushed: [],
    offered: [],
    updatedAt: 1,
  };
}

/** Runs `op` repeatedly for about `seconds` (at least 3 times); returns ops per second. */
async function rate(seconds, op) {
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (n < 3 || performance.now() < until) {
    await op(n);
    n++;
  }
  return { n, perSecond: n / ((performance.now() - t0) / 1000) };
}

function sampler() {
  const samples = [];
  const take = () => {
    const m = process.memoryUsage();
    samples.push({ rss: m.rss, heapUsed: m.heapUsed });
  };
  take();
  const timer = setInterval(take, 250);
  return {
    stop() {
      clearInterval(timer);
      take();
      const max = (k) => Math.max(...samples.map((s) => s[k]));
      return { samples: samples.length, rssMax: max('rss'), heapMax: max('heapUsed'), rssFirst: samples[0].rss, heapFirst: samples[0].heapUsed };
    },
  };
}

async function main() {
  let fdb;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    fdb = await startFerretDB({ durability: 'durable' });
    uri = fdb.uri;
  }
  const database = `otao_bench_${Date.now().toString(36)}`;
  const store = new MongoStore({ uri, database, serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 600_000 });
  await store.start();
  console.log(`mongo-store bench on ${fdb ? 'FerretDB v2.5.0 on PostgreSQL + DocumentDB 0.106.0 (durable, started by test-services)' : uri}, database ${database}`);
  console.log(`node ${process.version}; fleets ${FLEETS.join(', ')}; ${SECONDS} s per rate; push batch ${BATCH}`);
  const results = [];
  try {
    for (const fleet of FLEETS) {
      const app = `fleet${fleet}`;
      const raw = store.db.collection('endpoints');
      // setup: software of the app (10 versions in a chain, general) and the fleet
      const t = testing.createTestOtao({ apps: [{ tenantId: TENANT, appName: app, versions: [AVN] }] });
      const core = createOtaoCore(
        { software: store.software, endpoints: store.endpoints, stats: store.stats, lease: store.lease, clock: t.clock, ids: new testing.SequentialIds('b-'), registry: t.registry, configPublisher: t.publisher, softwareEvents: t.events, filterDirectory: t.filters, work: t.work, audit: store.audit, ...createNodePlatform() },
        { pushBatchSize: BATCH },
      );
      for (let i = 0; i < VERSIONS.length; i++) {
        const r = await core.software.create(TENANT, app, { version: VERSIONS[i], upgradableFrom: i > 0 ? [VERSIONS[i - 1]] : [], rolloutStrategy: 'general', specification: { v: VERSIONS[i] } }, 'bench');
        if (!r.ok) throw new Error(r.error.message);
      }
      let t0 = performance.now();
      const CHUNK = 10_000;
      for (let i = 0; i < fleet; i += CHUNK) {
        const docs = [];
        for (let k = i; k < Math.min(fleet, i + CHUNK); k++) docs.push(endpointDoc(app, k));
        await raw.insertMany(docs, { ordered: false });
      }
      const insertMs = performance.now() - t0;
      console.log(`\n== ${fleet.toLocaleString('en')} endpoints ==`);
      console.log(`insertMany (${CHUNK} per batch): ${(insertMs / 1000).toFixed(1)} s, ${Math.round(fleet / (insertMs / 1000))} endpoints/s`);

      // reads and writes of single endpoint states (random endpoints)
      const key = () => ({ tenantId: TENANT, appName: app, endpointId: epId(Math.floor(rnd() * fleet)) });
      const reads = await rate(SECONDS, () => store.endpoints.get(key()));
      const rawReads = await rate(SECONDS, () => { const k = key(); return raw.findOne({ _id: JSON.stringify([TENANT, app, k.endpointId]) }); });
      const writes = await rate(SECONDS, (n) => store.endpoints.setCurrentVersion(key(), AVN, VERSIONS[n % 9], 2));
      const rawWrites = await rate(SECONDS, (n) => { const k = key(); return raw.updateOne({ _id: JSON.stringify([TENANT, app, k.endpointId]) }, { $set: { currentVersion: VERSIONS[n % 9], updatedAt: 2 } }); });
      console.log(`reads  (EndpointRepository.get):              ${reads.perSecond.toFixed(1)}/s (${reads.n} ops)   baseline raw findOne: ${rawReads.perSecond.toFixed(1)}/s   ratio ${(reads.perSecond / rawReads.perSecond).toFixed(2)}`);
      console.log(`writes (EndpointRepository.setCurrentVersion): ${writes.perSecond.toFixed(1)}/s (${writes.n} ops)   baseline raw updateOne: ${rawWrites.perSecond.toFixed(1)}/s   ratio ${(writes.perSecond / rawWrites.perSecond).toFixed(2)}`);

      // baseline stream: raw cursor, same filter and order, nothing mapped or planned
      global.gc?.();
      let mem = sampler();
      t0 = performance.now();
      let n = 0;
      for await (const d of raw.find({ tenantId: TENANT, appName: app }).sort({ endpointId: 1 }).batchSize(BATCH)) if (d) n++;
      const rawMs = performance.now() - t0;
      const rawMem = mem.stop();
      if (n !== fleet) throw new Error(`baseline streamed ${n} of ${fleet}`);

      // the push computation over the whole app through the adapter
      global.gc?.();
      mem = sampler();
      t0 = performance.now();
      let batches = 0;
      let candidates = 0;
      for await (const batch of core.pushes.candidates({ kind: 'app', tenantId: TENANT, appName: app })) {
        batches++;
        candidates += batch.length;
      }
      const pushMs = performance.now() - t0;
      const pushMem = mem.stop();
      console.log(`stream push computation (core.pushes.candidates): ${(pushMs / 1000).toFixed(1)} s, ${Math.round(fleet / (pushMs / 1000))} endpoints/s, ${candidates} candidates in ${batches} batches`);
      console.log(`baseline raw find() cursor, same filter/sort:      ${(rawMs / 1000).toFixed(1)} s, ${Math.round(fleet / (rawMs / 1000))} endpoints/s   ratio (push/raw time) ${(pushMs / rawMs).toFixed(2)}`);
      console.log(`memory during push stream: rss max ${MB(pushMem.rssMax)} MB (start ${MB(pushMem.rssFirst)}), heapUsed max ${MB(pushMem.heapMax)} MB (start ${MB(pushMem.heapFirst)}), ${pushMem.samples} samples`);
      console.log(`memory during raw stream:  rss max ${MB(rawMem.rssMax)} MB, heapUsed max ${MB(rawMem.heapMax)} MB`);
      results.push({ fleet, reads: reads.perSecond, rawReads: rawReads.perSecond, writes: writes.perSecond, rawWrites: rawWrites.perSecond, pushMs, rawMs, pushMem, rawMem, candidates });
      // Dropping is cheaper than a deleteMany of the whole fleet; start() re-creates the indexes.
      await raw.drop();
      await store.start();
    }
    if (results.length > 1) {
      const [a, b] = [results[0], results[results.length - 1]];
      console.log(`\nmemory growth ${a.fleet.toLocaleString('en')} -> ${b.fleet.toLocaleString('en')} endpoints (push stream): heapUsed max ${MB(a.pushMem.heapMax)} -> ${MB(b.pushMem.heapMax)} MB (x${(b.pushMem.heapMax / a.pushMem.heapMax).toFixed(2)}), rss max ${MB(a.pushMem.rssMax)} -> ${MB(b.pushMem.rssMax)} MB (x${(b.pushMem.rssMax / a.pushMem.rssMax).toFixed(2)}) for x${(b.fleet / a.fleet).toFixed(0)} endpoints`);
      console.log(`stream time scaling: x${(b.pushMs / a.pushMs).toFixed(2)} (push), x${(b.rawMs / a.rawMs).toFixed(2)} (raw) for x${(b.fleet / a.fleet).toFixed(0)} endpoints`);
    }
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.stop();
    if (fdb) await fdb.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
