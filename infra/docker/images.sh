#!/usr/bin/env bash
# infra/docker/images.sh [--env] [--force] [IMAGE...]
#
# Builds and caches the local images the Helfy stack needs on a machine that
# cannot pull from any container registry (see README.md in this folder):
#
#   base                  helfy-base:bookworm  (debootstrap minbase + docker import)
#   postgres              helfy-standin/postgres:pg16-<hash>    ~ timescale/timescaledb-ha:pg16
#   node                  helfy-standin/node:20-<hash>          ~ node:20 (Node base image)
#   neo4j                 helfy-standin/neo4j:5.26.30-<hash>    ~ neo4j:5.26-community
#   temporal              helfy-standin/temporal:<ver>-<hash>   ~ temporalio/server
#   temporal-admin-tools  helfy-standin/temporal-admin-tools:<ver>-<hash> ~ temporalio/admin-tools
#
# <hash> covers everything an image is made from (its recipe folder under
# standins/, the base image's hash, the copied artifacts), so an image is
# rebuilt only when one of those changes; an existing tag means "cached".
# Each stand-in is also tagged with a short alias (e.g. helfy-standin/postgres:pg16).
#
# Options:
#   --env    print NAME=IMAGE lines (HELFY_POSTGRES_IMAGE=...) on stdout when done
#   --force  rebuild even when the tag exists
# IMAGE defaults to all. The summary goes to stderr; the env lines are also
# written to $HELFY_CACHE_DIR/docker/images.env.
#
# Needs a running engine (engine.sh ensure && engine.sh start) and root for
# debootstrap. Env: HELFY_CACHE_DIR, DOCKER (client), HELFY_DEBIAN_MIRROR,
# HELFY_DEBIAN_SECURITY_MIRROR, NODE (node binary to copy, default `which node`),
# HELFY_STANDIN_TEMPORAL_CLI=0 (admin-tools without the `temporal` CLI),
# HELFY_TEMPORAL_CLI_VERSION, HELFY_KEEP_STALE_IMAGES=1 (keep older hashed tags).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STANDINS="$HERE/standins"
CACHE_DIR="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
STATE="$CACHE_DIR/docker"
DOCKER="${DOCKER:-docker}"
MIRROR="${HELFY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${HELFY_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# The classic builder: the buildx plugin that BuildKit needs in a 23+ CLI is
# not installed here, and the classic builder works with any CLI/daemon pair.
export DOCKER_BUILDKIT=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

ALL_IMAGES=(base postgres node neo4j temporal temporal-admin-tools)
PRINT_ENV=0
FORCE=0
WANT=()
for arg; do
  case "$arg" in
    --env) PRINT_ENV=1 ;;
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) WANT+=("$arg") ;;
  esac
done
((${#WANT[@]})) || WANT=("${ALL_IMAGES[@]}")
# --force rebuilds the base image only when it is asked for (explicitly or by
# building everything); `--force postgres` rebuilds just postgres.
FORCE_BASE=0
if ((FORCE)) && [[ " ${WANT[*]} " == *" base "* ]]; then FORCE_BASE=1; fi

mkdir -p "$STATE/rootfs" "$STATE/build" "$STATE/artifacts"
# One images.sh at a time per cache dir (parallel test workers).
exec 8>"$STATE/images.lock"
flock 8

log() { printf '[images] %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# hash_inputs ITEM...  ITEM = a directory (file names + contents), a file
# (contents) or a literal string prefixed with "str:". Prints 12 hex chars.
hash_inputs() {
  local item
  for item; do
    if [[ "$item" == str:* ]]; then
      printf 'S %s\n' "${item#str:}"
    elif [[ -d "$item" ]]; then
      (cd "$item" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z |
        while IFS= read -r -d '' f; do
          if [[ -L "$f" ]]; then printf 'L %s %s\n' "$f" "$(readlink "$f")"
          else printf 'F %s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -c1-64)"; fi
        done)
    elif [[ -f "$item" ]]; then
      printf 'F %s\n' "$(sha256sum <"$item" | cut -c1-64)"
    else
      echo "hash_inputs: no such input: $item" >&2
      return 1
    fi
  done | sha256sum | cut -c1-12
}

image_exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

image_size() {
  "$DOCKER" image inspect -f '{{.Size}}' "$1" 2>/dev/null | awk '{ printf "%.0f MB", $1 / 1000000 }'
}

declare -A RESULT_TAG RESULT_STATE RESULT_SECS RESULT_SIZE
FAILED=()

# prune_stale NAME TAG: remove older hashed tags of the same stand-in (vfs keeps
# full copies of every layer). Images still used by a container stay.
prune_stale() {
  local name="$1" keep="$2" repo t
  repo="${keep%%:*}"
  while IFS= read -r t; do
    [[ -n "$t" && "$t" != "$keep" && "$t" =~ -[0-9a-f]{12}$ ]] || continue
    "$DOCKER" rmi "$t" >/dev/null 2>&1 && log "removed stale $t" || true
  done < <("$DOCKER" image ls --filter "label=dev.helfy.standin=$name" --format '{{.Repository}}:{{.Tag}}' "$repo" 2>/dev/null)
}

record() { # name tag state secs
  RESULT_TAG[$1]="$2"
  RESULT_STATE[$1]="$3"
  RESULT_SECS[$1]="$4"
  RESULT_SIZE[$1]="$(image_size "$2")"
  [[ "$3" != built || "${HELFY_KEEP_STALE_IMAGES:-0}" == 1 ]] || prune_stale "$1" "$2"
}

# docker_build NAME TAG CONTEXT HASH [--build-arg ...]
docker_build() {
  local name="$1" tag="$2" ctx="$3" hash="$4"
  shift 4
  local logf="$STATE/build/$name.log" old_id new_id
  old_id="$("$DOCKER" image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  log "building $tag (log: $logf)"
  if ! "$DOCKER" build --network=host --force-rm \
    --label "dev.helfy.standin=$name" --label "dev.helfy.recipe-hash=$hash" \
    "$@" -t "$tag" "$ctx" >"$logf" 2>&1; then
    log "build of $tag failed; last lines of $logf:"
    tail -n 30 "$logf" >&2
    return 1
  fi
  # --force on an existing tag leaves the previous image untagged: drop it
  # unless a container or a child image still uses it.
  new_id="$("$DOCKER" image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
  if [[ -n "$old_id" && "$old_id" != "$new_id" ]]; then
    "$DOCKER" rmi "$old_id" >/dev/null 2>&1 || true
  fi
}

# fresh_context NAME -> prints a new build-context dir holding the recipe files.
fresh_context() {
  local ctx="$STATE/build/$1.ctx"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -a "$STANDINS/$1/." "$ctx/"
  printf '%s\n' "$ctx"
}

# ---------------------------------------------------------------- base
BASE_HASH=""
BASE_TAG=""
build_base() {
  BASE_HASH="$(hash_inputs "$STANDINS/base" "str:bookworm minbase $MIRROR $SECURITY_MIRROR")"
  BASE_TAG="helfy-base:bookworm-$BASE_HASH"
  local t0 state
  t0="$(now)"
  if ((FORCE_BASE == 0)) && image_exists "$BASE_TAG"; then
    state=cached
  else
    local tarball="$STATE/rootfs/bookworm-minbase-$BASE_HASH.tar"
    if [[ ! -s "$tarball" ]]; then
      command -v debootstrap >/dev/null || { log "debootstrap missing: run engine.sh ensure"; return 1; }
      local dir="$STATE/rootfs/bookworm-minbase-$BASE_HASH.d"
      rm -rf "$dir"
      log "debootstrap --variant=minbase bookworm (log: $STATE/rootfs/debootstrap.log)"
      if ! debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$STATE/rootfs/debootstrap.log" 2>&1; then
        log "debootstrap failed:"
        tail -n 20 "$STATE/rootfs/debootstrap.log" >&2
        return 1
      fi
      "$STANDINS/base/prepare-rootfs.sh" "$dir" "$MIRROR" "$SECURITY_MIRROR"
      tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
      mv "$tarball.tmp" "$tarball"
      rm -rf "$dir"
      # Keep only the current rootfs tarball.
      find "$STATE/rootfs" -maxdepth 1 -name 'bookworm-minbase-*.tar' ! -name "${tarball##*/}" -delete
    fi
    log "docker import $tarball"
    "$DOCKER" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change "LABEL dev.helfy.standin=base dev.helfy.recipe-hash=$BASE_HASH" \
      "$tarball" "$BASE_TAG" >/dev/null
    state=built
  fi
  "$DOCKER" tag "$BASE_TAG" helfy-base:bookworm
  record base "$BASE_TAG" "$state" "$(elapsed "$t0")"
}

# ---------------------------------------------------------------- postgres
# Real TimescaleDB: the extension files of the build native/timescaledb/install.sh made for the
# machine's PostgreSQL 15 (infra/services/postgres/install.sh), on the same Debian package version
# of postgresql-15 in the image (an extension built against other headers is not to be trusted).
build_postgres() {
  local hash tag t0 state=cached tsbin tstree debver tsfiles
  tsbin="$(bash "$REPO/infra/services/postgres/install.sh" | tail -n 1)" || { log "TimescaleDB build failed"; return 1; }
  tstree="$(cd "$tsbin/../../../.." && pwd)"
  debver="$(dpkg-query -W -f='${Version}' postgresql-15)"
  tsfiles="$STATE/build/postgres-timescaledb"
  rm -rf "$tsfiles"
  mkdir -p "$tsfiles/lib" "$tsfiles/extension"
  cp -a "$tstree"/lib/postgresql/15/lib/timescaledb*.so "$tsfiles/lib/"
  cp -a "$tstree"/share/postgresql/15/extension/timescaledb* "$tsfiles/extension/"
  hash="$(hash_inputs "$STANDINS/postgres" "str:$BASE_HASH" "str:postgresql-15=$debver" "$tsfiles")"
  tag="helfy-standin/postgres:pg16-$hash"
  t0="$(now)"
  if ((FORCE == 1)) || ! image_exists "$tag"; then
    local ctx
    ctx="$(fresh_context postgres)"
    cp -a "$tsfiles" "$ctx/timescaledb"
    docker_build postgres "$tag" "$ctx" "$hash" --build-arg "BASE_IMAGE=$BASE_TAG" --build-arg "PG_DEB_VERSION=$debver" || return 1
    rm -rf "$ctx"
    state=built
  fi
  "$DOCKER" tag "$tag" helfy-standin/postgres:pg16
  record postgres "$tag" "$state" "$(elapsed "$t0")"
}

# ---------------------------------------------------------------- node
build_node() {
  local node_bin node_version npm_dir hash tag t0 state=cached
  node_bin="$(readlink -f "${NODE:-$(command -v node)}")"
  node_version="$("$node_bin" --version)"
  node_version="${node_version#v}"
  # npm and corepack as installed next to this node (…/lib/node_modules).
  npm_dir="$(cd "$(dirname "$node_bin")/../lib/node_modules" 2>/dev/null && pwd || true)"
  # The machine's own trust anchors (what update-ca-certificates adds to Debian's bundle, e.g. a
  # TLS-inspecting egress proxy's CA): npm inside an image build must trust what the host trusts,
  # or `npm ci` fails with SELF_SIGNED_CERT_IN_CHAIN. Node reads them through NODE_EXTRA_CA_CERTS.
  local ca_dir="${HELFY_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}" extra_ca
  extra_ca="$(find "$ca_dir" -name '*.crt' -type f 2>/dev/null | LC_ALL=C sort | xargs -r cat)"
  hash="$(hash_inputs "$STANDINS/node" "str:$BASE_HASH" "$node_bin" \
    "str:$(cat "$npm_dir/npm/package.json" "$npm_dir/corepack/package.json" 2>/dev/null | sha256sum)" \
    "str:$(printf '%s' "$extra_ca" | sha256sum)")"
  tag="helfy-standin/node:${node_version%%.*}-$hash"
  t0="$(now)"
  if ((FORCE == 1)) || ! image_exists "$tag"; then
    local ctx
    ctx="$(fresh_context node)"
    local r="$ctx/rootfs/usr/local"
    mkdir -p "$r/bin" "$r/lib/node_modules"
    install -m 755 "$node_bin" "$r/bin/node"
    install -m 755 "$STANDINS/node/docker-entrypoint.sh" "$r/bin/docker-entrypoint.sh"
    local m
    for m in npm corepack; do
      [[ -d "$npm_dir/$m" ]] && cp -a "$npm_dir/$m" "$r/lib/node_modules/"
    done
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/bin/npx"
    [[ -d "$r/lib/node_modules/corepack" ]] && ln -s ../lib/node_modules/corepack/dist/corepack.js "$r/bin/corepack"
    # Always present (empty when the machine adds no CA): Node warns about a missing file, not an empty one.
    mkdir -p "$r/share/ca-certificates"
    printf '%s' "$extra_ca" >"$r/share/ca-certificates/helfy-machine-ca.crt"
    docker_build node "$tag" "$ctx" "$hash" --build-arg "BASE_IMAGE=$BASE_TAG" \
      --build-arg "NODE_VERSION=$node_version" || return 1
    rm -rf "$ctx"
    state=built
  fi
  "$DOCKER" tag "$tag" "helfy-standin/node:${node_version%%.*}"
  record node "$tag" "$state" "$(elapsed "$t0")"
}

# ---------------------------------------------------------------- neo4j
# The jars come from infra/services/neo4j/install.sh (Maven Central); its last
# stdout line is the install dir.
NEO4J_HOME_DIR=""
CYPHER_SHELL_DIR=""
neo4j_artifacts() {
  [[ -n "$NEO4J_HOME_DIR" ]] && return 0
  local script="$REPO/infra/services/neo4j/install.sh"
  if [[ ! -x "$script" && ! -f "$script" ]]; then
    log "neo4j: $script not found"
    return 1
  fi
  log "neo4j: running infra/services/neo4j/install.sh (log: $STATE/build/neo4j-install.log)"
  local out
  if ! out="$(bash "$script" 2>"$STATE/build/neo4j-install.log")"; then
    log "neo4j install failed:"
    tail -n 20 "$STATE/build/neo4j-install.log" >&2
    return 1
  fi
  NEO4J_HOME_DIR="$(printf '%s\n' "$out" | tail -n 1)"
  [[ -d "$NEO4J_HOME_DIR" ]] || { log "neo4j install printed no dir: '$NEO4J_HOME_DIR'"; return 1; }
  # cypher-shell, part of the production image's contract (the exports' migrate-neo4j step runs it).
  if ! out="$(bash "$REPO/infra/services/neo4j/cypher-shell.sh" 2>>"$STATE/build/neo4j-install.log")"; then
    log "cypher-shell fetch failed:"
    tail -n 20 "$STATE/build/neo4j-install.log" >&2
    return 1
  fi
  CYPHER_SHELL_DIR="$(printf '%s\n' "$out" | tail -n 1)"
}

build_neo4j() {
  neo4j_artifacts || return 1
  local ver hash tag t0 state=cached
  ver="$(basename "$NEO4J_HOME_DIR")"
  ver="${ver#neo4j-}"
  # The install dir is versioned and immutable: hash its file list and sizes.
  hash="$(hash_inputs "$STANDINS/neo4j" "str:$BASE_HASH" \
    "str:$(cd "$NEO4J_HOME_DIR" && find . -type f ! -name '.*' -printf '%p %s\n' | LC_ALL=C sort | sha256sum)" \
    "str:$(cd "$CYPHER_SHELL_DIR" && find . -type f ! -name '.*' -printf '%p %s\n' | LC_ALL=C sort | sha256sum)")"
  tag="helfy-standin/neo4j:$ver-$hash"
  t0="$(now)"
  if ((FORCE == 1)) || ! image_exists "$tag"; then
    local ctx
    ctx="$(fresh_context neo4j)"
    local h="$ctx/neo4j-home"
    mkdir -p "$h"
    cp -a "$STANDINS/neo4j/bin" "$STANDINS/neo4j/conf" "$h/"
    cp -a "$NEO4J_HOME_DIR/lib" "$h/lib"
    mkdir -p "$ctx/cypher-shell"
    cp -a "$CYPHER_SHELL_DIR/lib" "$ctx/cypher-shell/lib"
    mkdir -p "$h/"{plugins,import,run,licenses}
    ln -s /data "$h/data"
    ln -s /logs "$h/logs"
    docker_build neo4j "$tag" "$ctx" "$hash" --build-arg "BASE_IMAGE=$BASE_TAG" \
      --build-arg "NEO4J_VERSION=$ver" || return 1
    rm -rf "$ctx"
    state=built
  fi
  "$DOCKER" tag "$tag" "helfy-standin/neo4j:${ver%.*}"
  record neo4j "$tag" "$state" "$(elapsed "$t0")"
}

# ---------------------------------------------------------------- temporal
# temporal-server, temporal-sql-tool and the schema come from
# infra/services/temporal/install.sh (go install); its last stdout line is the
# install dir ({bin/temporal-server,bin/temporal-sql-tool,schema/postgresql}).
# grpc-health-probe is built here from tools/grpc-health-probe.
TEMPORAL_DIR=""
PROBE_BIN=""
temporal_artifacts() {
  if [[ -z "$TEMPORAL_DIR" ]]; then
    local script="$REPO/infra/services/temporal/install.sh"
    [[ -f "$script" ]] || { log "temporal: $script not found"; return 1; }
    log "temporal: running infra/services/temporal/install.sh (log: $STATE/build/temporal-install.log)"
    local out
    if ! out="$(bash "$script" 2>"$STATE/build/temporal-install.log")"; then
      log "temporal install failed:"
      tail -n 20 "$STATE/build/temporal-install.log" >&2
      return 1
    fi
    TEMPORAL_DIR="$(printf '%s\n' "$out" | tail -n 1)"
    [[ -x "$TEMPORAL_DIR/bin/temporal-server" && -x "$TEMPORAL_DIR/bin/temporal-sql-tool" ]] || {
      log "temporal install dir '$TEMPORAL_DIR' lacks bin/temporal-server or bin/temporal-sql-tool"
      return 1
    }
  fi
  if [[ -z "$PROBE_BIN" ]]; then
    local src="$HERE/tools/grpc-health-probe" phash
    phash="$(hash_inputs "$src" "str:$(go version 2>/dev/null)")"
    PROBE_BIN="$STATE/artifacts/grpc-health-probe-$phash"
    if [[ ! -x "$PROBE_BIN" ]]; then
      command -v go >/dev/null || { log "go not found (needed for tools/grpc-health-probe)"; return 1; }
      log "building tools/grpc-health-probe"
      (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$PROBE_BIN.tmp" .) >&2
      mv "$PROBE_BIN.tmp" "$PROBE_BIN"
      find "$STATE/artifacts" -maxdepth 1 -name 'grpc-health-probe-*' ! -name "${PROBE_BIN##*/}" -delete
    fi
  fi
}

temporal_version() {
  local v
  v="$(basename "$TEMPORAL_DIR")"
  printf '%s\n' "${v#temporal-}"
}

# The `temporal` CLI (github.com/temporalio/cli) for the admin-tools image, built
# here with go install (it is not part of the server module). Optional:
# HELFY_STANDIN_TEMPORAL_CLI=0 skips it; a failed build only drops it.
# v1.5.1: the newest release `go install` accepts; later ones (v1.9.x) have a
# replace directive to an unpublished nested module (cliext) and cannot be
# built from the module proxy. Its operator commands work against server 1.32.
TEMPORAL_CLI_VERSION="${HELFY_TEMPORAL_CLI_VERSION:-v1.5.1}"
TEMPORAL_CLI_BIN=""
temporal_cli_artifact() {
  [[ "${HELFY_STANDIN_TEMPORAL_CLI:-1}" != 0 ]] || return 0
  local dir="$STATE/artifacts/temporal-cli-$TEMPORAL_CLI_VERSION"
  if [[ ! -x "$dir/temporal" ]]; then
    command -v go >/dev/null || { log "go not found: admin-tools image without the temporal CLI"; return 0; }
    log "building temporal CLI $TEMPORAL_CLI_VERSION with go install (first time: several minutes; log: $STATE/build/temporal-cli.log)"
    : >"$STATE/build/temporal-cli.log"
    local tmp
    tmp="$(mktemp -d "$STATE/artifacts/.cli.XXXXXX")"
    if CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags='-s -w' \
      "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >>"$STATE/build/temporal-cli.log" 2>&1; then
      rm -rf "$dir"
      mv "$tmp" "$dir"
    else
      log "temporal CLI build failed (see $STATE/build/temporal-cli.log): admin-tools image without it"
      rm -rf "$tmp"
      return 0
    fi
  fi
  TEMPORAL_CLI_BIN="$dir/temporal"
}

build_temporal_image() { # name (temporal|temporal-admin-tools)
  local name="$1"
  temporal_artifacts || return 1
  local ver hash tag t0 state=cached
  ver="$(temporal_version)"
  local inputs=("$STANDINS/$name" "str:$BASE_HASH" "$PROBE_BIN")
  if [[ "$name" == temporal ]]; then
    inputs+=("$TEMPORAL_DIR/bin/temporal-server")
  else
    temporal_cli_artifact
    inputs+=("$TEMPORAL_DIR/bin/temporal-sql-tool" "$TEMPORAL_DIR/schema" "str:cli=${TEMPORAL_CLI_BIN:+$TEMPORAL_CLI_VERSION}")
  fi
  hash="$(hash_inputs "${inputs[@]}")"
  tag="helfy-standin/$name:$ver-$hash"
  t0="$(now)"
  if ((FORCE == 1)) || ! image_exists "$tag"; then
    local ctx
    ctx="$(fresh_context "$name")"
    local r="$ctx/rootfs"
    mkdir -p "$r/usr/local/bin" "$r/etc/temporal"
    install -m 755 "$PROBE_BIN" "$r/usr/local/bin/grpc-health-probe"
    if [[ "$name" == temporal ]]; then
      install -m 755 "$TEMPORAL_DIR/bin/temporal-server" "$r/usr/local/bin/temporal-server"
      install -m 755 "$STANDINS/temporal/entrypoint.sh" "$r/etc/temporal/entrypoint.sh"
      mkdir -p "$r/etc/temporal/config"
      cp -a "$STANDINS/temporal/dynamicconfig" "$r/etc/temporal/config/dynamicconfig"
    else
      install -m 755 "$TEMPORAL_DIR/bin/temporal-sql-tool" "$r/usr/local/bin/temporal-sql-tool"
      [[ -z "$TEMPORAL_CLI_BIN" ]] || install -m 755 "$TEMPORAL_CLI_BIN" "$r/usr/local/bin/temporal"
      cp -a "$TEMPORAL_DIR/schema" "$r/etc/temporal/schema"
      chmod -R a+rX "$r/etc/temporal/schema"
    fi
    docker_build "$name" "$tag" "$ctx" "$hash" --build-arg "BASE_IMAGE=$BASE_TAG" \
      --build-arg "TEMPORAL_VERSION=$ver" || return 1
    rm -rf "$ctx"
    state=built
  fi
  "$DOCKER" tag "$tag" "helfy-standin/$name:$ver"
  record "$name" "$tag" "$state" "$(elapsed "$t0")"
}

# ---------------------------------------------------------------- main
# Everything runs from this function, read whole before it starts, so editing
# this file while a build runs cannot derail the running script.
main() {
  "$DOCKER" info >/dev/null 2>&1 || { log "no docker engine answers: run $HERE/engine.sh start"; exit 1; }

  T_ALL="$(now)"
  build_base || { log "base image failed"; exit 1; }
  for name in "${WANT[@]}"; do
    case "$name" in
      base) ;;
      postgres) build_postgres || FAILED+=(postgres) ;;
      node) build_node || FAILED+=(node) ;;
      neo4j) build_neo4j || FAILED+=(neo4j) ;;
      temporal) build_temporal_image temporal || FAILED+=(temporal) ;;
      temporal-admin-tools) build_temporal_image temporal-admin-tools || FAILED+=(temporal-admin-tools) ;;
      *) log "unknown image: $name"; FAILED+=("$name") ;;
    esac
  done

  declare -A ENV_NAME=(
    [postgres]=HELFY_POSTGRES_IMAGE
    [node]=HELFY_NODE_IMAGE
    [neo4j]=HELFY_NEO4J_IMAGE
    [temporal]=HELFY_TEMPORAL_IMAGE
    [temporal-admin-tools]=HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE
  )

  {
    printf '%-22s %-58s %-7s %7s %9s\n' IMAGE TAG STATE SECONDS SIZE
    for name in "${ALL_IMAGES[@]}"; do
      if [[ -n "${RESULT_TAG[$name]:-}" ]]; then
        printf '%-22s %-58s %-7s %7s %9s\n' "$name" "${RESULT_TAG[$name]}" "${RESULT_STATE[$name]}" \
          "${RESULT_SECS[$name]}" "${RESULT_SIZE[$name]}"
      elif [[ " ${FAILED[*]} " == *" $name "* ]]; then
        printf '%-22s %-58s %-7s\n' "$name" - FAILED
      fi
    done
    printf 'total %ss\n' "$(elapsed "$T_ALL")"
  } >&2

  envfile="$STATE/images.env"
  : >"$envfile.tmp"
  for name in postgres node neo4j temporal temporal-admin-tools; do
    [[ -n "${RESULT_TAG[$name]:-}" ]] && printf '%s=%s\n' "${ENV_NAME[$name]}" "${RESULT_TAG[$name]}" >>"$envfile.tmp"
  done
  mv "$envfile.tmp" "$envfile"
  ((PRINT_ENV)) && cat "$envfile"

  if ((${#FAILED[@]})); then
    log "failed: ${FAILED[*]}"
    exit 1
  fi
}

main "$@"; exit $?
