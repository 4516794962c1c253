#!/usr/bin/env bash
# infra/pip-tool.sh <package> <version> <command>: installs a PyPI tool once into its own venv in
# the helfy cache and prints the path of its command on stdout:
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/<package>-<version>/bin/<command>
# Used by the one-tool scripts (schemathesis.sh, kubernetes-validate.sh). Env: HELFY_CACHE_DIR, PYTHON.
set -euo pipefail

PACKAGE="$1"
VERSION="$2"
COMMAND="$3"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/$PACKAGE-$VERSION"
BIN="$PREFIX/bin/$COMMAND"
log() { echo "$PACKAGE: $*" >&2; }

# The stamp is written last: a killed install is redone, never half-used.
if [[ -f "$PREFIX/.installed" ]]; then echo "$BIN"; exit 0; fi
mkdir -p "$CACHE_ROOT"
# Serialise concurrent installs.
exec 9>"$CACHE_ROOT/.$PACKAGE.lock"
flock 9
if [[ -f "$PREFIX/.installed" ]]; then echo "$BIN"; exit 0; fi
log "installing $PACKAGE==$VERSION (PyPI) into a venv"
rm -rf "$PREFIX"
"${PYTHON:-python3}" -m venv "$PREFIX" >&2
"$PREFIX/bin/pip" install --quiet --disable-pip-version-check "$PACKAGE==$VERSION" >&2
"$BIN" --version >&2
touch "$PREFIX/.installed"
log "installed $PACKAGE $VERSION"
echo "$BIN"
