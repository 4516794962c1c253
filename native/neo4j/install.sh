#!/usr/bin/env bash
# Installs the Neo4j Community server jars (Maven Central, via Maven) into the helfy cache:
#
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/neo4j-<version>/lib/*.jar   + .installed stamp
#
# The ONE way helfy installs Neo4j: the native runtime (src/runtime/native/locate.ts) runs this
# script, and infra/services/neo4j/install.sh (tests, Docker stand-in images) apt-installs Java
# and Maven when missing, then runs it too, so both share one cache.
#
# Needs Java 17+ and Maven (mvn) on PATH, or MVN / JAVA_HOME. Progress goes to stderr; the last
# line on stdout is the install directory. Idempotent: a cached install returns at once; two
# concurrent runs are serialised with flock and the jars appear atomically (temp dir + rename).
#
# Env: NEO4J_VERSION (default below), HELFY_CACHE_DIR, MVN.
# Exit codes: 0 installed/cached, 3 Maven missing, 1 anything else.
set -euo pipefail

NEO4J_VERSION="${NEO4J_VERSION:-5.26.30}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/neo4j-$NEO4J_VERSION"
STAMP="$PREFIX/.installed"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "[neo4j-install] $*" >&2; }

cached() { [[ -f "$STAMP" && -f "$PREFIX/lib/neo4j-$NEO4J_VERSION.jar" ]]; }

if cached; then
  echo "$PREFIX"
  exit 0
fi

MVN="${MVN:-$(command -v mvn || true)}"
if [[ -z "$MVN" ]]; then
  log "ERROR: Maven (mvn) not found: install Maven (e.g. apt-get install maven), or set NEO4J_HOME to a Neo4j 5.26 installation"
  exit 3
fi

mkdir -p "$PREFIX"
exec 9>"$PREFIX/.lock"
if ! flock -n 9; then
  log "another install of Neo4j $NEO4J_VERSION is running; waiting for it"
  flock 9
fi
if cached; then echo "$PREFIX"; exit 0; fi

TMPLIB="$(mktemp -d "$PREFIX/.lib.XXXXXX")"
trap 'rm -rf "$TMPLIB"' EXIT

log "fetching org.neo4j:neo4j:$NEO4J_VERSION and its runtime dependencies from Maven Central"
start=$(date +%s)
# -q: only errors; the copy is quick with a warm ~/.m2 (about 12 s) and about 25 s from empty.
"$MVN" -B -q -Dstyle.color=never -f "$HERE/pom.xml" \
  -Dneo4j.version="$NEO4J_VERSION" \
  dependency:copy-dependencies \
  -DincludeScope=runtime \
  -DoutputDirectory="$TMPLIB" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
log "fetched $(ls "$TMPLIB" | wc -l) jars in $(( $(date +%s) - start ))s"

if [[ ! -f "$TMPLIB/neo4j-$NEO4J_VERSION.jar" ]]; then
  log "ERROR: neo4j-$NEO4J_VERSION.jar missing after mvn dependency:copy-dependencies"
  exit 1
fi

rm -rf "$PREFIX/lib"
mv "$TMPLIB" "$PREFIX/lib"
chmod 755 "$PREFIX/lib"
echo "$NEO4J_VERSION" > "$STAMP"
log "installed to $PREFIX"
echo "$PREFIX"
