#!/usr/bin/env bash
# Installs PostgreSQL 15 (server + same-version client tools: psql, pg_dump,
# pg_restore) from Debian bookworm's own archive, then TimescaleDB for it with the
# script helfy itself runs on first use (native/timescaledb/install.sh: the shipped
# source built against that server into a relocatable copy in the helfy cache).
#
# apt is the cache for the server: when the binaries are already present this
# returns at once (no apt-get update, no network); the TimescaleDB build (~5 min
# on 2 cores) is cached under ${HELFY_CACHE_DIR:-~/.cache/helfy}. The last line on
# stdout is the bin dir of the server WITH TimescaleDB (the cached copy), or with
# PG_PLAIN=1 the system's own (/usr/lib/postgresql/15/bin, no TimescaleDB); all
# other output goes to stderr.
#
# Note: Debian's postinst may create and start a default "15/main" cluster on
# port 5432; the test helpers never use it (they initdb their own temp cluster).
#
# Env: PG_MAJOR (default 15), PG_PLAIN=1 (the plain server only).
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

log() { echo "[postgres-install] $*" >&2; }

have_all() {
  for b in postgres initdb pg_ctl psql pg_dump pg_restore pg_isready; do
    [[ -x "$BIN/$b" ]] || return 1
  done
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
with_timescale() {
  if [[ "${PG_PLAIN:-0}" == 1 ]]; then echo "$BIN"; exit 0; fi
  PG_BINDIR="$BIN" exec bash "$HERE/../../../native/timescaledb/install.sh"
}

if have_all; then with_timescale; fi

if [[ "$(id -u)" -ne 0 ]]; then
  log "ERROR: postgresql-$PG_MAJOR is missing and installing it needs root (apt-get)"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
PKGS=("postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR")
start=$(date +%s)
# Only run apt-get update when the package cannot be installed from the
# current lists (a fresh image usually has no lists at all).
if ! apt-cache show "postgresql-$PG_MAJOR" >/dev/null 2>&1 \
   || ! apt-get install -y --no-install-recommends "${PKGS[@]}" >&2; then
  log "running apt-get update"
  apt-get update >&2
  apt-get install -y --no-install-recommends "${PKGS[@]}" >&2
fi
# initdb/postgres refuse to run as root; the helpers run them as this user.
id postgres >/dev/null 2>&1 || { log "ERROR: OS user 'postgres' missing after install"; exit 1; }

have_all || { log "ERROR: binaries missing in $BIN after install"; exit 1; }
log "installed postgresql-$PG_MAJOR in $(( $(date +%s) - start ))s"
with_timescale
