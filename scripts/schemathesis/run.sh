#!/usr/bin/env bash
# Runs schemathesis (from PyPI, in a cached venv) against the OpenAPI document of a running OTAO
# (REST over the in-memory core, a static test token). Usage: scripts/schemathesis/run.sh [max-examples]
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${OTAO_CACHE_DIR:-$HOME/.cache/otao}/venv"
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q 'schemathesis>=4,<5'; }
port_file=$(mktemp)
node scripts/schemathesis/serve.js >"$port_file" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$port_file" ] && break; sleep 0.1; done
port=$(head -1 "$port_file")
"$VENV/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --url "http://127.0.0.1:$port/api/v1" -H "Authorization: Bearer default:admin" --checks all --max-examples "${1:-50}" --workers 2 --no-color 2>&1
