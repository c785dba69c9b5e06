#!/usr/bin/env node
// bench/http: GET /applications/{app}/software (50 versions) and the endpoint view, with
// authentication on (JWT + RPT permissions), versus a bare express route returning the same JSON,
// in one run (autocannon). Prints requests/s, p50/p99 latency and the ratio OTAO/bare.
// Usage: node bench/http/run.js [--seconds S] [--connections C] [--json]
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');
const autocannon = require('autocannon');

const args = process.argv.slice(2);
const arg = (n, d) => { const i = args.indexOf(`--${n}`); return i >= 0 ? Number(args[i + 1]) : d; };
const SECONDS = arg('seconds', 8);
const CONNECTIONS = arg('connections', 16);

const run = (url, headers) => new Promise((ok, fail) => autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS }, (e, r) => (e ? fail(e) : ok(r))));

async function main() {
  const child = fork(path.join(__dirname, 'server.js'), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const info = await new Promise((ok, fail) => {
    let buf = '';
    child.stdout.on('data', (d) => { buf += d; const l = buf.split('\n')[0]; if (buf.includes('\n')) ok(JSON.parse(l)); });
    child.once('exit', (c) => fail(new Error(`server exited ${c}`)));
  });
  const rows = [];
  try {
    for (const [name, p] of [['software list (50 versions)', '/api/v1/applications/fleet/software'], ['endpoint view', '/api/v1/applications/fleet/endpoints/ep-1/software']]) {
      await run(`http://127.0.0.1:${info.barePort}${p}`, {}); // warm-up both
      await run(`http://127.0.0.1:${info.otaoPort}${p}`, { authorization: `Bearer ${info.token}` });
      const bare = await run(`http://127.0.0.1:${info.barePort}${p}`, {});
      const otao = await run(`http://127.0.0.1:${info.otaoPort}${p}`, { authorization: `Bearer ${info.token}` });
      if (otao.non2xx > 0) throw new Error(`OTAO answered ${otao.non2xx} non-2xx`);
      rows.push({ name, bareRps: Math.round(bare.requests.average), otaoRps: Math.round(otao.requests.average), ratio: +(otao.requests.average / bare.requests.average).toFixed(3), bareP50: bare.latency.p50, bareP99: bare.latency.p99, otaoP50: otao.latency.p50, otaoP99: otao.latency.p99 });
    }
  } finally {
    child.kill();
  }
  if (args.includes('--json')) return console.log(JSON.stringify(rows));
  console.log(`http: ${CONNECTIONS} connections, ${SECONDS} s per run; list body ${info.listBytes} B, view body ${info.viewBytes} B`);
  for (const r of rows) console.log(`  ${r.name.padEnd(28)} bare ${r.bareRps} req/s (p50 ${r.bareP50} ms, p99 ${r.bareP99} ms)  OTAO+auth ${r.otaoRps} req/s (p50 ${r.otaoP50} ms, p99 ${r.otaoP99} ms)  ratio ${r.ratio} (target >= 0.6)`);
}
main().catch((e) => { console.error(e); process.exit(1); });
