#!/usr/bin/env bash
# Installs (or finds cached) everything the test suite needs, before vitest starts, so that no
# long first-time build runs inside a test hook's timeout. Idempotent: a cached run takes ~1 s.
#   the app templates' npm dependencies, PostgreSQL 15 (apt), Debian's chromium for the browser tests (apt), Neo4j 5.26 (Maven Central jars), Temporal server + temporal-sql-tool
#   (go install), and — unless HELFY_SKIP_DOCKER=1 — a Docker engine and the stand-in images.
# Cache: ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}. Output: one line per step on stderr.
set -euo pipefail
cd "$(dirname "$0")"

step() {
  local name=$1; shift
  local t0=$SECONDS
  local log; log=$(mktemp)
  if "$@" >"$log" 2>&1; then
    echo "provision: $name ready ($((SECONDS - t0)) s): $(tail -n 1 "$log")" >&2
    rm -f "$log"
  else
    local rc=$?
    echo "provision: $name FAILED (exit $rc) — last lines:" >&2
    tail -n 40 "$log" >&2
    rm -f "$log"
    return "$rc"
  fi
}

# apt-based installs first (one apt at a time), then the two slow independent ones in parallel.
step templates bash templates.sh
step postgres bash services/postgres/install.sh
step browser bash browser.sh
step ci-linters bash actionlint.sh
step neo4j bash services/neo4j/install.sh &
neo=$!
step temporal bash services/temporal/install.sh &
tmp=$!
fail=0
wait "$neo" || fail=1
wait "$tmp" || fail=1
[ "$fail" = 0 ] || exit 1

if [ "${HELFY_SKIP_DOCKER:-0}" != 1 ] && [ -f docker/images.sh ]; then
  step docker-engine bash -c 'bash docker/engine.sh ensure && bash docker/engine.sh start && bash docker/engine.sh status'
  step docker-images bash docker/images.sh
  step compose-v2 bash docker/compose-v2.sh
fi
