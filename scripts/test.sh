#!/usr/bin/env bash
# The full test suite, from nothing: installs dependencies, builds, type-checks, lints (with the
# dependency rule), runs every package's tests through turbo, and prints one closing line.
# Services the tests need are installed and started by scripts/services/* (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
rm -f packages/*/.jest-results.json apps/*/.jest-results.json
npx turbo run build typecheck lint --output-logs=errors-only
node scripts/check-dependency-rule.js
status=0
npx turbo run test --concurrency=1 --output-logs=full || status=$?
node scripts/jest-summary.js || status=1
exit $status
