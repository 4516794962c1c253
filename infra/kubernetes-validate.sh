#!/usr/bin/env bash
# kubernetes-validate (PyPI), which bundles the Kubernetes JSON schemas and validates manifests
# offline; the export tests (tests/export/) check every object `helfy export kubernetes` writes
# with it (--strict: unknown fields are errors). Installed once into its own venv in the helfy cache:
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/kubernetes-validate-<version>/bin/kubernetes-validate
# Prints that path on stdout. Env: KUBERNETES_VALIDATE_VERSION, HELFY_CACHE_DIR, PYTHON.
set -euo pipefail

KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
BIN="$PREFIX/bin/kubernetes-validate"
log() { echo "kubernetes-validate.sh: $*" >&2; }

# The stamp is written last: a killed install is redone, never half-used.
if [[ -f "$PREFIX/.installed" ]]; then echo "$BIN"; exit 0; fi
mkdir -p "$CACHE_ROOT"
# Serialise concurrent installs.
exec 9>"$CACHE_ROOT/.kubernetes-validate.lock"
flock 9
if [[ -f "$PREFIX/.installed" ]]; then echo "$BIN"; exit 0; fi
log "installing kubernetes-validate==$KUBERNETES_VALIDATE_VERSION (PyPI) into a venv"
rm -rf "$PREFIX"
"${PYTHON:-python3}" -m venv "$PREFIX" >&2
"$PREFIX/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
"$BIN" --version >&2
touch "$PREFIX/.installed"
log "installed kubernetes-validate $KUBERNETES_VALIDATE_VERSION"
echo "$BIN"
