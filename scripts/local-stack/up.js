#!/usr/bin/env node
// The local stack (README's first command): nats-server, the store (FerretDB v2 on PostgreSQL with the
// DocumentDB extension, durable, data in .otao/local/store), an S3 server (versitygw) and OTAO with
// S3 on and authentication off, a demo application; then a short story of an OTA update told
// through the real wire protocols, leaving everything running. A second run stops the previous
// stack and starts again on the same data (ports in use are replaced by free ones).
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { ROOT, DIR, STATE, STORE_DIR, alive, stopStack } = require('./stack');
const { APP, AVN, applicationsYaml, http, loadDemoData } = require('./demo-data');
const CLI = path.join(ROOT, 'packages/test-services/dist/cli.js');
const say = (s) => console.log(s);

async function stopPrevious() {
  let first = true;
  await stopStack((line) => {
    if (first) say('Stopping the stack of a previous run');
    first = false;
    say(`  ${line}`);
  });
}

/** FerretDB v1 kept its data in SQLite files under ferretdb-data/; FerretDB v2 cannot read them. */
function moveAsideV1Data() {
  const old = path.join(DIR, 'ferretdb-data');
  if (!fs.existsSync(old)) return;
  const aside = path.join(DIR, `ferretdb-v1-sqlite.old-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.renameSync(old, aside);
  say(`Note: ${path.relative(process.cwd(), old) || old} holds data of FerretDB v1 (SQLite), which the store no longer uses;`);
  say(`      moved to ${path.relative(process.cwd(), aside) || aside} (not migrated; delete it when you like).`);
}

const portFree = (port) =>
  new Promise((ok) => {
    const s = net.createServer();
    s.once('error', () => ok(false));
    s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
  });
const anyPort = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
async function pickPort(preferred) {
  return (await portFree(preferred)) ? preferred : anyPort();
}

/** Starts a test-services CLI service detached; resolves with its KEY=value lines. */
async function startService(name, args, env = process.env) {
  const log = path.join(DIR, `${name}.log`);
  fs.writeFileSync(log, '');
  const fd = fs.openSync(log, 'a');
  const child = spawn(process.execPath, [CLI, ...args], { detached: true, stdio: ['ignore', fd, fd], env });
  child.unref();
  for (let i = 0; i < 1800; i++) {
    const text = fs.readFileSync(log, 'utf8');
    if (/^READY$/m.test(text)) {
      const env = Object.fromEntries(text.split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      return { pid: child.pid, env };
    }
    if (!alive(child.pid)) throw new Error(`${name} did not start; see ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start in time; see ${log}`);
}

async function main() {
  fs.mkdirSync(DIR, { recursive: true });
  await stopPrevious();
  moveAsideV1Data();
  const ports = { nats: await pickPort(4222), mongo: await pickPort(27017), s3: await pickPort(9000), http: await pickPort(8080) };
  say(`OTAO local stack in ${path.relative(process.cwd(), DIR) || DIR}`);
  const pids = {};
  const saveState = (store) => fs.writeFileSync(STATE, JSON.stringify({ pids, ...(store ? { store } : {}), ports, startedAt: new Date().toISOString() }, null, 2));
  const nats = await startService('nats', ['nats', String(ports.nats)]);
  pids.nats = nats.pid;
  saveState();
  say(`  nats-server        ${nats.env.NATS_URL}`);
  const fresh = !fs.existsSync(path.join(STORE_DIR, 'pg', 'PG_VERSION'));
  const mongo = await startService('ferretdb', ['ferretdb', String(ports.mongo), STORE_DIR], { ...process.env, OTAO_STORE_DURABILITY: 'durable' });
  pids.ferretdb = mongo.pid;
  const store = { ferretdbPid: Number(mongo.env.FERRETDB_PID), postgresPid: Number(mongo.env.POSTGRES_PID), pgData: mongo.env.PGDATA, pgPort: Number(mongo.env.PGPORT) };
  saveState(store);
  say(`  FerretDB v2        ${mongo.env.MONGODB_URI} on PostgreSQL 127.0.0.1:${mongo.env.PGPORT} (durable; data in ${path.relative(process.cwd(), STORE_DIR) || STORE_DIR}${fresh ? ', new' : ', reused'})`);
  const s3 = await startService('s3', ['s3', String(ports.s3), path.join(DIR, 's3-data'), 'otao-software']);
  pids.s3 = s3.pid;
  saveState(store);
  say(`  S3 (versitygw)     ${s3.env.S3_ENDPOINT} bucket otao-software`);

  const appsFile = path.join(DIR, 'applications.yaml');
  fs.writeFileSync(appsFile, applicationsYaml());
  const serverLog = path.join(DIR, 'otao.log');
  const fd = fs.openSync(serverLog, 'a');
  const env = {
    ...process.env,
    OTAO_HTTP_PORT: String(ports.http),
    OTAO_NATS_URLS: nats.env.NATS_URL,
    OTAO_MONGODB_URI: mongo.env.MONGODB_URI,
    OTAO_MONGODB_DATABASE: 'otao',
    OTAO_S3_ENABLED: 'true',
    OTAO_S3_BUCKET: 'otao-software',
    OTAO_S3_ENDPOINT: s3.env.S3_ENDPOINT,
    OTAO_S3_REGION: s3.env.AWS_REGION,
    OTAO_S3_FORCE_PATH_STYLE: 'true',
    OTAO_S3_URL_PATH: 'link',
    AWS_ACCESS_KEY_ID: s3.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s3.env.AWS_SECRET_ACCESS_KEY,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_REPLICA_ID: 'local-1',
  };
  const server = spawn(process.execPath, [path.join(ROOT, 'apps/server/dist/main.js')], { detached: true, stdio: ['ignore', fd, fd], env });
  server.unref();
  pids.otao = server.pid;
  saveState(store);
  const base = `http://127.0.0.1:${ports.http}`;
  for (let i = 0; ; i++) {
    const r = await fetch(`${base}/ready`).then((x) => x.status, () => 0);
    if (r === 200) break;
    if (!alive(server.pid) || i > 600) throw new Error(`OTAO did not become ready; see ${serverLog}`);
    await new Promise((r2) => setTimeout(r2, 100));
  }
  say(`  OTAO               ${base} (S3 on, authentication off, log ${path.relative(process.cwd(), serverLog)})`);
  await story(base, nats.env.NATS_URL);
  await fleet(base, nats.env.NATS_URL);
  say('');
  say(`The stack keeps running. Open the operator console: ${base}/console/`);
  say('Or try:');
  say(`  curl ${base}/api/v1/applications/${APP}/software`);
  say(`  curl ${base}/api/v1/openapi.json`);
  say(`  curl ${base}/ready ; curl ${base}/metrics`);
  say(`  NATS ${nats.env.NATS_URL}   MongoDB wire ${mongo.env.MONGODB_URI}   S3 ${s3.env.S3_ENDPOINT}`);
  say(`  PostgreSQL: psql -h 127.0.0.1 -p ${mongo.env.PGPORT} -U postgres postgres   (DocumentDB's documentdb_api schema)`);
  say('Stop it with: bash scripts/stop.sh');
}

async function story(base, natsUrl) {
  const { FakeCmx } = require('@otao/nats-cdtp/testing');
  const api = `${base}/api/v1/applications/${APP}`;
  say('');
  say(`Demo application "${APP}" (application version ${AVN}), tenant "default"`);
  const up = await loadDemoData(base, natsUrl, say);

  const cmx = await new FakeCmx({ servers: natsUrl }).start();
  try {
    const ep = `kettle-${Date.now().toString(36)}`;
    say(`  a simulated CMX pulls for endpoint ${ep}, which runs 1.0.0 (6/CDTP ConfigRequest over NATS)`);
    const r = await cmx.pull({ endpointId: ep, appVersionName: AVN, configId: '1.0.0' });
    const spec = JSON.parse(Buffer.from(r.content).toString('utf8'));
    say(`    <- ConfigResponse ${r.statusCode}: configId ${r.configId}, specification ${JSON.stringify({ ...spec, link: spec.link ? `${spec.link.slice(0, 60)}…` : undefined })}`);
    const dl = await fetch(spec.link);
    const bytes = Buffer.from(await dl.arrayBuffer());
    const same = crypto.createHash('sha256').update(bytes).digest('hex') === up.sha256;
    say(`  the endpoint downloads the file through the presigned link: HTTP ${dl.status}, ${bytes.length} bytes, checksum ${same ? 'matches' : 'DIFFERS'}`);
    if (!same) throw new Error('downloaded bytes differ from the upload');
    say('  it installs 1.1.0 and reports it (ConfigApplied 200)');
    await cmx.applied({ endpointId: ep, appVersionName: AVN, configId: '1.1.0', statusCode: 200 });
    const pushes = await cmx.waitForPushes(1, 10_000);
    const p = pushes.find((x) => x.endpointId === ep);
    say(`    <- ConfigUpdated pushed: endpoint ${p.endpointId}, next hop ${p.configId}`);
    const view = await http('GET', `${api}/endpoints/${ep}/software`);
    say(`  OTAO's view of ${ep}: current ${view.body.currentVersion}, next ${view.body.next}, goal ${view.body.goal}`);
    const stats = await http('GET', `${api}/software/1.1.0/rollout`);
    say(`  rollout of 1.1.0: offered ${stats.body.offered}, applied ${stats.body.applied}, failed ${stats.body.failed}`);
  } finally {
    await cmx.stop();
  }
}

/**
 * Demo data for the console: a fleet of simulated endpoints on the versions of the story (some
 * failing), and a suspended version upgradable from a range, so that the graph, the rollout
 * counters, the preview and the endpoint list have something to show. Idempotent across runs
 * (the same endpoints report again).
 */
async function fleet(base, natsUrl) {
  const { FakeCmx } = require('@otao/nats-cdtp/testing');
  const api = `${base}/api/v1/applications/${APP}`;
  const r = await http('POST', `${api}/software`, {
    version: '2.1.0',
    upgradableFrom: ['>=1.0.0 <2.0.0', '2.0.0'],
    rolloutStrategy: 'suspended',
    specification: { notes: 'held back: waiting for a fix' },
    failurePolicy: { maxFailureRate: 0.05, minReports: 50 },
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`create 2.1.0: ${r.status} ${JSON.stringify(r.body)}`);
  const size = 300;
  const cmx = await new FakeCmx({ servers: natsUrl }).start();
  try {
    const versionOf = (i) => (i % 10 === 0 ? '0.9.0' : i % 3 === 0 ? '1.1.0' : i % 7 === 0 || i % 4 === 0 ? '2.0.0' : '1.0.0');
    for (let i = 1; i <= size; i++) {
      const endpointId = `fleet-${String(i).padStart(4, '0')}`;
      await cmx.applied({ endpointId, appVersionName: AVN, configId: versionOf(i), statusCode: i % 23 === 0 ? 500 : 200 });
    }
    // A phased rollout in progress (spec §4.10): 3.0.0 opens to the 10 % cohort first; the endpoints
    // on 2.0.0 inside it pull it and report, one in three failing, so the rollout page has counters,
    // a phase waiting for its gate, and history.
    const p = await http('POST', `${api}/software`, {
      version: '3.0.0',
      upgradableFrom: ['2.0.0'],
      rolloutStrategy: 'general',
      specification: { notes: 'phased: 10 % → 50 % → 100 %' },
      phases: [{ percent: 10, soakMinutes: 30 }, { percent: 50, soakMinutes: 120 }, { percent: 100 }],
      phaseGate: { maxFailureRate: 0.1, minReports: 5 },
      failurePolicy: { maxFailureRate: 0.5, minReports: 20, reportTimeoutMinutes: 120 },
    });
    if (p.status !== 201 && p.status !== 409) throw new Error(`create 3.0.0: ${p.status} ${JSON.stringify(p.body)}`);
    let offered = 0;
    for (let i = 1; i <= size; i++) {
      if (versionOf(i) !== '2.0.0' || i % 23 === 0) continue; // on 2.0.0 (a failed report left it where it was)
      const endpointId = `fleet-${String(i).padStart(4, '0')}`;
      const answer = await cmx.pull({ endpointId, appVersionName: AVN, configId: '2.0.0' }).catch(() => undefined);
      if (answer?.configId !== '3.0.0') continue;
      offered++;
      await cmx.applied({ endpointId, appVersionName: AVN, configId: '3.0.0', statusCode: offered % 3 === 0 ? 500 : 200 });
    }
    say(`  3.0.0 is rolling out in phases: ${offered} endpoints of the 10 % cohort on 2.0.0 got it (one in three failed)`);
  } finally {
    await cmx.stop();
  }
  say(`  a fleet of ${size} simulated endpoints reported their versions (0.9.0 … 2.0.0, a few failures); 2.1.0 is suspended`);
}

main().catch((e) => {
  console.error(`local stack failed: ${e.message}`);
  process.exit(1);
});
