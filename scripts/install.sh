#!/usr/bin/env bash
# Installs the project's npm dependencies exactly as locked (npm ci), unless node_modules is
# already in step with package-lock.json. Node.js 20.19+ is required.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("OTAO needs Node.js >= 20.19, found "+process.version); process.exit(1) }'
stamp=node_modules/.otao-lock-stamp
if [ "${CI:-}" = "true" ] || [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
