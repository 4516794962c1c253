#!/usr/bin/env bash
# The linters of the CI pipelines helfy scaffolds (tests/ci), installed once into the helfy cache:
#  - rhysd/actionlint (GitHub Actions workflows), built from the Go module proxy:
#      ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/actionlint-<version>/bin/actionlint
#  - check-jsonschema (PyPI) in its own venv, for .gitlab-ci.yml against GitLab's own CI JSON
#    schema, which check-jsonschema vendors (`--builtin-schema vendor.gitlab-ci`: offline):
#      ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/check-jsonschema-<version>/bin/check-jsonschema
# Prints both paths on stdout (actionlint first). Env: ACTIONLINT_VERSION, CHECK_JSONSCHEMA_VERSION,
# HELFY_CACHE_DIR, GO, PYTHON.
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/actionlint-${ACTIONLINT_VERSION#v}"
BIN="$PREFIX/bin/actionlint"
CHECK_JSONSCHEMA_VERSION="${CHECK_JSONSCHEMA_VERSION:-0.39.0}"
CJ_BIN="$CACHE_ROOT/check-jsonschema-$CHECK_JSONSCHEMA_VERSION/bin/check-jsonschema"
log() { echo "actionlint.sh: $*" >&2; }

# check-jsonschema through the shared venv installer (same path, stamp and lock as before).
install_check_jsonschema() {
  bash "$(dirname "$0")/pip-tool.sh" check-jsonschema "$CHECK_JSONSCHEMA_VERSION" check-jsonschema >/dev/null
}

if [[ -x "$BIN" ]]; then install_check_jsonschema; echo "$BIN"; echo "$CJ_BIN"; exit 0; fi

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else log "ERROR: no Go toolchain found (actionlint $ACTIONLINT_VERSION needs Go >= 1.24)"; exit 1
  fi
fi

mkdir -p "$PREFIX"
# Serialise concurrent installs.
exec 9>"$PREFIX/.lock"
flock 9
if [[ -x "$BIN" ]]; then install_check_jsonschema; echo "$BIN"; echo "$CJ_BIN"; exit 0; fi

TMPBIN="$(mktemp -d "$PREFIX/.bin.XXXXXX")"
trap 'rm -rf "$TMPBIN"' EXIT
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
log "building github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
GOBIN="$TMPBIN" "$GO" install -trimpath "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
mkdir -p "$PREFIX/bin"
mv -f "$TMPBIN/actionlint" "$BIN"
log "installed $("$BIN" -version | head -n 1)"
install_check_jsonschema
echo "$BIN"
echo "$CJ_BIN"
