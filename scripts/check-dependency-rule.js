#!/usr/bin/env node
// The dependency rule of docs/architecture.md, checked on package.json declarations (ESLint checks
// the imports themselves). Fails with a list of every violation.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const problems = [];
const read = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

const pkgs = [];
for (const dir of ['packages', 'apps']) {
  const base = path.join(root, dir);
  if (!fs.existsSync(base)) continue;
  for (const name of fs.readdirSync(base)) {
    const file = path.join(base, name, 'package.json');
    if (fs.existsSync(file)) pkgs.push({ kind: dir === 'apps' ? 'app' : name, dir: `${dir}/${name}`, json: read(file) });
  }
}

for (const p of pkgs) {
  const deps = Object.keys(p.json.dependencies ?? {});
  const otao = deps.filter((d) => d.startsWith('@otao/'));
  if (p.kind === 'core') {
    // semver only (conventions.md; docs/adr/0003). Time zones and SHA-256 come through ports (docs/adr/0018).
    const allowed = ['semver'];
    const extra = deps.filter((d) => !allowed.includes(d));
    if (extra.length) problems.push(`${p.dir}: @otao/core may depend at runtime on ${allowed.join(', ')} only, not ${extra.join(', ')}`);
  } else if (p.kind === 'test-services') {
    if (otao.length) problems.push(`${p.dir}: test-services must not depend on OTAO packages (${otao.join(', ')})`);
  } else if (p.kind === 'contract-tests') {
    const bad = otao.filter((d) => d !== '@otao/core');
    if (bad.length) problems.push(`${p.dir}: contract suites may depend on @otao/core only, not ${bad.join(', ')}`);
  } else if (p.kind === 'cli') {
    // otao talks to OTAO over the REST API only (spec §12); its tests may run anything (the built
    // server as a process, the NATS stand-ins, the OpenAPI document it generates its types from).
    if (otao.length) problems.push(`${p.dir}: the CLI must not depend on OTAO packages at run time (${otao.join(', ')}): it uses the REST API`);
  } else if (p.dir === 'apps/console') {
    // The console runs in the browser and uses the REST API only; OTAO packages only for its tests.
    if (otao.length) problems.push(`${p.dir}: the console may not depend on OTAO packages at run time (${otao.join(', ')})`);
    const devBad = Object.keys(p.json.devDependencies ?? {}).filter((d) => d.startsWith('@otao/') && !['@otao/test-services', '@otao/nats-cdtp'].includes(d));
    if (devBad.length) problems.push(`${p.dir}: the console's tests may use @otao/test-services and @otao/nats-cdtp (its CMX stand-in) only, not ${devBad.join(', ')}`);
  } else if (p.kind === 'app') {
    if (otao.includes('@otao/contract-tests')) problems.push(`${p.dir}: an app must not depend on @otao/contract-tests`);
  } else {
    const bad = otao.filter((d) => d !== '@otao/core');
    if (bad.length) problems.push(`${p.dir}: an adapter may depend on @otao/core only among OTAO packages, not ${bad.join(', ')}`);
    const devBad = Object.keys(p.json.devDependencies ?? {}).filter((d) => d.startsWith('@otao/') && !['@otao/contract-tests', '@otao/core', '@otao/test-services'].includes(d));
    if (devBad.length) problems.push(`${p.dir}: an adapter's tests may use @otao/core, @otao/contract-tests and @otao/test-services only, not ${devBad.join(', ')}`);
  }
}

if (problems.length) {
  console.error(`Dependency rule violated (${problems.length}):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`dependency rule: ${pkgs.length} packages checked, no violation`);
