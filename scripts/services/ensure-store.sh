#!/usr/bin/env bash
# Installs the store OTAO runs on here, once per machine: FerretDB v2.5.0 (MongoDB wire protocol) on
# PostgreSQL with the DocumentDB extension (FerretDB's fork, v0.106.0-ferretdb-2.5.0), pg_cron 1.6.3
# and pgvector 0.8.0, all built from the sources in third_party/ (no download needed but Debian's
# packages and, for FerretDB, the Go toolchain go1.24.6 from the Go proxy, with the vendored source as
# the offline fallback).
#
#   - Debian packages: PostgreSQL ${OTAO_PG_MAJOR:-15} server, its headers, rum, PostGIS and the
#     libraries DocumentDB links (installed with apt-get when missing; root or sudo). DocumentDB
#     supports PostgreSQL 15-17; the project verifies 15 on Debian 12 (CI sets OTAO_PG_MAJOR=16 on
#     Ubuntu 24.04, whose archive has no 15). The cluster a Debian/Ubuntu server package creates
#     and starts on 5432 is not used: OTAO runs its own clusters on their own ports.
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
case "$PG_MAJOR" in 15 | 16 | 17) ;; *) echo "[ensure-store] OTAO_PG_MAJOR=$PG_MAJOR: DocumentDB supports PostgreSQL 15, 16 and 17" >&2; exit 1 ;; esac
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
}

build_extensions() {
  log "building DocumentDB $DOCUMENTDB_VERSION, pg_cron $PG_CRON_VERSION, pgvector $PGVECTOR_VERSION for PostgreSQL $PG_MAJOR (one time, about 2 minutes)"
  local w
  w=$(mktemp -d)
  mkdir -p "$w/pc" "$w/pg_cron" "$w/pgvector" "$w/documentdb" "$w/stage"
  # Debian's libintelrdfpmath-dev ships no pkg-config file; DocumentDB's Makefile asks for one.
  local multiarch
  multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
  cat > "$w/pc/intelmathlib.pc" <<PC
prefix=/usr
libdir=\${prefix}/lib/$multiarch
includedir=\${prefix}/include
Name: intelmathlib
Description: Intel RDFP math library (Debian libintelrdfpmath-dev)
Version: 2.0u2
Cflags: -I\${includedir}
Libs: -L\${libdir} -lbidgcc000
PC
  tar -xzf "$TP/pg_cron/pg_cron-$PG_CRON_VERSION.tar.gz" -C "$w/pg_cron"
  tar -xzf "$TP/pgvector/pgvector-$PGVECTOR_VERSION.tar.gz" -C "$w/pgvector"
  tar -xzf "$TP/documentdb/documentdb-$DOCUMENTDB_VERSION.tar.gz" -C "$w/documentdb"
  local MK=(make -s "-j$(nproc)" with_llvm=no "PG_CONFIG=$PGBIN/pg_config")
  export PKG_CONFIG_PATH="$w/pc"
  ( "${MK[@]}" -C "$w/pg_cron" && "${MK[@]}" -C "$w/pg_cron" install DESTDIR="$w/stage" ) >&2
  ( "${MK[@]}" -C "$w/pgvector" OPTFLAGS= && "${MK[@]}" -C "$w/pgvector" OPTFLAGS= install DESTDIR="$w/stage" ) >&2
  # Debian 12's libbson 1.23 lacks BSON_SUBTYPE_SENSITIVE (an enum member since 1.24, as in Ubuntu
  # 24.04's 1.26): define it only when the header does not, or the enum would not compile.
  local COPT='-Wno-error=switch' bson_inc
  bson_inc=$(pkg-config --variable=includedir libbson-1.0 2>/dev/null || echo /usr/include)
  grep -rqs BSON_SUBTYPE_SENSITIVE "$bson_inc/libbson-1.0" || COPT="-DBSON_SUBTYPE_SENSITIVE=0x08 $COPT"
  log "libbson $(pkg-config --modversion libbson-1.0 2>/dev/null || echo '?'); COPT=$COPT"
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
  # Plain -R, not -a: -a would give /, /usr, … the owner and mode of the staging directories (the
  # user's, when run with sudo). With -R existing directories keep theirs and new files are root's;
  # --remove-destination gives a replaced library a new inode, so running servers keep the old one.
  as_root cp -R --remove-destination "$STAGE/." /
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
    # Offline, go1.24.6 can only come from Go's module cache; a local Go 1.24 does as well.
    local toolchain=$FERRETDB_GO
    case "$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null)" in go1.24.*) toolchain=local ;; esac
    (cd "$tmp/src" && GOTOOLCHAIN=$toolchain GOFLAGS=-mod=vendor go build -o "$tmp/ferretdb" ./cmd/ferretdb) >&2
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
