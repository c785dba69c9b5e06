#!/usr/bin/env node
// bench/timeouts: the report-timeout scan of spec §4.11 (core.reportTimeouts.tick over the mongo-store
// repositories) on FerretDB v2 on PostgreSQL + DocumentDB (started here via @otao/test-services,
// durable, unless MONGODB_URI is set). Seeds N endpoints (default 1 000 000) that were all offered
// one version with `reportTimeoutMinutes` and never reported (a pending offer each, inserted with
// insertMany in batches of 10 000), plus 10 % more offered later (not due), then runs one tick that
// marks every due endpoint timed out, batch by batch through the index. Prints the time and the
// endpoints per second against a baseline measured in the same run — the raw driver walking the same
// index range (find … sort at, batches of 1 000) and deleting what it read, without any marking — and
// process memory (rss, heapUsed) before, at most during (sampled every 250 ms) and after: it must not
// grow with the fleet. Requires the built packages (npx turbo run build).
// Usage: node bench/timeouts/run.js [--endpoints 1000000]
'use strict';
const { performance } = require('node:perf_hooks');
const { MongoStore, COLLECTIONS } = require('@otao/mongo-store');
const { createOtaoCore, versionKey } = require('@otao/core');
const testing = require('@otao/core/testing');
const { createNodePlatform } = require('@otao/node-platform');
const { startFerretDB } = require('@otao/test-services');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const N = Number(String(opt('endpoints', '1000000')).replace(/_/g, ''));
const TENANT = 'bench';
const APP = 'fleet';
const AVN = 'fleet-v1';
const V = '2.0.0';
const MB = (n) => (n / 1048576).toFixed(1);
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const epId = (i) => `ep-${String(i).padStart(7, '0')}`;

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
      return { samples: samples.length, rssMax: max('rss'), heapMax: max('heapUsed') };
    },
  };
}

async function seed(db, app, count, at, offset = 0) {
  const eps = db.collection(COLLECTIONS.endpoints);
  const offers = db.collection(COLLECTIONS.pendingOffers);
  for (let i = 0; i < count; i += 10_000) {
    const e = [];
    const o = [];
    for (let j = i; j < Math.min(count, i + 10_000); j++) {
      const endpointId = epId(offset + j);
      e.push({ _id: JSON.stringify([TENANT, app, endpointId]), tenantId: TENANT, appName: app, endpointId, appVersionName: AVN, currentVersion: '1.0.0', currentVersionKey: '1.0.0', filters: [], membershipsKnown: true, consents: [], pushed: [V], offered: [V], updatedAt: at });
      o.push({ _id: JSON.stringify([TENANT, endpointId, app, versionKey(V)]), tenantId: TENANT, appName: app, endpointId, versionKey: versionKey(V), at });
    }
    await eps.insertMany(e, { ordered: false });
    await offers.insertMany(o, { ordered: false });
  }
}

async function main() {
  let uri = process.env.MONGODB_URI;
  let fdb;
  if (!uri) {
    fdb = await startFerretDB({ durability: 'durable' });
    uri = fdb.uri;
  }
  const database = `otao_bench_timeouts_${Date.now().toString(36)}`;
  const store = new MongoStore({ uri, database, serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 120_000 });
  await store.start();
  console.log(`timeouts bench on ${fdb ? 'FerretDB v2 on PostgreSQL + DocumentDB (durable, started by test-services)' : uri}, database ${database}, ${N.toLocaleString('en')} endpoints`);
  try {
    const late = Math.floor(N / 10);
    let t = performance.now();
    await seed(store.db, APP, N, T0); // due
    await seed(store.db, APP, late, T0 + 20 * MIN, N); // offered later: not due
    await seed(store.db, 'baseline', N, T0); // the baseline's own copy
    console.log(`seeded ${(N * 2 + late).toLocaleString('en')} endpoints and pending offers in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const tt = testing.createTestOtao({ apps: [{ tenantId: TENANT, appName: APP, versions: [AVN] }], start: T0 + 31 * MIN });
    const core = createOtaoCore(
      { software: store.software, endpoints: store.endpoints, stats: store.stats, lease: store.lease, clock: tt.clock, ids: new testing.SequentialIds('b-'), registry: tt.registry, configPublisher: tt.publisher, softwareEvents: tt.events, filterDirectory: tt.filters, work: tt.work, audit: store.audit, ...createNodePlatform() },
      { schedulerLeaseMs: 600_000 },
    );
    const created = await core.software.create(TENANT, APP, { version: V, upgradableFrom: ['1.0.0'], rolloutStrategy: 'general', specification: {}, failurePolicy: { maxFailureRate: 1, minReports: 1, reportTimeoutMinutes: 30 } }, 'bench');
    if (!created.ok) throw new Error(created.error.message);
    await store.stats.increment(TENANT, APP, V, 'offered', N + late, T0 + 20 * MIN);
    await new Promise((r) => setTimeout(r, 2000)); // let PostgreSQL see the tables' statistics

    // baseline: walk the same index range with the raw driver and delete what was read
    const offers = store.db.collection(COLLECTIONS.pendingOffers);
    if (global.gc) global.gc();
    let mem = sampler();
    t = performance.now();
    let baseline = 0;
    // keyset paging in (at, endpointId) order like the adapter (restarting at the oldest walks over
    // every index entry deleted before: PostgreSQL keeps them until vacuum)
    let last;
    const page = (range, n) =>
      offers.find({ tenantId: TENANT, appName: 'baseline', versionKey: V, ...range }, { projection: { _id: 1, at: 1, endpointId: 1 } }).sort({ at: 1, endpointId: 1 }).limit(n).toArray();
    for (;;) {
      const docs = last === undefined ? await page({ at: { $lte: T0 + MIN } }, 1000) : await page({ at: last.at, endpointId: { $gt: last.endpointId } }, 1000);
      if (last !== undefined && docs.length < 1000) docs.push(...(await page({ at: { $gt: last.at, $lte: T0 + MIN } }, 1000 - docs.length)));
      if (docs.length === 0) break;
      baseline += docs.length;
      last = docs[docs.length - 1];
      await offers.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    }
    const baseSeconds = (performance.now() - t) / 1000;
    const baseMem = mem.stop();

    if (global.gc) global.gc();
    const before = process.memoryUsage();
    mem = sampler();
    t = performance.now();
    const run = await core.reportTimeouts.tick('bench');
    const seconds = (performance.now() - t) / 1000;
    const during = mem.stop();
    if (global.gc) global.gc();
    const after = process.memoryUsage();
    const counts = await store.stats.get(TENANT, APP, V);
    const left = await offers.countDocuments({ tenantId: TENANT, appName: APP, versionKey: V });

    const result = {
      endpoints: N,
      timedOut: run.timedOut,
      countedTimedOut: counts.timedOut,
      pendingLeft: left,
      seconds: Number(seconds.toFixed(1)),
      perSecond: Math.round(run.timedOut / seconds),
      baselineRead: baseline,
      baselineSeconds: Number(baseSeconds.toFixed(1)),
      baselinePerSecond: Math.round(baseline / baseSeconds),
      ratio: Number((baseSeconds / seconds).toFixed(3)),
      rssBeforeMB: Number(MB(before.rss)),
      rssMaxMB: Number(MB(during.rssMax)),
      rssAfterMB: Number(MB(after.rss)),
      heapBeforeMB: Number(MB(before.heapUsed)),
      heapMaxMB: Number(MB(during.heapMax)),
      heapAfterMB: Number(MB(after.heapUsed)),
      baselineRssMaxMB: Number(MB(baseMem.rssMax)),
    };
    console.log(`tick: ${run.timedOut.toLocaleString('en')} endpoints timed out (counter ${counts.timedOut.toLocaleString('en')}, ${left.toLocaleString('en')} offers still pending: the ones not due) in ${result.seconds} s = ${result.perSecond.toLocaleString('en')}/s`);
    console.log(`baseline (raw find + delete of the same index range, no marking): ${baseline.toLocaleString('en')} in ${result.baselineSeconds} s = ${result.baselinePerSecond.toLocaleString('en')}/s; ratio otao/baseline speed ${result.ratio}`);
    console.log(`memory: rss ${result.rssBeforeMB} MB before, ${result.rssMaxMB} MB max during, ${result.rssAfterMB} MB after; heapUsed ${result.heapBeforeMB} / ${result.heapMaxMB} / ${result.heapAfterMB} MB (baseline rss max ${result.baselineRssMaxMB} MB)`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await store.db.dropDatabase().catch(() => undefined);
    await store.stop();
    await fdb?.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
