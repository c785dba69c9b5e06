#!/usr/bin/env bash
# Installs the service binaries the tests and the local stack run, once per machine, into
# ${OTAO_CACHE_DIR:-~/.cache/otao}/bin (kept between runs, so CI does not rebuild them):
#   nats-server v2.15.2   (go install from the Go module proxy)
#   versitygw   v1.8.0    (Versity S3 Gateway, the strict S3 server of the tests; go install)
# The store (FerretDB v2 on PostgreSQL + DocumentDB) is installed by ensure-store.sh.
# Prints the bin directory. Needs Go (1.22+).
set -euo pipefail
CACHE="${OTAO_CACHE_DIR:-$HOME/.cache/otao}"
BIN="$CACHE/bin"
mkdir -p "$BIN"
NATS_VERSION=v2.15.2
VERSITYGW_VERSION=v1.8.0

log() { echo "[ensure-binaries] $*" >&2; }

if [ ! -x "$BIN/nats-server-$NATS_VERSION" ]; then
  log "installing nats-server $NATS_VERSION (go install, one time)"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "github.com/nats-io/nats-server/v2@$NATS_VERSION" >&2
  mv "$tmp/nats-server" "$BIN/nats-server-$NATS_VERSION"
  rm -rf "$tmp"
fi

if [ ! -x "$BIN/versitygw-$VERSITYGW_VERSION" ]; then
  log "installing versitygw $VERSITYGW_VERSION (go install, one time, about 1.5 minutes)"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  mv "$tmp/versitygw" "$BIN/versitygw-$VERSITYGW_VERSION"
  rm -rf "$tmp"
fi

ln -sf "nats-server-$NATS_VERSION" "$BIN/nats-server"
# FerretDB v1 (SQLite) is gone: drop the `ferretdb` link an older checkout made, so nothing runs it by mistake.
if [ -L "$BIN/ferretdb" ] && [[ "$(readlink "$BIN/ferretdb")" == ferretdb-v1.* ]]; then rm -f "$BIN/ferretdb"; fi
echo "$BIN"
