// The chaos suite (test/chaos/, issue 11): its own Jest run, `npm run test:chaos`, after the other
// tests (scripts/test.sh). Results go to .jest-results.chaos.json, which scripts/jest-summary.js
// adds to the closing line like every package's .jest-results.json.
const preset = require('../../jest.preset')(__dirname);

module.exports = { ...preset, testMatch: ['<rootDir>/test/chaos/**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '/dist/'] };
