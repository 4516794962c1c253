#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/web), driven by playwright-core 1.64.1,
# whose bundled protocol matches Chromium 156. playwright-core downloads nothing: the tests launch
# /usr/bin/chromium. Idempotent: when chromium is already installed this only asks it its version.
#
# Always runs `apt-get update` before an install: stale package lists on a fresh image name an
# older chromium (150.x) whose protocol playwright-core 1.64 does not speak.
# The last line on stdout is "<path> <version>"; everything else goes to stderr.
# Env: HELFY_CHROMIUM (default /usr/bin/chromium).
set -euo pipefail

BIN="${HELFY_CHROMIUM:-/usr/bin/chromium}"
WANT_MAJOR=156

log() { echo "[browser] $*" >&2; }

version() { "$BIN" --headless --no-sandbox --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -n 1; }

if [[ ! -x "$BIN" ]]; then
  if [[ "$(id -u)" -ne 0 ]]; then
    log "ERROR: $BIN is missing and installing chromium needs root (apt-get install chromium)"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  start=$(date +%s)
  log "running apt-get update"
  apt-get update >&2
  apt-get install -y --no-install-recommends chromium fonts-liberation >&2
  log "installed chromium in $(( $(date +%s) - start ))s"
fi

v=$(version || true)
[[ -n "$v" ]] || { log "ERROR: $BIN does not start (no --version)"; exit 1; }
major=${v%%.*}
if [[ "$major" -lt "$WANT_MAJOR" ]]; then
  log "ERROR: chromium $v is older than $WANT_MAJOR, which playwright-core 1.64.1 needs (apt-get update && apt-get install chromium)"
  exit 1
fi
[[ "$major" -eq "$WANT_MAJOR" ]] || log "warning: chromium $v; playwright-core 1.64.1 was checked against $WANT_MAJOR"
echo "$BIN $v"
