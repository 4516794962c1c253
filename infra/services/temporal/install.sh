#!/usr/bin/env bash
# Builds the Temporal server and temporal-sql-tool from source via the Go module
# proxy and caches them in ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/temporal-<tag>.
#
# The build is native/temporal/install.sh, the same script helfy's native runtime
# runs on first use (one way to install, one cache); this wrapper only keeps the
# path provision.sh, the test helpers and infra/docker/images.sh call. The last
# line on stdout is the install directory; all other output goes to stderr.
#
# Env: TEMPORAL_VERSION, HELFY_CACHE_DIR, GO (see the shared script).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$HERE/../../../native/temporal/install.sh"
