#!/usr/bin/env bash
# Installs a Keycloak server distribution for the tests, once per machine, into
# ${OTAO_CACHE_DIR:-~/.cache/otao}/keycloak-<version> (kept between runs, like ensure-binaries.sh):
#   1. fetches org.keycloak:keycloak-quarkus-dist:<version>:zip from Maven Central with mvn
#      (the distribution's only route here: the machine reaches package registries only);
#   2. unpacks it and runs `kc.sh build --db=dev-file --health-enabled=true` once, so that
#      `kc.sh start --optimized` skips the ~30 s Quarkus augmentation on every later start;
#   3. starts that build once and records a JVM class-data-sharing archive
#      (otao-cds-<jdk>.jsa) that the launcher (packages/test-services/src/keycloak.ts) passes
#      with -XX:SharedArchiveFile, which saves a few seconds per start on this 2-core machine.
# Prints the Keycloak home directory on stdout (progress goes to stderr). Idempotent.
# Usage: ensure-keycloak.sh [version]   (default: $OTAO_KEYCLOAK_VERSION or 26.7.3)
# Needs mvn, unzip (or python3), curl and Java 21+: JAVA_HOME defaults to the Temurin 25 JDK
# (override with OTAO_KEYCLOAK_JAVA_HOME).
set -euo pipefail
VERSION="${1:-${OTAO_KEYCLOAK_VERSION:-26.7.3}}"
CACHE="${OTAO_CACHE_DIR:-$HOME/.cache/otao}"
KC_HOME="$CACHE/keycloak-$VERSION"
log() { echo "[ensure-keycloak] $*" >&2; }

java_home() {
  if [ -n "${OTAO_KEYCLOAK_JAVA_HOME:-}" ]; then echo "$OTAO_KEYCLOAK_JAVA_HOME"; return; fi
  for d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-21-jdk-amd64 \
           /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    if [ -x "$d/bin/java" ]; then echo "$d"; return; fi
  done
  echo "${JAVA_HOME:-}"
}
JH=$(java_home)
[ -x "$JH/bin/java" ] || { log "no Java 21+ found (set OTAO_KEYCLOAK_JAVA_HOME)"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

mkdir -p "$CACHE"
# One installer at a time (parallel Jest workers may all ask on a fresh machine).
exec 9>"$CACHE/keycloak-$VERSION.lock"
flock 9

if [ ! -f "$KC_HOME/.otao-built" ]; then
  tmp=$(mktemp -d "$CACHE/keycloak-dl.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  log "fetching org.keycloak:keycloak-quarkus-dist:$VERSION:zip with mvn (one time, ~190 MB)"
  mvn -q -B dependency:copy \
    "-Dartifact=org.keycloak:keycloak-quarkus-dist:$VERSION:zip" \
    "-DoutputDirectory=$tmp" >&2
  zip="$tmp/keycloak-quarkus-dist-$VERSION.zip"
  [ -f "$zip" ] || { log "mvn did not produce $zip"; exit 1; }
  log "unpacking"
  if command -v unzip >/dev/null; then
    unzip -q "$zip" -d "$tmp/x"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$tmp/x"
  fi
  src=$(find "$tmp/x" -mindepth 1 -maxdepth 1 -type d | head -n1)
  chmod +x "$src"/bin/*.sh
  log "kc.sh build --db=dev-file --health-enabled=true (one time, about 30 s; JAVA_HOME=$JH)"
  JAVA_HOME="$JH" "$src/bin/kc.sh" build --db=dev-file --health-enabled=true >&2
  touch "$src/.otao-built"
  rm -rf "$KC_HOME"
  mv "$src" "$KC_HOME"
  rm -rf "$tmp"
  trap - EXIT
fi

CDS="$KC_HOME/otao-cds-$(basename "$JH").jsa"
if [ ! -f "$CDS" ] && [ ! -f "$CDS.failed" ] && [ "${OTAO_KEYCLOAK_CDS:-1}" != 0 ]; then
  log "recording a class-data-sharing archive (one start and stop of Keycloak, about a minute)"
  work=$(mktemp -d)
  port=$(free_port); mport=$(free_port)
  KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin JAVA_HOME="$JH" \
    JAVA_OPTS_APPEND="-XX:ArchiveClassesAtExit=$work/cds.jsa -XX:TieredStopAtLevel=1 -Xlog:cds=off -Xlog:aot=off" \
    "$KC_HOME/bin/kc.sh" start --optimized "-Dkc.db-url-path=$work" \
    "-Dquarkus.transaction-manager.object-store.directory=$work/transaction-logs" --cache=local --http-enabled=true \
    --hostname-strict=false --http-host=127.0.0.1 "--http-port=$port" "--http-management-port=$mport" \
    >"$work/keycloak.log" 2>&1 &
  pid=$!
  ok=0
  for _ in $(seq 1 720); do
    if curl -sf "http://127.0.0.1:$mport/health/ready" >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -TERM "$pid" 2>/dev/null || true   # kc.sh forwards TERM to java and waits for it
  wait "$pid" 2>/dev/null || true
  if [ "$ok" = 1 ] && [ -s "$work/cds.jsa" ]; then
    mv "$work/cds.jsa" "$CDS.tmp$$" && mv "$CDS.tmp$$" "$CDS"
    log "wrote $CDS"
  else
    log "could not record the archive (Keycloak still works without it; delete $CDS.failed to retry); log: $work/keycloak.log"
    touch "$CDS.failed"
    tail -n 20 "$work/keycloak.log" >&2 || true
  fi
  [ "$ok" = 1 ] && rm -rf "$work"
fi
echo "$KC_HOME"
