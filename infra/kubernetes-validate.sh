#!/usr/bin/env bash
# kubernetes-validate (PyPI), which bundles the Kubernetes JSON schemas and validates manifests
# offline; the export tests (tests/export/) check every object `helfy export kubernetes` writes
# with it (--strict: unknown fields are errors). Installed once into its own venv in the helfy cache:
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/kubernetes-validate-<version>/bin/kubernetes-validate
# Prints that path on stdout. Env: KUBERNETES_VALIDATE_VERSION, HELFY_CACHE_DIR, PYTHON.
set -euo pipefail
exec bash "$(dirname "$0")/pip-tool.sh" kubernetes-validate "${KUBERNETES_VALIDATE_VERSION:-1.37.0}" kubernetes-validate
