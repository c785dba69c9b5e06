#!/usr/bin/env bash
# Installs the service binaries the tests and the local stack run, once per machine, into
# ${OTAO_CACHE_DIR:-~/.cache/otao}/bin (kept between runs, so CI does not rebuild them):
#   nats-server v2.15.2   (go install from the Go module proxy)
#   ferretdb    v1.24.2   (built from the module source; `go install` alone leaves its version
#                          file out and the binary panics at start)
#   versitygw   v1.8.0    (Versity S3 Gateway, the strict S3 server of the tests; go install)
# Prints the bin directory. Needs Go (1.22+).
set -euo pipefail
CACHE="${OTAO_CACHE_DIR:-$HOME/.cache/otao}"
BIN="$CACHE/bin"
mkdir -p "$BIN"
NATS_VERSION=v2.15.2
FERRET_VERSION=v1.24.2
VERSITYGW_VERSION=v1.8.0

log() { echo "[ensure-binaries] $*" >&2; }

if [ ! -x "$BIN/nats-server-$NATS_VERSION" ]; then
  log "installing nats-server $NATS_VERSION (go install, one time)"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "github.com/nats-io/nats-server/v2@$NATS_VERSION" >&2
  mv "$tmp/nats-server" "$BIN/nats-server-$NATS_VERSION"
  rm -rf "$tmp"
fi

if [ ! -x "$BIN/ferretdb-$FERRET_VERSION" ]; then
  log "building FerretDB $FERRET_VERSION (one time, about a minute)"
  dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRET_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -n "$dir" ] || { log "go mod download of FerretDB failed"; exit 1; }
  src=$(mktemp -d)
  cp -r "$dir/." "$src/"
  chmod -R u+w "$src"
  echo "$FERRET_VERSION" > "$src/build/version/version.txt"
  (cd "$src" && go build -o "$BIN/ferretdb-$FERRET_VERSION.tmp" ./cmd/ferretdb) >&2
  mv "$BIN/ferretdb-$FERRET_VERSION.tmp" "$BIN/ferretdb-$FERRET_VERSION"
  rm -rf "$src"
fi

if [ ! -x "$BIN/versitygw-$VERSITYGW_VERSION" ]; then
  log "installing versitygw $VERSITYGW_VERSION (go install, one time, about 1.5 minutes)"
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  mv "$tmp/versitygw" "$BIN/versitygw-$VERSITYGW_VERSION"
  rm -rf "$tmp"
fi

ln -sf "nats-server-$NATS_VERSION" "$BIN/nats-server"
ln -sf "ferretdb-$FERRET_VERSION" "$BIN/ferretdb"
echo "$BIN"
