#!/usr/bin/env bash
# schemathesis (PyPI), the property-based OpenAPI tester the API tests run against /openapi.json
# (tests/api/schemathesis.test.ts), installed once into its own venv in the helfy cache:
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/schemathesis-<version>/bin/schemathesis
# Prints that path on stdout. Env: SCHEMATHESIS_VERSION, HELFY_CACHE_DIR, PYTHON.
set -euo pipefail

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/schemathesis-$SCHEMATHESIS_VERSION"
BIN="$PREFIX/bin/schemathesis"
log() { echo "schemathesis.sh: $*" >&2; }

# The stamp is written last: a killed install is redone, never half-used.
if [[ -f "$PREFIX/.installed" ]]; then echo "$BIN"; exit 0; fi
mkdir -p "$CACHE_ROOT"
# Serialise concurrent installs.
exec 9>"$CACHE_ROOT/.schemathesis.lock"
flock 9
if [[ -f "$PREFIX/.installed" ]]; then echo "$BIN"; exit 0; fi
log "installing schemathesis==$SCHEMATHESIS_VERSION (PyPI) into a venv"
rm -rf "$PREFIX"
"${PYTHON:-python3}" -m venv "$PREFIX" >&2
"$PREFIX/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
"$BIN" --version >&2
touch "$PREFIX/.installed"
log "installed schemathesis $SCHEMATHESIS_VERSION"
echo "$BIN"
