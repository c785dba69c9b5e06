#!/usr/bin/env bash
# Installs the store OTAO runs on here, once per machine: FerretDB v2.5.0 (MongoDB wire protocol) on
# PostgreSQL with the DocumentDB extension (FerretDB's fork, v0.106.0-ferretdb-2.5.0), pg_cron 1.6.3
# and pgvector 0.8.0, all built from the sources in third_party/ (no download needed but Debian's
# packages and, for FerretDB, the Go toolchain go1.24.6 from the Go proxy, with the vendored source as
# the offline fallback).
#
#   - Debian packages: PostgreSQL ${OTAO_PG_MAJOR:-15} server, its headers, rum, PostGIS and the
#     libraries DocumentDB links (installed with apt-get when missing; root or sudo).
#     Debian's postgresql-NN-cron must NOT be installed (CREATE EXTENSION documentdb then fails).
#   - The extensions are built once into ~/.cache/otao/store/<version>-pgNN (a DESTDIR staging
#     tree, kept between runs and by CI's cache) and copied into PostgreSQL's directories.
#   - FerretDB goes to ~/.cache/otao/bin/ferretdb-v2.5.0 (symlink ferretdb2).
#
# Prints the bin directory. Idempotent and quick when everything is in place.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
TP="$root/third_party"
CACHE="${OTAO_CACHE_DIR:-$HOME/.cache/otao}"
BIN="$CACHE/bin"
PG_MAJOR="${OTAO_PG_MAJOR:-15}"
PGBIN="/usr/lib/postgresql/$PG_MAJOR/bin"
DOCUMENTDB_VERSION=v0.106.0-ferretdb-2.5.0
PG_CRON_VERSION=v1.6.3
PGVECTOR_VERSION=v0.8.0
FERRETDB_VERSION=v2.5.0
FERRETDB_GO=go1.24.6 # FerretDB v2.5.0 does not compile with Go >= 1.25
STAGE="$CACHE/store/documentdb-$DOCUMENTDB_VERSION-pg$PG_MAJOR"

log() { echo "[ensure-store] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else log "needs root (or sudo) for: $*"; exit 1; fi; }

PACKAGES=(build-essential pkg-config "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" libbson-dev
  libintelrdfpmath-dev libpcre2-dev libkrb5-dev systemtap-sdt-dev "postgresql-$PG_MAJOR-rum" "postgresql-$PG_MAJOR-postgis-3")

ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if dpkg-query -W -f='${Status}' "postgresql-$PG_MAJOR-cron" 2>/dev/null | grep -q 'install ok installed'; then
    log "Debian's postgresql-$PG_MAJOR-cron is installed: it breaks CREATE EXTENSION documentdb (pg_cron $PG_CRON_VERSION is built here instead)."
    log "remove it first: apt-get remove postgresql-$PG_MAJOR-cron"
    exit 1
  fi
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    as_root apt-get update -q >&2
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
  # Debian starts a default cluster on 5432 when it installs the server; OTAO runs its own clusters.
}

build_extensions() {
  log "building DocumentDB $DOCUMENTDB_VERSION, pg_cron $PG_CRON_VERSION, pgvector $PGVECTOR_VERSION for PostgreSQL $PG_MAJOR (one time, about 2 minutes)"
  local w
  w=$(mktemp -d)
  mkdir -p "$w/pc" "$w/pg_cron" "$w/pgvector" "$w/documentdb" "$w/stage"
  # Debian's libintelrdfpmath-dev ships no pkg-config file; DocumentDB's Makefile asks for one.
  cat > "$w/pc/intelmathlib.pc" <<'PC'
prefix=/usr
libdir=${prefix}/lib/x86_64-linux-gnu
includedir=${prefix}/include
Name: intelmathlib
Description: Intel RDFP math library (Debian libintelrdfpmath-dev)
Version: 2.0u2
Cflags: -I${includedir}
Libs: -L${libdir} -lbidgcc000
PC
  tar -xzf "$TP/pg_cron/pg_cron-$PG_CRON_VERSION.tar.gz" -C "$w/pg_cron"
  tar -xzf "$TP/pgvector/pgvector-$PGVECTOR_VERSION.tar.gz" -C "$w/pgvector"
  tar -xzf "$TP/documentdb/documentdb-$DOCUMENTDB_VERSION.tar.gz" -C "$w/documentdb"
  local MK=(make -s "-j$(nproc)" with_llvm=no "PG_CONFIG=$PGBIN/pg_config")
  export PKG_CONFIG_PATH="$w/pc"
  ( "${MK[@]}" -C "$w/pg_cron" && "${MK[@]}" -C "$w/pg_cron" install DESTDIR="$w/stage" ) >&2
  ( "${MK[@]}" -C "$w/pgvector" OPTFLAGS= && "${MK[@]}" -C "$w/pgvector" OPTFLAGS= install DESTDIR="$w/stage" ) >&2
  # Debian's libbson 1.23 lacks BSON_SUBTYPE_SENSITIVE (1.24+).
  local COPT='-DBSON_SUBTYPE_SENSITIVE=0x08 -Wno-error=switch'
  for d in pg_documentdb_core pg_documentdb internal/pg_documentdb_extended_rum; do
    ( "${MK[@]}" -C "$w/documentdb/$d" COPT="$COPT" && "${MK[@]}" -C "$w/documentdb/$d" COPT="$COPT" install DESTDIR="$w/stage" ) >/dev/null
  done
  rm -rf "$STAGE"
  mkdir -p "$(dirname "$STAGE")"
  mv "$w/stage" "$STAGE"
  rm -rf "$w"
}

install_extensions() {
  local control
  control="$(cd "$STAGE" && find . -name documentdb.control | head -1)"
  [ -n "$control" ] || { log "the staged build has no documentdb.control"; exit 1; }
  if [ -f "/$control" ] && [ -f "/$control.otao" ] && cmp -s "$STAGE/$control" "/$control" && [ "$(cat "/$control.otao")" = "$DOCUMENTDB_VERSION" ]; then
    return
  fi
  log "installing the extensions into PostgreSQL $PG_MAJOR's directories"
  as_root cp -a "$STAGE/." /
  echo "$DOCUMENTDB_VERSION" | as_root tee "/$control.otao" >/dev/null
}

ensure_ferretdb() {
  [ -x "$BIN/ferretdb-$FERRETDB_VERSION" ] && return
  log "installing FerretDB $FERRETDB_VERSION (one time, about a minute)"
  mkdir -p "$BIN"
  local tmp
  tmp=$(mktemp -d)
  if ! GOBIN="$tmp" GOTOOLCHAIN=$FERRETDB_GO GOFLAGS=-mod=mod go install "github.com/FerretDB/FerretDB/v2/cmd/ferretdb@$FERRETDB_VERSION" >&2; then
    log "go install failed; building from the vendored source in third_party/ferretdb"
    mkdir -p "$tmp/src"
    tar -xzf "$TP/ferretdb/ferretdb-$FERRETDB_VERSION-src+vendor.tgz" -C "$tmp/src"
    (cd "$tmp/src" && GOTOOLCHAIN=$FERRETDB_GO GOFLAGS=-mod=vendor go build -o "$tmp/ferretdb" ./cmd/ferretdb) >&2
  fi
  "$tmp/ferretdb" --version >/dev/null
  mv "$tmp/ferretdb" "$BIN/ferretdb-$FERRETDB_VERSION"
  rm -rf "$tmp"
}

ensure_packages
[ -f "$STAGE/.complete" ] || { build_extensions; touch "$STAGE/.complete"; }
install_extensions
ensure_ferretdb
ln -sf "ferretdb-$FERRETDB_VERSION" "$BIN/ferretdb2"
echo "$PGBIN" > "$BIN/postgres-bin-dir"
echo "$BIN"
