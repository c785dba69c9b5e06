#!/usr/bin/env node
// bench/cdtp: OTAO's 6/CDTP provider on a real nats-server versus bare NATS request/reply, in one
// run, plus the publish rate of ConfigUpdated for a `general` rollout versus bare publishing.
//
//   pull: a load generator (a child process, so it does not share the responder's event loop)
//         keeps C requests in flight for S seconds with the same ConfigRequest payloads against
//         (1) a trivial responder answering a prepared payload of the same average size as OTAO's
//         answers, and (2) OTAO's CdtpProvider over the in-memory core with N endpoints.
//   push: core.pushes.run for a `general` rollout reaching all N endpoints through
//         NatsConfigPublisher (unpaced), versus encoding and publishing the same N ConfigUpdated
//         in a plain loop. Both end with a flush (the server has them all).
//
// Starts its own nats-server (@otao/test-services) unless NATS_URL is set. Needs a build first:
//   npx turbo run build --filter=@otao/nats-cdtp...   then   node bench/cdtp/run.js
// The pull runs alternate (bare, OTAO, bare, OTAO, …) for --rounds rounds and the medians are
// compared, so drifting background load on a shared machine hits both sides alike.
// Options: --endpoints N (100000) --seconds S per run (4) --rounds R (3) --concurrency C (64)
//          --mode request|replica (both by default) --json
'use strict';
const { fork } = require('node:child_process');
const { performance } = require('node:perf_hooks');

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ENDPOINTS = arg('endpoints', 100_000);
const SECONDS = arg('seconds', 4);
const ROUNDS = arg('rounds', 3);
const CONCURRENCY = arg('concurrency', 64);
const JSON_OUT = args.includes('--json');
const ONLY_OTAO_PULL = args.includes('--only-otao-pull'); // for profiling the provider alone
const modeArg = args.indexOf('--mode');
const MODES = modeArg >= 0 ? [args[modeArg + 1]] : ['request', 'replica'];

const TENANT = 'bench';
const APP = 'fleet';
const AVN = 'fleet-v1';
const INSTANCE = 'otao-bench';
const BARE_SUBJECT = 'bench.bare.cdtp.request';
// Installed versions of the fleet: endpoint i runs CURRENT[i % CURRENT.length].
const CURRENT = ['0.9.0', '1.0.0', '1.1.0', '1.2.0', '2.0.0'];
const epId = (i) => `ep-${String(i).padStart(7, '0')}`;

// ---------------------------------------------------------------------------------------------
// Load generator (child process)
// ---------------------------------------------------------------------------------------------
async function client() {
  const { connect } = require('nats');
  const { codecs } = require('@otao/nats-cdtp');
  const url = process.argv[3];
  const nc = await connect({ servers: url, name: 'bench-client' });
  const payloads = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    payloads.push(
      codecs.configRequest.encode({
        correlationId: `b-${i}`,
        timestamp: Date.now(),
        timeout: 0,
        appVersionName: AVN,
        endpointId: epId(i),
        configId: CURRENT[i % CURRENT.length],
        configName: null,
      }),
    );
  }
  let received = 0;
  nc.subscribe(`kaa.v1.events.${INSTANCE}.endpoint.config.updated`, { callback: () => void received++ });
  nc.subscribe('bench.bare.config.updated', { callback: () => void received++ });
  await nc.flush();

  // Replies come back on one wildcard subscription (as CMX's replica subject does) and are matched
  // by the last subject token: no per-request subscription, timer or error object in the client.
  const replyPrefix = `bench.reply.${process.pid}.`;
  const inflight = new Map();
  let seq = 0;
  nc.subscribe(`${replyPrefix}>`, {
    callback: (_e, m) => {
      const id = m.subject.slice(replyPrefix.length);
      const done = inflight.get(id);
      if (done) {
        inflight.delete(id);
        done();
      }
    },
  });
  await nc.flush();

  // Two ways to wait for an answer:
  //  'request': nc.request() per request (the client's request/reply API: a mux inbox, a timer
  //             and an error object with a stack per request; the load generator is expensive);
  //  'replica': publish with a reply subject under one wildcard subscription, matched by the
  //             last subject token, as CMX does with its replica subject (a cheap load generator,
  //             so the responder's own cost per message dominates).
  async function run(subject, seconds, mode) {
    const lat = [];
    let n = 0;
    let errors = 0;
    let next = 0;
    const until = performance.now() + seconds * 1000;
    const viaReplica = () =>
      new Promise((resolve) => {
        const id = String(++seq);
        const t0 = process.hrtime.bigint();
        const timer = setTimeout(() => {
          inflight.delete(id);
          errors++;
          resolve();
        }, 5000);
        inflight.set(id, () => {
          clearTimeout(timer);
          lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
          n++;
          resolve();
        });
        nc.publish(subject, payloads[next++ % payloads.length], { reply: replyPrefix + id });
      });
    const viaRequest = async () => {
      const t0 = process.hrtime.bigint();
      try {
        await nc.request(subject, payloads[next++ % payloads.length], { timeout: 5000 });
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        n++;
      } catch {
        errors++;
      }
    };
    const one = mode === 'replica' ? viaReplica : viaRequest;
    const worker = async () => {
      while (performance.now() < until) await one();
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = (performance.now() - start) / 1000;
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    return { requests: n, errors, seconds: elapsed, throughput: n / elapsed, p50: q(0.5), p99: q(0.99) };
  }

  process.on('message', async (m) => {
    if (m.type === 'run') process.send({ type: 'result', id: m.id, result: await run(m.subject, m.seconds, m.mode) });
    else if (m.type === 'received') process.send({ type: 'result', id: m.id, result: received });
    else if (m.type === 'reset') {
      received = 0;
      process.send({ type: 'result', id: m.id, result: 0 });
    } else if (m.type === 'quit') {
      await nc.drain();
      process.exit(0);
    }
  });
  process.send({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Responders and the measurement (parent)
// ---------------------------------------------------------------------------------------------
function startClient(url) {
  const child = fork(__filename, ['--client', url, ...args], { stdio: 'inherit' });
  let seq = 0;
  const waiting = new Map();
  let ready;
  const readyP = new Promise((r) => (ready = r));
  child.on('message', (m) => {
    if (m.type === 'ready') ready();
    else if (m.type === 'result') {
      waiting.get(m.id)(m.result);
      waiting.delete(m.id);
    }
  });
  const ask = (msg) =>
    new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.send({ ...msg, id });
    });
  return { ready: readyP, ask, child };
}

async function buildOtao(url) {
  const { createOtaoCore } = require('@otao/core');
  const t = require('@otao/core/testing');
  const { createNodePlatform } = require('@otao/node-platform');
  const { createNatsCdtp } = require('@otao/nats-cdtp');
  const nats = createNatsCdtp({
    connection: { servers: url },
    instanceName: INSTANCE,
    replicaId: 'otao-bench-0',
    softwareConsumerInstanceName: 'cmx-bench',
    eprInstanceName: 'epr-bench',
    tenantManagerInstanceName: 'tm-bench',
  });
  const work = new t.QueueWorkScheduler();
  const endpoints = new t.InMemoryEndpointRepository();
  const core = createOtaoCore(
    {
      software: new t.InMemorySoftwareRepository(),
      endpoints,
      stats: new t.InMemoryRolloutStatsRepository(),
      lease: new t.InMemoryLease(),
      clock: { now: () => Date.now() },
      ids: new t.SequentialIds('bench-'),
      registry: new t.InMemoryApplicationRegistry([{ tenantId: TENANT, appName: APP, versions: [AVN] }]),
      configPublisher: nats.configPublisher,
      softwareEvents: nats.softwareEvents,
      filterDirectory: nats.filterDirectory,
      work,
      audit: new t.InMemoryAuditLog(),
      ...createNodePlatform(),
    },
    { specMaxBytes: 262_144 },
  );
  const spec = (v) => ({ version: v, link: `https://files.example/fleet/${v}/firmware.bin`, sha256: 'ab'.repeat(32), size: 1_048_576 });
  const chain = [
    ['1.0.0', ['0.9.0']],
    ['1.1.0', ['1.0.0']],
    ['1.2.0', ['1.1.0']],
    ['2.0.0', ['>=1.2.0 <2.0.0']],
  ];
  for (const [v, from] of chain) {
    const r = await core.software.create(TENANT, APP, { version: v, upgradableFrom: from, rolloutStrategy: 'general', specification: spec(v) }, 'bench');
    if (!r.ok) throw new Error(r.error.message);
  }
  for (let i = 0; i < ENDPOINTS; i++) {
    endpoints.put(t.endpointState(TENANT, APP, epId(i), { appVersionName: AVN, currentVersion: CURRENT[i % CURRENT.length] }));
  }
  work.clear();
  return { nats, core, endpoints, work, spec };
}

async function main() {
  const { codecs } = require('@otao/nats-cdtp');
  const { cdtpAnswer } = require('@otao/nats-cdtp/internal');
  const { connect } = require('nats');
  let server;
  let url = process.env.NATS_URL;
  if (!url) {
    server = await require('@otao/test-services').startNats();
    url = server.url;
  }
  const t0 = performance.now();
  const otao = await buildOtao(url);
  const setupMs = performance.now() - t0;

  // The average size of OTAO's answers over a sample, for the bare responder's payload.
  let total = 0;
  const SAMPLE = 1000;
  for (let i = 0; i < SAMPLE; i++) {
    const req = { appVersionName: AVN, endpointId: epId(i), configId: CURRENT[i % CURRENT.length], correlationId: 'size' };
    const d = cdtpAnswer(await otao.core.config.decide(req), req);
    total += codecs.configResponse.encode({
      correlationId: `b-${i}`,
      timestamp: Date.now(),
      timeout: 0,
      appVersionName: AVN,
      endpointId: epId(i),
      configId: d.configId,
      contentType: 'application/json',
      content: d.content === null ? null : Buffer.from(d.content),
      statusCode: d.statusCode,
      reasonPhrase: d.reasonPhrase,
    }).length;
  }
  const responseBytes = Math.round(total / SAMPLE);
  const prepared = Buffer.alloc(responseBytes, 0x61);

  const responder = await connect({ servers: url, name: 'bench-bare-responder' });
  responder.subscribe(BARE_SUBJECT, { queue: 'bare', callback: (_e, m) => m.respond(prepared) });
  await responder.flush();
  await otao.nats.start(otao.core);

  const c = startClient(url);
  await c.ready;

  // Pull: for each client style, warm up both sides, then alternate measured runs.
  const otaoSubject = `kaa.v1.service.${INSTANCE}.cdtp.request`;
  const median = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const summary = (runs) => ({
    throughput: median(runs.map((r) => r.throughput)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    runs: runs.map((r) => ({ throughput: Math.round(r.throughput), p50: r.p50, p99: r.p99 })),
  });
  const pull = {};
  for (const mode of MODES) {
    await c.ask({ type: 'run', subject: BARE_SUBJECT, seconds: 1, mode });
    await c.ask({ type: 'run', subject: otaoSubject, seconds: 1, mode });
    const bareRuns = [];
    const otaoRuns = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (!ONLY_OTAO_PULL) bareRuns.push(await c.ask({ type: 'run', subject: BARE_SUBJECT, seconds: SECONDS, mode }));
      otaoRuns.push(await c.ask({ type: 'run', subject: otaoSubject, seconds: SECONDS, mode }));
    }
    if (ONLY_OTAO_PULL) {
      console.log(JSON.stringify(otaoRuns));
      continue;
    }
    const bare = summary(bareRuns);
    const otaoS = summary(otaoRuns);
    pull[mode] = { bare, otao: otaoS, throughputRatio: otaoS.throughput / bare.throughput, p99Ratio: otaoS.p99 / bare.p99 };
  }
  if (ONLY_OTAO_PULL) {
    c.child.send({ type: 'quit' });
    await otao.nats.stop();
    await responder.drain();
    if (server) await server.stop();
    return;
  }

  // Push: a new `general` version 3.0.0 upgradable from every installed version, so next(E)
  // becomes 3.0.0 for every endpoint (none was pushed it): one ConfigUpdated per endpoint.
  const r = await otao.core.software.create(
    TENANT,
    APP,
    { version: '3.0.0', upgradableFrom: ['>=0.9.0 <3.0.0'], rolloutStrategy: 'general', specification: otao.spec('3.0.0') },
    'bench',
  );
  if (!r.ok) throw new Error(r.error.message);
  otao.work.clear();
  await c.ask({ type: 'reset' });
  const nc = otao.nats.connection.client();
  const p0 = performance.now();
  const run = await otao.core.pushes.run({ kind: 'app', tenantId: TENANT, appName: APP, reason: 'bench' });
  await nc.flush();
  const pushSeconds = (performance.now() - p0) / 1000;

  const content = JSON.stringify(otao.spec('3.0.0'));
  const b0 = performance.now();
  for (let i = 0; i < run.pushed; i++) {
    nc.publish(
      'bench.bare.config.updated',
      codecs.configUpdated.encode({
        correlationId: 'bench-1',
        timestamp: Date.now(),
        timeout: 0,
        appVersionName: AVN,
        endpointId: epId(i),
        configId: '3.0.0',
        contentType: 'application/json',
        content: Buffer.from(content, 'utf8'),
        originatorReplicaId: 'otao-bench-0',
      }),
    );
  }
  await nc.flush();
  const bareSeconds = (performance.now() - b0) / 1000;
  await new Promise((res) => setTimeout(res, 500));
  const received = await c.ask({ type: 'received' });

  const out = {
    endpoints: ENDPOINTS,
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    rounds: ROUNDS,
    setupMs: Math.round(setupMs),
    responseBytes,
    pull,
    push: {
      pushed: run.pushed,
      examined: run.examined,
      otaoPerSecond: run.pushed / pushSeconds,
      barePerSecond: run.pushed / bareSeconds,
      ratio: bareSeconds / pushSeconds,
      receivedBySubscriber: received,
    },
  };
  for (const m of Object.values(pull)) m.targets = { throughputAtLeast07: m.throughputRatio >= 0.7, p99AtMost2x: m.p99Ratio <= 2 };

  c.child.send({ type: 'quit' });
  await otao.nats.stop();
  await responder.drain();
  if (server) await server.stop();

  if (JSON_OUT) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(
    `bench/cdtp: ${f(ENDPOINTS)} endpoints, ${CONCURRENCY} requests in flight, ${ROUNDS} alternating rounds of ${SECONDS} s per side, answers ~${responseBytes} B (setup ${f(setupMs)} ms)`,
  );
  console.log('');
  const row = (name, x) =>
    console.log(`  ${name.padEnd(26)}${f(x.throughput).padStart(10)} req/s ${f(x.p50, 3).padStart(8)} ms ${f(x.p99, 3).padStart(8)} ms ${String(x.errors).padStart(6)}`);
  const titles = {
    request: 'pull, load generator using nc.request() (the client request/reply API)',
    replica: 'pull, load generator replying on one wildcard subject (as CMX does; cheap client)',
  };
  for (const [mode, m] of Object.entries(pull)) {
    console.log(`${titles[mode] ?? mode}`);
    console.log('  medians                     throughput        p50         p99    errors');
    row('bare NATS responder', m.bare);
    row('OTAO CdtpProvider', m.otao);
    console.log(`  per round, req/s: bare ${m.bare.runs.map((r) => f(r.throughput)).join(' / ')}; OTAO ${m.otao.runs.map((r) => f(r.throughput)).join(' / ')}`);
    console.log(
      `  ratio OTAO/bare: throughput ${f(m.throughputRatio, 2)} (target >= 0.70: ${m.targets.throughputAtLeast07 ? 'met' : 'NOT met'}), ` +
        `p99 ${f(m.p99Ratio, 2)}x (target <= 2x: ${m.targets.p99AtMost2x ? 'met' : 'NOT met'})`,
    );
    console.log('');
  }
  console.log(`push (ConfigUpdated, general rollout to ${f(run.examined)} endpoints, unpaced)`);
  console.log(`  OTAO core.pushes.run + NatsConfigPublisher ${f(out.push.otaoPerSecond).padStart(10)} msg/s  (${f(run.pushed)} pushed in ${f(pushSeconds, 2)} s)`);
  console.log(`  bare encode + publish loop                 ${f(out.push.barePerSecond).padStart(10)} msg/s  (${f(run.pushed)} in ${f(bareSeconds, 2)} s)`);
  console.log(`  ratio OTAO/bare: ${f(out.push.ratio, 2)}   (a subscriber received ${f(received)} of ${f(2 * run.pushed)})`);
}

if (process.argv[2] === '--client') {
  client().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
