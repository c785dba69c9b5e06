#!/usr/bin/env bash
# The README's first command: installs and builds OTAO, then brings up the local stack
# (nats-server, FerretDB v2 on PostgreSQL + DocumentDB with its data in .otao/local/store, an S3
# server, OTAO with S3 on and authentication off) and shows an OTA update end to end. The stack
# keeps running; stop it with scripts/stop.sh. The first run installs the store (Debian packages
# with apt when root or with sudo, extensions built from third_party/, about 3 minutes; cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
bash scripts/install.sh
bash scripts/services/ensure-binaries.sh >/dev/null
bash scripts/services/ensure-store.sh >/dev/null
npx turbo run build --output-logs=errors-only >/dev/null
exec node scripts/local-stack/up.js
