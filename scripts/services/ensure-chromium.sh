#!/usr/bin/env bash
# The console's browser tests (apps/console, Playwright) drive Debian's chromium: Playwright never
# downloads a browser here (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1). Installs it from apt when missing
# (as root or with sudo); prints its path.
set -euo pipefail
for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; exit 0; fi
done
sudo_=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null || { echo "chromium is missing and neither root nor sudo can install it: apt-get install chromium" >&2; exit 1; }
  sudo_="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo_ apt-get update -qq >&2
$sudo_ apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
command -v chromium
