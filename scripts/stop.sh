#!/usr/bin/env bash
# Stops the local stack started by scripts/start.sh, PostgreSQL included (its data stays in .otao/local).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node scripts/local-stack/down.js
