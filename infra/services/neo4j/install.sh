#!/usr/bin/env bash
# Installs Neo4j Community server jars (from Maven Central, via Maven) and caches them.
#
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/neo4j-<version>/lib/*.jar
#
# There is no neo4j tarball reachable here, so there is no bin/neo4j script: run
#   java -cp '<dir>/lib/*' org.neo4j.cli.AdminTool dbms set-initial-password <pw>   (env NEO4J_HOME, NEO4J_CONF)
#   java -cp '<dir>/lib/*' org.neo4j.server.CommunityEntryPoint --home-dir=<home> --config-dir=<conf>
# (tests/support/services/neo4j.ts does exactly that).
#
# Needs Java 17 (5.26 is the last Neo4j line that runs on 17) and Maven; both are
# apt-installed if missing. The fetch itself is native/neo4j/install.sh, the same
# script helfy's native runtime runs (one way to install, one cache). The last
# line on stdout is the install directory; all other output goes to stderr.
# Idempotent: a cached install returns immediately.
#
# Env: NEO4J_VERSION (default below), HELFY_CACHE_DIR.
set -euo pipefail

NEO4J_VERSION="${NEO4J_VERSION:-5.26.30}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/neo4j-$NEO4J_VERSION"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SHARED="$HERE/../../../native/neo4j/install.sh"

log() { echo "[neo4j-install] $*" >&2; }

if [[ -f "$PREFIX/.installed" && -f "$PREFIX/lib/neo4j-$NEO4J_VERSION.jar" ]]; then
  echo "$PREFIX"
  exit 0
fi

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "$@" >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends "$@" >&2
  fi
}

JAVA_BIN="$(command -v java || true)"
if [[ -z "$JAVA_BIN" || "$(java_major "$JAVA_BIN")" -lt 17 ]]; then
  log "installing openjdk-17-jre-headless"
  apt_install openjdk-17-jre-headless
fi
if ! command -v mvn >/dev/null 2>&1; then
  log "installing maven"
  apt_install maven
fi
log "java $(java_major "$(command -v java)"), $(mvn -B -v -Dstyle.color=never 2>/dev/null | head -n1 | sed "s/\x1b\[[0-9;]*m//g")"

NEO4J_VERSION="$NEO4J_VERSION" HELFY_CACHE_DIR="$CACHE_ROOT" exec bash "$SHARED"
