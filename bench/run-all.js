#!/usr/bin/env node
// Runs the project's benchmarks (each against a baseline measured in the same run) and prints one
// table of ratios. Needs a build first (npx turbo run build). Not a test: nothing here fails on a
// number. Options: --quick (shorter runs), --with-store (adds bench/mongo-store on FerretDB, ~10 min,
// 100 000 endpoints) and --with-e2e (adds bench/e2e-cdtp against the assembled server).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const run = (script, extra) => {
  const out = execFileSync(process.execPath, [path.join(__dirname, script), ...extra], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] });
  const start = out.indexOf('{') >= 0 && (out.indexOf('[') < 0 || out.indexOf('{') < out.indexOf('[')) ? out.indexOf('{') : out.indexOf('[');
  return { json: start >= 0 ? JSON.parse(out.slice(start)) : undefined, text: out };
};
const rows = [];
const row = (bench, measure, otao, baseline, ratio, target) => rows.push({ bench, measure, otao, baseline, ratio, target });
const f = (x, d = 0) => (typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(x));

const s = quick ? '1' : '3';
{
  const r = run('core-decide/run.js', ['--json', '--seconds', s]).json;
  row('core-decide', 'config.decide per second (100k EPs, 50 versions, 20 filters, consent)', f(r.decisionsPerSecond), `${f(r.baselinePerSecond)} (lookup + prepared answer)`, f(r.ratio, 3), '>= 200 000 /s');
  row('core-decide', 'push computation, general rollout over 100k EPs', `${r.pushCandidatesMs} ms`, '—', '—', '< 1 000 ms');
}
{
  const r = run('cdtp/run.js', ['--json', '--seconds', quick ? '2' : '4', '--rounds', quick ? '1' : '3']).json;
  for (const [mode, m] of Object.entries(r.pull)) {
    row('cdtp', `pull throughput (${mode} client)`, `${f(m.otao.throughput)} req/s`, `${f(m.bare.throughput)} req/s bare NATS`, f(m.throughputRatio, 2), '>= 0.70');
    row('cdtp', `pull p99 (${mode} client)`, `${f(m.otao.p99, 2)} ms`, `${f(m.bare.p99, 2)} ms`, f(m.p99Ratio, 2), '<= 2.0');
  }
  row('cdtp', 'ConfigUpdated publish rate, general rollout 100k EPs', `${f(r.push.otaoPerSecond)} /s`, `${f(r.push.barePerSecond)} /s bare publish`, f(r.push.ratio, 2), '—');
}
{
  const r = run('http/run.js', ['--json', '--seconds', quick ? '3' : '8']).json;
  for (const x of r) row('http', `${x.name}, auth on`, `${f(x.otaoRps)} req/s`, `${f(x.bareRps)} req/s bare express`, f(x.ratio, 3), '>= 0.6');
}
{
  const r = run('presign/run.js', ['--json', '--seconds', quick ? '1' : '3']).json;
  const naive = r.results[0];
  for (const x of r.results.slice(1)) row('presign', x.name, `${f(x.perSecond)} /s`, `${f(naive.perSecond)} /s (${naive.name})`, f(x.ratioToNaive, 1), '—');
}
if (args.includes('--with-store')) {
  const { text } = run('mongo-store/run.js', ['--endpoints', '100000']);
  for (const line of text.split('\n').filter((l) => /ratio/.test(l))) row('mongo-store', line.trim().slice(0, 60), '', '', (/ratio[^0-9]*([0-9.]+)/.exec(line) || [])[1] ?? '', '≈ 1');
}
if (args.includes('--with-e2e')) {
  const r = run('e2e-cdtp/run.js', ['--json']).json;
  row('e2e-cdtp', `assembled server on FerretDB, ${f(r.endpoints)} EPs: pull throughput`, `${f(r.otao.throughput, 1)} req/s`, `${f(r.bare.throughput)} req/s bare NATS`, f(r.throughputRatio, 4), '—');
  row('e2e-cdtp', 'pull p99', `${f(r.otao.p99, 1)} ms`, `${f(r.bare.p99, 2)} ms`, f(r.p99Ratio, 1), '—');
  row('e2e-cdtp', 'server memory (rss max)', `${f(r.serverRssMaxMB)} MB`, '—', '—', '—');
}

const cols = ['bench', 'measure', 'otao', 'baseline', 'ratio', 'target'];
const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...rows.map((r) => String(r[c]).length))]));
const line = (r) => cols.map((c) => String(r[c]).padEnd(width[c])).join(' | ');
console.log(line(Object.fromEntries(cols.map((c) => [c, c]))));
console.log(cols.map((c) => '-'.repeat(width[c])).join('-|-'));
for (const r of rows) console.log(line(r));
