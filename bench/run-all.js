#!/usr/bin/env node
// Runs the project's benchmarks (each against a baseline measured in the same run) and prints one
// table of ratios. Needs a build first (npx turbo run build). Not a test: nothing here fails on a
// number. Options: --quick (shorter runs), --with-store (adds bench/mongo-store on FerretDB v2,
// 100 000 endpoints), --with-e2e (adds the assembled server on FerretDB v2: bench/e2e-cdtp, pulls
// with 1 000 000 stored endpoints, and bench/e2e-rollout, a general rollout to 100 000), --only-e2e
// (the e2e rows alone); sizes: --e2e-endpoints N, --e2e-seconds S, --rollout-endpoints N.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyE2e = args.includes('--only-e2e');
const withE2e = onlyE2e || args.includes('--with-e2e');
const opt = (name) => { const i = args.indexOf(`--${name}`); return i >= 0 ? [`--${name.replace(/^(e2e|rollout)-/, '')}`, args[i + 1]] : []; };
const run = (script, extra) => {
  const out = execFileSync(process.execPath, [path.join(__dirname, script), ...extra], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] });
  const start = out.indexOf('{') >= 0 && (out.indexOf('[') < 0 || out.indexOf('{') < out.indexOf('[')) ? out.indexOf('{') : out.indexOf('[');
  return { json: start >= 0 ? JSON.parse(out.slice(start)) : undefined, text: out };
};
const rows = [];
const row = (bench, measure, otao, baseline, ratio, target) => rows.push({ bench, measure, otao, baseline, ratio, target });
const f = (x, d = 0) => (typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(x));

if (!onlyE2e) {
  const s = quick ? '1' : '3';
  {
    const r = run('core-decide/run.js', ['--json', '--seconds', s]).json;
    row('core-decide', 'config.decide per second (100k EPs, 50 versions, 20 filters, consent)', f(r.decisionsPerSecond), `${f(r.baselinePerSecond)} (lookup + prepared answer)`, f(r.ratio, 3), '>= 200 000 /s');
    row('core-decide', 'push computation, general rollout over 100k EPs', `${r.pushCandidatesMs} ms`, '—', '—', '< 1 000 ms');
  }
  {
    const r = run('phases/run.js', ['--json', '--seconds', s]).json;
    row('phases', 'config.decide per second (core-decide + 3 phased versions x 4 phases, 1 maintenance window)', f(r.decisionsPerSecond), `${f(r.baselinePerSecond)} (lookup + prepared answer)`, f(r.ratio, 3), '>= 200 000 /s');
    row('phases', `push computation after a phase advance over 100k EPs (${f(r.pushCandidates)} candidates)`, `${r.pushCandidatesMs} ms`, '—', '—', '< 1 000 ms');
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
}
if (args.includes('--with-store')) {
  const { text } = run('mongo-store/run.js', ['--endpoints', '100000']);
  for (const line of text.split('\n').filter((l) => /ratio/.test(l))) row('mongo-store', line.trim().slice(0, 60), '', '', (/ratio[^0-9]*([0-9.]+)/.exec(line) || [])[1] ?? '', '≈ 1');
}
if (withE2e) {
  const r = run('e2e-cdtp/run.js', ['--json', ...opt('e2e-endpoints'), ...opt('e2e-seconds')]).json;
  const n = `${f(r.endpoints)} EPs, ${r.concurrency} in flight`;
  row('e2e-cdtp', `assembled server on FerretDB v2, ${n}: pull throughput`, `${f(r.otao.throughput, 1)} req/s`, `${f(r.bare.throughput)} req/s bare NATS`, f(r.throughputRatio, 3), '>= 0.5');
  row('e2e-cdtp', 'pull p99', `${f(r.otao.p99, 1)} ms`, `${f(r.bare.p99, 2)} ms`, f(r.p99Ratio, 1), '<= 3.0');
  row('e2e-cdtp', 'store commands per pull (otao_store_commands_total / answered)', f(r.storeCommandsPerPull, 3), '—', '—', '<= 0.25');
  row('e2e-cdtp', `503 answers (of ${f(r.otao.requests)} answered; ${f(r.otao.errors)} timeouts)`, f(r.answers503), '—', '—', '0');
  row('e2e-cdtp', `import of ${f(r.endpoints)} endpoints (${f(r.importChunk)} per insert)`, `${f(r.importSeconds, 1)} s`, '—', '—', 'report');
  row('e2e-cdtp', 'server memory (rss max)', `${f(r.serverRssMaxMB)} MB`, '—', '—', 'flat in fleet size');
  const g = run('e2e-rollout/run.js', ['--json', ...opt('rollout-endpoints')]).json;
  const done = g.outcome === 'complete' ? '' : ` — ${g.outcome} at ${f(g.distinct)} of ${f(g.endpoints)}`;
  row('e2e-rollout', `general rollout to ${f(g.endpoints)} EPs, unpaced: pushes first to last${done}`, `${f(g.pushesPerSecond)} /s`, `${f(g.bare.perSecond)} /s bare publish`, f(g.ratio, 3), '>= 2 000 /s');
  row('e2e-rollout', 'pushes from the POST', `${f(g.pushesPerSecondFromPost)} /s (${f(g.fromPostSeconds, 1)} s)`, '—', '—', '—');
  row('e2e-rollout', `duplicates; store commands per push`, `${f(g.duplicates)}; ${f(g.storeCommandsPerPush, 2)}`, '—', '—', '0; —');
  row('e2e-rollout', 'server memory (rss max)', `${f(g.serverRssMaxMB)} MB`, '—', '—', '—');
}

const cols = ['bench', 'measure', 'otao', 'baseline', 'ratio', 'target'];
const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...rows.map((r) => String(r[c]).length))]));
const line = (r) => cols.map((c) => String(r[c]).padEnd(width[c])).join(' | ');
console.log(line(Object.fromEntries(cols.map((c) => [c, c]))));
console.log(cols.map((c) => '-'.repeat(width[c])).join('-|-'));
for (const r of rows) console.log(line(r));
