#!/usr/bin/env bash
# Installs (or finds cached) everything the test suite needs, before vitest starts, so that no
# long first-time build runs inside a test hook's timeout. Idempotent: a cached run takes ~1 s.
#   the app templates' npm dependencies, PostgreSQL 15 (apt) and TimescaleDB for it (built from the shipped source), Debian's chromium for the browser tests (apt), Neo4j 5.26 (Maven Central jars), Temporal server + temporal-sql-tool
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

# apt-based installs first, one apt at a time (templates, PostgreSQL, chromium, the linters, the
# Docker engine's packages); then two branches in parallel:
#   - the Temporal `go install` (CPU-bound, ~5 min cold), then the two Temporal stand-in images,
#     which need its binaries (the admin-tools one also builds the `temporal` CLI, ~3 min cold);
#   - TimescaleDB built for the PostgreSQL installed above (native/timescaledb/install.sh, the
#     script helfy runs on first use; CPU-bound, ~5 min cold), Neo4j's jars (Maven), the other
#     stand-in images (mostly disk on vfs, ~4 min cold) and compose v2 (a go build, ~2 min cold).
# images.sh takes its own lock, so the two branches' image builds never overlap; the last, full
# images.sh finds every image cached and writes images.env. One after another these steps took
# 931 s in a cold run (Temporal 316 s, images 497 s, compose 118 s).
step templates bash templates.sh
step postgres env PG_PLAIN=1 bash services/postgres/install.sh
step browser bash browser.sh
step ci-linters bash actionlint.sh
step schemathesis bash schemathesis.sh
step kubernetes-validate bash kubernetes-validate.sh
docker=0
if [ "${HELFY_SKIP_DOCKER:-0}" != 1 ] && [ -f docker/images.sh ]; then
  docker=1
  step docker-engine bash -c 'bash docker/engine.sh ensure && bash docker/engine.sh start && bash docker/engine.sh status'
fi

{
  step temporal bash services/temporal/install.sh
  if [ "$docker" = 1 ]; then step docker-images-temporal bash docker/images.sh temporal temporal-admin-tools; fi
} &
temporal=$!
{
  step timescaledb bash services/postgres/install.sh
  step neo4j bash services/neo4j/install.sh
  if [ "$docker" = 1 ]; then
    step docker-images-stores bash docker/images.sh postgres node neo4j
    step compose-v2 bash docker/compose-v2.sh
  fi
} &
other=$!
fail=0
wait "$temporal" || fail=1
wait "$other" || fail=1
[ "$fail" = 0 ] || exit 1

if [ "$docker" = 1 ]; then step docker-images bash docker/images.sh; fi
