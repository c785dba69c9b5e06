#!/usr/bin/env bash
# schemathesis against the assembled server (real NATS, FerretDB, S3; authentication off; the
# local stack's demo data), every phase including the stateful one; see scripts/schemathesis/run.js.
# Usage: scripts/schemathesis/run.sh [max-examples per operation and phase]   (default 25)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -z "${1:-}" ] || export OTAO_SCHEMATHESIS_MAX_EXAMPLES="$1"
exec node scripts/schemathesis/run.js
