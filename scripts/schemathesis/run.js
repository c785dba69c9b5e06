#!/usr/bin/env node
// Runs schemathesis (scripts/services/ensure-schemathesis.sh) against the assembled server: the built
// apps/server with real nats-server, FerretDB and S3 (versitygw), S3 on, authentication off, loaded
// with the local stack's demo data (scripts/local-stack/demo-data.js). Every phase runs — examples,
// coverage, fuzzing, stateful (through the document's links) — with a fixed seed and a bounded
// number of cases, so a run is repeatable and takes a few minutes. Then everything is stopped.
//
// Services: MONGODB_URI and NATS_URL, when set (scripts/test.sh), are used (a database of its own);
// otherwise they are started here. S3 is always started here (temporary data).
// Writes apps/server/.jest-results.schemathesis.json (the closing line of scripts/test.sh counts
// each API operation of each phase as one test) and prints its own line
// `schemathesis: N cases, N passed, N failed`. Exit code 0 only when nothing failed.
//
// Environment: OTAO_SCHEMATHESIS_MAX_EXAMPLES (default 25 per operation and phase),
// OTAO_SCHEMATHESIS_SEED (default 15), OTAO_SCHEMATHESIS_TIMEOUT_SECONDS (default 900).
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { applicationsYaml, loadDemoData } = require('../local-stack/demo-data');

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'packages/test-services/dist/cli.js');
const SERVER = path.join(ROOT, 'apps/server/dist/main.js');
const RESULTS = path.join(ROOT, 'apps/server/.jest-results.schemathesis.json');
const MAX_EXAMPLES = process.env.OTAO_SCHEMATHESIS_MAX_EXAMPLES || '25';
const SEED = process.env.OTAO_SCHEMATHESIS_SEED || '15';
const TIMEOUT_S = Number(process.env.OTAO_SCHEMATHESIS_TIMEOUT_SECONDS || 900);
const say = (s) => console.log(`[schemathesis] ${s}`);
const children = [];

function start(name, cmd, args, env, logFile) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
  fs.closeSync(fd);
  children.push({ name, child });
  return child;
}

async function startService(dir, name, args = []) {
  const log = path.join(dir, `${name}.log`);
  const child = start(name, process.execPath, [CLI, name, ...args], process.env, log);
  for (let i = 0; i < 3000; i++) {
    const text = fs.readFileSync(log, 'utf8');
    if (/^READY$/m.test(text)) return Object.fromEntries(text.split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (child.exitCode !== null) throw new Error(`${name} did not start; see ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start in time; see ${log}`);
}

async function freePort() {
  const net = require('node:net');
  return new Promise((ok) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => ok(p));
    });
  });
}

async function stopAll() {
  for (const { child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(t);
  }
}

/** Test cases per (phase, operation) and whether any of its checks failed, from schemathesis' NDJSON event stream. */
function summarize(ndjsonFile) {
  const scenarios = new Map();
  const caseIds = new Set();
  const statefulOps = new Set();
  for (const line of fs.readFileSync(ndjsonFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const ev = JSON.parse(line);
    const body = ev.ScenarioFinished;
    if (!body) continue;
    const recorder = body.recorder ?? {};
    const key = `${body.phase ?? 'unknown'} ${recorder.label ?? 'unknown'}`;
    const s = scenarios.get(key) ?? { cases: new Set(), failed: false, skipped: false };
    for (const id of Object.keys(recorder.cases ?? {})) {
      s.cases.add(id);
      caseIds.add(id);
    }
    if (body.phase === 'stateful') for (const c of Object.values(recorder.cases ?? {})) statefulOps.add(`${c.value?.method} ${c.value?.path}`);
    const checks = Object.values(recorder.checks ?? {}).flat();
    const status = String(body.status ?? '').toLowerCase();
    s.failed ||= status === 'failure' || status === 'error' || checks.some((c) => c.status === 'failure');
    s.skipped ||= status === 'skip';
    scenarios.set(key, s);
  }
  // A scenario counts as skipped only when it ran no case at all.
  return { scenarios: new Map([...scenarios].map(([k, v]) => [k, { failed: v.failed, skipped: v.skipped && v.cases.size === 0, cases: v.cases.size }])), cases: caseIds.size, statefulOps };
}

async function main() {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otao-schemathesis-'));
  if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: build first (npx turbo run build)`);
  const schemathesis = execFileSync('bash', [path.join(ROOT, 'scripts/services/ensure-schemathesis.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

  const natsUrl = process.env.NATS_URL || (await startService(dir, 'nats')).NATS_URL;
  const mongoUri = process.env.MONGODB_URI || (await startService(dir, 'ferretdb')).MONGODB_URI;
  const s3 = await startService(dir, 's3', ['0', path.join(dir, 's3-data'), 'otao-software']);
  const appsFile = path.join(dir, 'applications.yaml');
  fs.writeFileSync(appsFile, applicationsYaml());
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OTAO_HTTP_PORT: String(port),
    OTAO_NATS_URLS: natsUrl,
    OTAO_MONGODB_URI: mongoUri,
    OTAO_MONGODB_DATABASE: `schemathesis_${process.pid}_${Date.now().toString(36)}`,
    OTAO_S3_ENABLED: 'true',
    OTAO_S3_BUCKET: 'otao-software',
    OTAO_S3_ENDPOINT: s3.S3_ENDPOINT,
    OTAO_S3_REGION: s3.AWS_REGION,
    OTAO_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s3.AWS_SECRET_ACCESS_KEY,
    OTAO_SECURITY_IGNORED: '/**',
    OTAO_APPLICATIONS_FILE: appsFile,
    OTAO_REPLICA_ID: 'schemathesis-1',
    OTAO_LOG_LEVEL: 'warn',
  };
  const serverLog = path.join(dir, 'otao.log');
  const server = start('otao', process.execPath, [SERVER], env, serverLog);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const r = await fetch(`${base}/ready`).then((x) => x.status, () => 0);
    if (r === 200) break;
    if (server.exitCode !== null || i > 600) throw new Error(`OTAO did not become ready; see ${serverLog}`);
    await new Promise((r2) => setTimeout(r2, 100));
  }
  say(`OTAO ${base} (S3 on, authentication off; log ${serverLog})`);
  await loadDemoData(base, natsUrl, say);

  const ndjson = path.join(dir, 'events.ndjson');
  const args = [
    '--config-file', path.join(__dirname, 'schemathesis.toml'),
    'run', `${base}/api/v1/openapi.json`,
    '--url', `${base}/api/v1`,
    '--checks', 'all',
    '--exclude-checks', 'ignored_auth',
    '--max-examples', MAX_EXAMPLES,
    '--seed', SEED,
    '--workers', '1',
    '--request-timeout', '30',
    '--suppress-health-check', 'too_slow,filter_too_much,data_too_large',
    '--generation-database', 'none',
    '--report', 'ndjson', '--report-ndjson-path', ndjson,
    '--no-color',
  ];
  say(`${schemathesis} ${args.join(' ')}`);
  const code = await new Promise((resolve) => {
    const st = spawn(schemathesis, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PYTHONHASHSEED: '0' } });
    const t = setTimeout(() => {
      say(`timed out after ${TIMEOUT_S} s`);
      st.kill('SIGKILL');
    }, TIMEOUT_S * 1000);
    st.on('exit', (c, sig) => {
      clearTimeout(t);
      resolve(sig ? 124 : c);
    });
  });
  if (server.exitCode !== null) say(`OTAO exited during the run (code ${server.exitCode}); see ${serverLog}`);
  const { scenarios, cases, statefulOps } = fs.existsSync(ndjson) ? summarize(ndjson) : { scenarios: new Map(), cases: 0, statefulOps: new Set() };
  const failedScenarios = [...scenarios.values()].filter((s) => s.failed).length;
  const passedScenarios = [...scenarios.values()].filter((s) => !s.failed && !s.skipped).length;
  const skippedScenarios = [...scenarios.values()].filter((s) => !s.failed && s.skipped).length;
  const ok = code === 0 && server.exitCode === null;
  const assertionResults = [...scenarios.entries()].map(([name, s]) => ({ fullName: `schemathesis ${name} (${s.cases} cases)`, status: s.failed ? 'failed' : s.skipped ? 'pending' : 'passed' }));
  fs.writeFileSync(
    RESULTS,
    JSON.stringify({
      tool: 'schemathesis',
      numPassedTests: passedScenarios,
      numFailedTests: failedScenarios + (ok || failedScenarios > 0 ? 0 : 1),
      numPendingTests: skippedScenarios,
      numTodoTests: 0,
      numTotalTestSuites: 1,
      numFailedTestSuites: ok ? 0 : 1,
      testResults: [{ name: 'schemathesis', assertionResults }],
    }),
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  say(`the stateful phase reached ${statefulOps.size} operations: ${[...statefulOps].sort().join(', ')}`);
  say(`${cases} cases in ${scenarios.size} scenarios (operation × phase), ${seconds} s, exit code ${code}`);
  console.log(`schemathesis: ${passedScenarios} passed, ${failedScenarios + (ok || failedScenarios > 0 ? 0 : 1)} failed, ${skippedScenarios} skipped`);
  return ok ? 0 : 1;
}

main()
  .then(
    async (code) => {
      await stopAll();
      process.exit(code);
    },
    async (e) => {
      console.error(`[schemathesis] ${e.stack ?? e}`);
      await stopAll();
      process.exit(1);
    },
  );
process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
