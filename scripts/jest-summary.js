#!/usr/bin/env node
// Adds up the JSON results every package's Jest run wrote (.jest-results.json) and prints one
// closing line, `N passed, N failed, N skipped`. Skipped tests are listed: nothing is skipped silently.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
let passed = 0, failed = 0, skipped = 0, suites = 0, failedSuites = 0;
const skippedNames = [];
for (const dir of ['packages', 'apps']) {
  const base = path.join(root, dir);
  if (!fs.existsSync(base)) continue;
  for (const name of fs.readdirSync(base)) {
    const file = path.join(base, name, '.jest-results.json');
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    suites += r.numTotalTestSuites;
    failedSuites += r.numFailedTestSuites + (r.numRuntimeErrorTestSuites ?? 0);
    for (const s of r.testResults ?? []) for (const a of s.assertionResults ?? []) if (a.status === 'pending' || a.status === 'skipped' || a.status === 'todo') skippedNames.push(`${dir}/${name}: ${a.fullName}`);
  }
}
if (skippedNames.length) console.log(`Skipped tests:\n  ${skippedNames.join('\n  ')}`);
console.log(`${suites} test suites, ${failedSuites} failed`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || failedSuites > 0 ? 1 : 0);
