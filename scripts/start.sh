#!/usr/bin/env bash
# The README's first command: installs and builds OTAO, then brings up the local stack
# (nats-server, FerretDB, an S3 server, OTAO with S3 on and authentication off) and shows an OTA
# update end to end. The stack keeps running; stop it with scripts/stop.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
bash scripts/install.sh
bash scripts/services/ensure-binaries.sh >/dev/null
npx turbo run build --output-logs=errors-only >/dev/null
exec node scripts/local-stack/up.js
