#!/usr/bin/env node
// bench/core-decide: decisions per second of the CDTP config-request use case over the in-memory
// fakes, and the cost of computing the pushes of a `general` rollout, for a fleet of 100 000
// endpoints, 50 software versions (chains and ranges), 20 filters, consent on.
// Prints absolute numbers and the ratio against a baseline measured in the same process: a
// "trivial decide" that only looks the endpoint up in the same fake and returns a prepared answer.
// Usage: node bench/core-decide/run.js [--endpoints N] [--seconds S] [--json]
'use strict';
const { performance } = require('node:perf_hooks');
const { createTestOtao, endpointState } = require('@otao/core/testing');
const { createNodePlatform } = require('@otao/node-platform'); // the server's SHA-256 and zone rules

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ENDPOINTS = arg('endpoints', 100_000);
const SECONDS = arg('seconds', 3);
const TENANT = 'bench';
const APP = 'fleet';
const AVN = 'fleet-v1';

// Deterministic pseudo-random numbers (mulberry32).
let seed = 42;
const rnd = () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];

async function setup() {
  const t = createTestOtao({ apps: [{ tenantId: TENANT, appName: APP, versions: [AVN], consentRequired: true }], start: '2026-06-01T00:00:00Z', platform: createNodePlatform() });
  // 50 versions: 5 majors x 10 minors. Within a major: a chain minor -> minor+1 (exact), plus a
  // range jump from any earlier minor of the major every 3rd version; each major starts with a
  // range from the previous major. Every 7th is targeted (2 of the 20 filters, one date past, one
  // future), every 11th suspended.
  const versions = [];
  for (let major = 1; major <= 5; major++) for (let minor = 0; minor < 10; minor++) versions.push(`${major}.${minor}.0`);
  const filters = Array.from({ length: 20 }, (_, i) => `filter-${i}`);
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i];
    const [major, minor] = v.split('.').map(Number);
    const from = [];
    if (minor > 0) from.push(`${major}.${minor - 1}.0`);
    if (minor > 1 && i % 3 === 0) from.push(`>=${major}.0.0 <${major}.${minor - 1}.0`);
    if (minor === 0 && major > 1) from.push(`>=${major - 1}.5.0 <${major}.0.0`);
    if (i === 0) from.push('0.9.0');
    const targeted = i % 7 === 3;
    const body = {
      version: v,
      upgradableFrom: from,
      rolloutStrategy: i % 11 === 5 ? 'suspended' : targeted ? 'targeted' : 'general',
      specification: { version: v, url: `https://example.com/fw/${v}.bin`, sha256: 'ab'.repeat(32), notes: 'x'.repeat(200) },
      ...(targeted ? { filters: [{ filterId: filters[i % 20], rolloutDate: '2026-01-01T00:00:00Z' }, { filterId: filters[(i + 7) % 20], rolloutDate: '2027-01-01T00:00:00Z' }] } : {}),
    };
    const r = await t.core.software.create(TENANT, APP, body, 'setup');
    if (!r.ok) throw new Error(`setup ${v}: ${r.error.message}`);
  }
  t.work.clear();
  const current = ['0.9.0', ...versions.slice(0, 30)];
  for (let i = 0; i < ENDPOINTS; i++) {
    const nf = Math.floor(rnd() * 4);
    const eps = new Set();
    for (let k = 0; k < nf; k++) eps.add(pick(filters));
    const c = rnd();
    const consents = c < 0.3 ? ['*'] : c < 0.7 ? [pick(versions)] : [];
    t.endpoints.put(
      endpointState(TENANT, APP, `ep-${String(i).padStart(7, '0')}`, {
        appVersionName: AVN,
        currentVersion: rnd() < 0.02 ? undefined : pick(current),
        filters: [...eps],
        consents,
      }),
    );
  }
  return { t, versions };
}

async function timeIt(seconds, fn) {
  const ids = [];
  for (let i = 0; i < ENDPOINTS; i++) ids.push(`ep-${String(i).padStart(7, '0')}`);
  let n = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  while (performance.now() < until) {
    for (let k = 0; k < 1000; k++) {
      await fn(ids[n % ids.length]);
      n++;
    }
  }
  return n / ((performance.now() - start) / 1000);
}

async function main() {
  const t0 = performance.now();
  const { t } = await setup();
  const setupMs = performance.now() - t0;
  const states = new Map();
  for await (const b of t.endpoints.stream(TENANT, APP, { batchSize: 10_000 })) for (const s of b) states.set(s.endpointId, s);

  const request = (id) => ({ appVersionName: AVN, endpointId: id, configId: states.get(id).currentVersion ?? null, correlationId: 'b' });
  // Warm-up over the whole fleet: fills the planner memo and the offered bookkeeping.
  const outcomes = {};
  for (const id of states.keys()) {
    const d = await t.core.config.decide(request(id));
    const o = d.ok ? d.value.outcome : d.error.code;
    outcomes[o] = (outcomes[o] ?? 0) + 1;
  }
  const prepared = { ok: true, value: { outcome: 'unchanged' } };
  const registry = t.registry;
  const baseline = await timeIt(SECONDS, async (id) => {
    const app = registry.resolve(AVN);
    const s = await t.endpoints.get({ tenantId: app.tenantId, appName: app.appName, endpointId: id });
    return s ? prepared : null;
  });
  const decide = await timeIt(SECONDS, (id) => t.core.config.decide(request(id)));
  const planner = await t.core.catalogues.planner(TENANT, APP);

  // Push computation of a general rollout over the fleet: a new 9.0.0 upgradable from everything.
  const r = await t.core.software.create(TENANT, APP, { version: '9.0.0', upgradableFrom: ['>=0.0.0 <9.0.0'], rolloutStrategy: 'general', specification: { v: 9 } }, 'bench');
  if (!r.ok) throw new Error(r.error.message);
  t.registry.setConsentRequired(TENANT, APP, false);
  t.core.catalogues.invalidate(TENANT, APP);
  t.publisher.countOnly = true;
  const scope = { kind: 'app', tenantId: TENANT, appName: APP, reason: 'bench' };
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let p = performance.now();
  let candidates = 0;
  for await (const batch of t.core.pushes.candidates(scope)) candidates += batch.length;
  const candidatesMs = performance.now() - p;
  p = performance.now();
  const run = await t.core.pushes.run(scope);
  const runMs = performance.now() - p;
  const heapAfter = process.memoryUsage().heapUsed;

  const result = {
    endpoints: ENDPOINTS,
    setupMs: Math.round(setupMs),
    warmupOutcomes: outcomes,
    memoEntries: planner.size,
    baselinePerSecond: Math.round(baseline),
    decisionsPerSecond: Math.round(decide),
    ratio: +(decide / baseline).toFixed(3),
    pushCandidates: candidates,
    pushCandidatesMs: Math.round(candidatesMs),
    pushRunMs: Math.round(runMs),
    pushesPublished: run.pushed,
    heapGrowthDuringPushesMB: +((heapAfter - heapBefore) / 1048576).toFixed(1),
  };
  if (args.includes('--json')) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`core-decide: ${ENDPOINTS} endpoints, 50 versions, 20 filters, consent on (setup ${result.setupMs} ms)`);
  console.log(`  warm-up outcomes            ${JSON.stringify(outcomes)}; planner memo entries ${planner.size}`);
  console.log(`  baseline (lookup + answer)  ${result.baselinePerSecond.toLocaleString('en')} /s`);
  console.log(`  config.decide               ${result.decisionsPerSecond.toLocaleString('en')} /s   ratio ${result.ratio}   (target >= 200 000 /s)`);
  console.log(`  push candidates (general)   ${candidates} in ${result.pushCandidatesMs} ms   (target < 1000 ms)`);
  console.log(`  push run incl. CAS+publish  ${run.pushed} published in ${result.pushRunMs} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
