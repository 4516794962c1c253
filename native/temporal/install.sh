#!/usr/bin/env bash
# Builds the Temporal server and temporal-sql-tool from source via the Go module
# proxy (no prebuilt binaries can be downloaded here) and caches them.
#
# The ONE way helfy installs Temporal: the native runtime (src/runtime/native/locate.ts)
# runs this script on first use, and infra/services/temporal/install.sh (tests, Docker
# stand-in images) delegates to it, so both share one cache.
#
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/temporal-<tag>/bin/{temporal-server,temporal-sql-tool}
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/temporal-<tag>/schema/postgresql/v12/...
#
# The last line on stdout is the install directory (temporal-<tag>); all other
# output goes to stderr. Idempotent: a cached install returns immediately.
#
# Env: TEMPORAL_VERSION (default below), HELFY_CACHE_DIR, GO (go binary).
# Exit codes: 0 installed/cached, 3 no (usable) Go toolchain, 1 anything else.
set -euo pipefail

TEMPORAL_VERSION="${TEMPORAL_VERSION:-v1.32.1}"
# go directive of go.temporal.io/server@v1.32.1's go.mod (v1.32.2 needs 1.26.10,
# newer than the Go 1.26.8 installed here, so v1.32.1 is the newest that builds
# without fetching a toolchain).
GO_MIN="${TEMPORAL_GO_MIN:-1.26.8}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/temporal-${TEMPORAL_VERSION#v}"
STAMP="$PREFIX/.installed"
# Static, stripped binaries. Part of the cache key: changing it forces a rebuild.
LDFLAGS="-s -w"
STAMP_WANT="$TEMPORAL_VERSION cgo=0 ldflags=$LDFLAGS"

log() { echo "[temporal-install] $*" >&2; }

if [[ -f "$STAMP" && "$(<"$STAMP")" == "$STAMP_WANT" \
      && -x "$PREFIX/bin/temporal-server" && -x "$PREFIX/bin/temporal-sql-tool" \
      && -d "$PREFIX/schema/postgresql/v12/temporal/versioned" ]]; then
  echo "$PREFIX"
  exit 0
fi

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else
    log "ERROR: no Go toolchain found. Temporal $TEMPORAL_VERSION needs Go >= $GO_MIN (Debian bookworm's golang-go is 1.19: too old)."
    exit 3
  fi
fi
# The pinned tag's go.mod says "go $GO_MIN". With an older local Go (>= 1.21),
# let the go command fetch that toolchain (it is published as a module on the Go
# module proxy); otherwise never download a toolchain.
ver_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
GO_LOCAL="$("$GO" env GOVERSION 2>/dev/null | sed 's/^go//')"
if [[ -z "${GOTOOLCHAIN:-}" ]]; then
  if ver_ge "$GO_LOCAL" "$GO_MIN"; then export GOTOOLCHAIN=local
  elif ver_ge "$GO_LOCAL" 1.21; then export GOTOOLCHAIN="go$GO_MIN"
  else
    log "ERROR: Go $GO_LOCAL is too old (need >= $GO_MIN, or >= 1.21 to auto-fetch go$GO_MIN)."
    exit 3
  fi
fi
log "using go $GO_LOCAL (GOTOOLCHAIN=$GOTOOLCHAIN)"

mkdir -p "$PREFIX"
# Serialise concurrent installs (parallel test workers, docker builds).
exec 9>"$PREFIX/.lock"
if ! flock -n 9; then
  log "another build of Temporal $TEMPORAL_VERSION is running; waiting for it"
  flock 9
fi
if [[ -f "$STAMP" && "$(<"$STAMP")" == "$STAMP_WANT" ]]; then echo "$PREFIX"; exit 0; fi

TMPBIN="$(mktemp -d "$PREFIX/.bin.XXXXXX")"
trap 'rm -rf "$TMPBIN"' EXIT

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

log "building go.temporal.io/server/cmd/server@$TEMPORAL_VERSION and cmd/tools/sql (first build takes several minutes)"
start=$(date +%s)
GOBIN="$TMPBIN" "$GO" install -trimpath -ldflags="$LDFLAGS" \
  "go.temporal.io/server/cmd/server@$TEMPORAL_VERSION" \
  "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_VERSION" >&2
log "build done in $(( $(date +%s) - start ))s"

mkdir -p "$PREFIX/bin"
mv -f "$TMPBIN/server" "$PREFIX/bin/temporal-server"
mv -f "$TMPBIN/sql" "$PREFIX/bin/temporal-sql-tool"

# Copy the PostgreSQL schema out of the (read-only) module cache so the install
# dir is self-contained (usable in a Docker stand-in image without GOMODCACHE).
MODDIR="$("$GO" mod download -json "go.temporal.io/server@$TEMPORAL_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
if [[ -z "$MODDIR" || ! -d "$MODDIR/schema/postgresql/v12" ]]; then
  log "ERROR: cannot find schema/postgresql/v12 in module dir '$MODDIR'"
  exit 1
fi
rm -rf "$PREFIX/schema"
mkdir -p "$PREFIX/schema"
cp -r "$MODDIR/schema/postgresql" "$PREFIX/schema/"
chmod -R u+w "$PREFIX/schema"

echo "$STAMP_WANT" > "$STAMP"
log "installed to $PREFIX"
echo "$PREFIX"
