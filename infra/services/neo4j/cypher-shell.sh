#!/usr/bin/env bash
# Fetches Neo4j's cypher-shell (org.neo4j:cypher-shell from Maven Central, with its runtime
# dependencies) and caches it for the Neo4j stand-in image, whose contract includes the
# production image's bin/cypher-shell (the exported deployments' migrate-neo4j step runs it):
#
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/cypher-shell-<version>/lib/*.jar
#   run: java -cp '<dir>/lib/*' org.neo4j.shell.Main -a bolt://… -u neo4j -p … [--format plain] [-f file]
#
# The last stdout line is the folder; all other output goes to stderr. Idempotent (a cached fetch
# returns at once), one fetch at a time (flock), a temp folder renamed into place (a killed fetch
# leaves nothing half-written). Needs Maven and Java 17, which infra/services/neo4j/install.sh
# (run first by images.sh) installs. Env: NEO4J_VERSION, HELFY_CACHE_DIR, MVN.
set -euo pipefail

NEO4J_VERSION="${NEO4J_VERSION:-5.26.30}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/cypher-shell-$NEO4J_VERSION"
STAMP="$PREFIX/.installed"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "[cypher-shell] $*" >&2; }
cached() { [[ -f "$STAMP" && -f "$PREFIX/lib/cypher-shell-$NEO4J_VERSION.jar" ]]; }

if cached; then echo "$PREFIX"; exit 0; fi
MVN="${MVN:-$(command -v mvn || true)}"
[[ -n "$MVN" ]] || { log "ERROR: Maven (mvn) not found (infra/services/neo4j/install.sh installs it)"; exit 3; }

mkdir -p "$PREFIX"
exec 9>"$PREFIX/.lock"
flock -n 9 || { log "another fetch is running; waiting for it"; flock 9; }
if cached; then echo "$PREFIX"; exit 0; fi
rm -rf "$PREFIX"/.lib.*
TMPLIB="$(mktemp -d "$PREFIX/.lib.XXXXXX")"
trap 'rm -rf "$TMPLIB"' EXIT

start=$(date +%s)
"$MVN" -B -q -Dstyle.color=never -f "$HERE/cypher-shell/pom.xml" -Dneo4j.version="$NEO4J_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$TMPLIB" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
[[ -f "$TMPLIB/cypher-shell-$NEO4J_VERSION.jar" ]] || { log "ERROR: cypher-shell-$NEO4J_VERSION.jar missing after the fetch"; exit 1; }
log "fetched $(ls "$TMPLIB" | wc -l) jars in $(( $(date +%s) - start ))s"
rm -rf "$PREFIX/lib"
mv "$TMPLIB" "$PREFIX/lib"
chmod 755 "$PREFIX/lib"
echo "$NEO4J_VERSION" > "$STAMP"
echo "$PREFIX"
