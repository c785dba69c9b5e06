#!/usr/bin/env bash
# The README's first command. For now (issue #2) it builds the project and runs the core demo in
# the terminal: the OTAO core deciding a rollout over in-memory fakes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npx turbo run build --output-logs=errors-only >/dev/null
node apps/demo/dist/main.js
