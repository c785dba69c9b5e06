#!/usr/bin/env bash
# Installs schemathesis (PyPI, a pinned version) into a virtual environment once per machine:
# ${OTAO_CACHE_DIR:-~/.cache/otao}/schemathesis-<version> (kept between runs, like ensure-binaries.sh).
# Prints the path of the `schemathesis` executable on stdout (progress goes to stderr). Idempotent.
# Usage: ensure-schemathesis.sh   (version: $OTAO_SCHEMATHESIS_VERSION, default below; needs python3 ≥ 3.9 with venv)
set -euo pipefail
VERSION="${OTAO_SCHEMATHESIS_VERSION:-4.32.5}"
CACHE="${OTAO_CACHE_DIR:-$HOME/.cache/otao}"
VENV="$CACHE/schemathesis-$VERSION"
log() { echo "[ensure-schemathesis] $*" >&2; }

# `.installed` is written last: a half-done install (interrupted) is redone.
if [ -f "$VENV/.installed" ] && [ -x "$VENV/bin/schemathesis" ]; then
  echo "$VENV/bin/schemathesis"
  exit 0
fi
command -v python3 >/dev/null || { log "python3 is required"; exit 1; }
mkdir -p "$CACHE"
# One installer at a time (several worktrees may run the suite on one machine).
exec 9>"$VENV.lock"
flock 9
if ! [ -f "$VENV/.installed" ]; then
  log "installing schemathesis $VERSION into $VENV"
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" >&2; then
    # Debian's python3 lacks ensurepip until python3-venv is installed.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "python3 -m venv failed: installing python3-venv with apt-get"
      apt-get install -y -q python3-venv >&2 || { apt-get update -q >&2 && apt-get install -y -q python3-venv >&2; }
      rm -rf "$VENV"
      python3 -m venv "$VENV" >&2
    else
      log "python3 -m venv failed (install python3-venv)"; exit 1
    fi
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION" >&2
  "$VENV/bin/schemathesis" --version >&2
  touch "$VENV/.installed"
fi
echo "$VENV/bin/schemathesis"
