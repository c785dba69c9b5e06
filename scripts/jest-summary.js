#!/usr/bin/env node
// Adds up the JSON results every package's Jest runs wrote (.jest-results.json, and any
// .jest-results.<run>.json such as apps/server's chaos suite; apps/server/.jest-results.schemathesis.json
// is written in the same shape by scripts/schemathesis/run.js, one test per API operation and
// schemathesis phase) and prints one closing line,
// `N passed, N failed, N skipped`. Skipped tests are listed: nothing is skipped silently.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
let passed = 0, failed = 0, skipped = 0, suites = 0, failedSuites = 0;
const skippedNames = [];
/** Every results file of a package: .jest-results.json and .jest-results.<run>.json. */
const resultFiles = (dirPath) => fs.readdirSync(dirPath).filter((f) => /^\.jest-results(\.[\w-]+)?\.json$/.test(f)).sort().map((f) => path.join(dirPath, f));
for (const dir of ['packages', 'apps']) {
  const base = path.join(root, dir);
  if (!fs.existsSync(base)) continue;
  for (const name of fs.readdirSync(base)) {
    const dirPath = path.join(base, name);
    if (!fs.statSync(dirPath).isDirectory()) continue;
    for (const file of resultFiles(dirPath)) {
      const r = JSON.parse(fs.readFileSync(file, 'utf8'));
      passed += r.numPassedTests;
      failed += r.numFailedTests;
      skipped += r.numPendingTests + r.numTodoTests;
      suites += r.numTotalTestSuites;
      failedSuites += r.numFailedTestSuites + (r.numRuntimeErrorTestSuites ?? 0);
      for (const s of r.testResults ?? []) for (const a of s.assertionResults ?? []) if (a.status === 'pending' || a.status === 'skipped' || a.status === 'todo') skippedNames.push(`${dir}/${name}: ${a.fullName}`);
    }
  }
}
if (skippedNames.length) console.log(`Skipped tests:\n  ${skippedNames.join('\n  ')}`);
console.log(`${suites} test suites, ${failedSuites} failed`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || failedSuites > 0 ? 1 : 0);
