#!/usr/bin/env bash
# schemathesis (PyPI), the property-based OpenAPI tester the API tests run against /openapi.json
# (tests/api/schemathesis.test.ts), installed once into its own venv in the helfy cache:
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/schemathesis-<version>/bin/schemathesis
# Prints that path on stdout. Env: SCHEMATHESIS_VERSION, HELFY_CACHE_DIR, PYTHON.
set -euo pipefail
exec bash "$(dirname "$0")/pip-tool.sh" schemathesis "${SCHEMATHESIS_VERSION:-4.32.5}" schemathesis
