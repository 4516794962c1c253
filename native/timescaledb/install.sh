#!/usr/bin/env bash
# Builds TimescaleDB for a PostgreSQL server found on this machine and installs both, as one
# relocatable tree, into the helfy cache:
#
#   ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/postgres-<server version>-<path hash>-timescaledb-<version>/
#     lib/postgresql/<major>/bin/postgres …   a real copy of the server's bin folder
#     lib/postgresql/<major>/lib/…            its lib folder + timescaledb*.so
#     share/postgresql/<major>/…              its share folder + extension/timescaledb*
#     .installed                              stamp: what was built from what
#
# PostgreSQL finds lib/ and share/ relative to its own binary, so the copy runs from the cache
# without root and without touching the system's server. The ONE way helfy gets TimescaleDB: the
# native runtime (src/runtime/native/locate.ts) runs this script on first use, and the test
# provisioning (infra/services/postgres/install.sh) and the Docker stand-in image use its result.
#
# What the build needs, found or fetched into the cache (nothing outside the cache is written):
#   - the source: the pinned tarball shipped beside this script (HELFY_TIMESCALE_SOURCE may point
#     at another copy of it), checked against SHA256SUMS before anything else;
#   - the server's headers of its EXACT version (headers of another minor build an extension that
#     misbehaves at run time): `pg_config --includedir-server` when its pg_config.h names the
#     server's version, else, on Debian, `apt-get download postgresql-server-dev-<major>=<the
#     server package's version>` + `dpkg -x` (no root, upgrades nothing; apt lists of its own in
#     the cache when the system's do not have that version);
#   - a C compiler and make (cc/gcc, make): never fetched;
#   - cmake >= 3.15: on PATH, else PyPI's cmake wheel (pip download, unzipped into the cache).
# patches/*.patch beside this script are applied to the unpacked source before the build (see
# README.md there: only files outside tsl/, which the Timescale License lets be distributed only
# unmodified).
#
# Env: PG_BINDIR (required: the folder holding the server's postgres), HELFY_CACHE_DIR,
#      HELFY_TIMESCALE_SOURCE, JOBS (make -j, default: the number of cores), CMAKE (a cmake to use).
# Progress goes to stderr, one line per step; the last line on stdout is the bin folder of the
# installed copy. Idempotent: a cached install returns at once; concurrent runs are serialised
# with flock; the tree appears whole (built in a temp folder beside it, then renamed), so a build
# killed half-way leaves only a temp folder that the next run removes.
# Exit codes: 0 installed/cached; 3 something the build needs is missing (the message names it);
#             4 the source tarball does not match its checksum (nothing installed); 1 otherwise.
set -euo pipefail

TIMESCALEDB_VERSION=2.28.3
CMAKE_WHEEL_VERSION=3.31.6
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
SOURCE="${HELFY_TIMESCALE_SOURCE:-$HERE/timescaledb-$TIMESCALEDB_VERSION.tar.gz}"

log() { echo "[timescaledb-install] $*" >&2; }
missing() { log "ERROR: $*"; exit 3; }

[[ -n "${PG_BINDIR:-}" ]] || { log "ERROR: PG_BINDIR is not set"; exit 1; }
PG_BINDIR="$(cd "$PG_BINDIR" && pwd -P)"
[[ -x "$PG_BINDIR/postgres" ]] || { log "ERROR: no postgres in $PG_BINDIR"; exit 1; }

# "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → 15.18, major 15.
PG_VERSION="$("$PG_BINDIR/postgres" --version | sed -nE 's/^postgres \(PostgreSQL\) ([0-9]+(\.[0-9]+)?).*/\1/p')"
[[ -n "$PG_VERSION" ]] || { log "ERROR: cannot read the version of $PG_BINDIR/postgres"; exit 1; }
PG_MAJOR="${PG_VERSION%%.*}"
PATH_HASH="$(printf '%s' "$PG_BINDIR" | sha256sum | cut -c1-8)"
PATCH_HASH="$(shopt -s nullglob; cat /dev/null "$HERE"/patches/*.patch | sha256sum | cut -c1-12)"
PREFIX="$CACHE_ROOT/postgres-$PG_VERSION-$PATH_HASH-timescaledb-$TIMESCALEDB_VERSION"
STAMP="$PREFIX/.installed"
WANT_STAMP="timescaledb=$TIMESCALEDB_VERSION patches=$PATCH_HASH postgres=$PG_VERSION from=$PG_BINDIR"
BIN_OUT="$PREFIX/lib/postgresql/$PG_MAJOR/bin"

cached() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" && -x "$BIN_OUT/postgres" ]] || return 1
  # A server upgraded in place to another build of the same version: rebuild rather than run a copy
  # that no longer matches what the system's clients and data expect.
  [[ "$("$BIN_OUT/postgres" --version)" == "$("$PG_BINDIR/postgres" --version)" ]]
}

if cached; then
  echo "$BIN_OUT"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.timescaledb-install.lock"
if ! flock -n 9; then
  log "another TimescaleDB install is running; waiting for it"
  flock 9
fi
if cached; then echo "$BIN_OUT"; exit 0; fi
start=$SECONDS

# --- the source, checked before anything is built or written ---------------------------------------
[[ -f "$SOURCE" ]] || { log "ERROR: TimescaleDB source $SOURCE not found"; exit 1; }
want_sum="$(awk -v f="timescaledb-$TIMESCALEDB_VERSION.tar.gz" '$2 == f { print $1 }' "$HERE/SHA256SUMS")"
have_sum="$(sha256sum "$SOURCE" | cut -d' ' -f1)"
if [[ -z "$want_sum" || "$have_sum" != "$want_sum" ]]; then
  log "ERROR: $SOURCE does not match the pinned checksum of timescaledb-$TIMESCALEDB_VERSION.tar.gz (sha256 $have_sum, expected $want_sum): refusing to build it"
  exit 4
fi

# --- the toolchain: checked before the multi-minute part ---------------------------------------------
CC_BIN="$(command -v cc || command -v gcc || true)"
[[ -n "$CC_BIN" ]] || missing "no C compiler (cc/gcc) to build TimescaleDB for PostgreSQL $PG_VERSION: install gcc (apt-get install gcc)"
command -v make >/dev/null || missing "no make to build TimescaleDB: install make (apt-get install make)"

cmake_ok() { # a cmake of at least 3.15
  local v; v="$("$1" --version 2>/dev/null | sed -nE '1s/^cmake version ([0-9]+)\.([0-9]+).*/\1 \2/p')"
  [[ -n "$v" ]] && { read -r a b <<<"$v"; (( a > 3 || (a == 3 && b >= 15) )); }
}
CMAKE="${CMAKE:-$(command -v cmake || true)}"
if [[ -z "$CMAKE" ]] || ! cmake_ok "$CMAKE"; then
  CMAKE="$CACHE_ROOT/cmake-$CMAKE_WHEEL_VERSION/cmake/data/bin/cmake"
  if ! cmake_ok "$CMAKE"; then
    PY="$(command -v python3 || true)"
    [[ -n "$PY" ]] && "$PY" -m pip --version >/dev/null 2>&1 \
      || missing "no cmake (3.15 or newer) and no python3 with pip to fetch it from PyPI: install cmake (apt-get install cmake)"
    log "fetching cmake $CMAKE_WHEEL_VERSION from PyPI (its wheel, into the cache)"
    wtmp="$(mktemp -d "$CACHE_ROOT/.cmake.XXXXXX")"
    if ! "$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$wtmp" "cmake==$CMAKE_WHEEL_VERSION" >&2; then
      rm -rf "$wtmp"; missing "cmake is missing and fetching it from PyPI failed: install cmake (apt-get install cmake)"
    fi
    "$PY" -m zipfile -e "$wtmp"/cmake-*.whl "$wtmp/tree" >&2
    chmod +x "$wtmp"/tree/cmake/data/bin/*
    rm -rf "$CACHE_ROOT/cmake-$CMAKE_WHEEL_VERSION"
    mv "$wtmp/tree" "$CACHE_ROOT/cmake-$CMAKE_WHEEL_VERSION"
    rm -rf "$wtmp"
    cmake_ok "$CMAKE" || missing "the cmake wheel from PyPI does not run here: install cmake (apt-get install cmake)"
  fi
fi

# --- where the server keeps its files ----------------------------------------------------------------
PG_CONFIG="$PG_BINDIR/pg_config"
if [[ -x "$PG_CONFIG" ]]; then
  PKGLIBDIR="$("$PG_CONFIG" --pkglibdir)"
  SHAREDIR="$("$PG_CONFIG" --sharedir)"
  INCLUDEDIR_SERVER="$("$PG_CONFIG" --includedir-server)"
else
  PG_CONFIG=""
  PKGLIBDIR="$(cd "$PG_BINDIR/../lib" && pwd -P)"
  for d in "$PG_BINDIR/../../../../share/postgresql/$PG_MAJOR" "$PG_BINDIR/../share/postgresql" "$PG_BINDIR/../share"; do
    if [[ -f "$d/postgres.bki" ]]; then SHAREDIR="$(cd "$d" && pwd -P)"; break; fi
  done
  [[ -n "${SHAREDIR:-}" ]] || { log "ERROR: cannot find the share folder (postgres.bki) of $PG_BINDIR/postgres"; exit 1; }
  INCLUDEDIR_SERVER=""
fi
# The copy keeps the three folders' places relative to each other (PostgreSQL finds lib/ and share/
# from its binary's location), under the longest prefix they share.
common_prefix() {
  local p="$1"; shift
  for q in "$@"; do while [[ "$q/" != "$p/"* ]]; do p="$(dirname "$p")"; done; done
  echo "$p"
}
TREE_ROOT="$(common_prefix "$PG_BINDIR" "$PKGLIBDIR" "$SHAREDIR")"
[[ "$TREE_ROOT" != "/" ]] || TREE_ROOT=""
rel() { echo "${1#"$TREE_ROOT"/}"; }
if [[ "$(rel "$PG_BINDIR")" != "lib/postgresql/$PG_MAJOR/bin" ]]; then
  # Not Debian's layout: the installed bin folder is then wherever the relative path puts it.
  BIN_OUT="$PREFIX/$(rel "$PG_BINDIR")"
fi

# --- headers of exactly this version -----------------------------------------------------------------
version_of_headers() { if [[ -f "$1/pg_config.h" ]]; then sed -nE 's/^#define PG_VERSION "([0-9]+(\.[0-9]+)?).*/\1/p' "$1/pg_config.h"; fi; }
WORK="$(mktemp -d "$CACHE_ROOT/.timescaledb-build.XXXXXX")"
STAGE="$PREFIX.tmp-$$"
cleanup() { rm -rf "$WORK" "$STAGE"; }
trap cleanup EXIT
# Leftovers of a build killed half-way: no other install runs while this one holds the lock.
for d in "$CACHE_ROOT"/.timescaledb-build.* "$CACHE_ROOT"/postgres-*-timescaledb-*.tmp-*; do
  if [[ -e "$d" && "$d" != "$WORK" && "$d" != "$STAGE" ]]; then rm -rf "$d"; fi
done

if [[ -z "$INCLUDEDIR_SERVER" || "$(version_of_headers "$INCLUDEDIR_SERVER")" != "$PG_VERSION" ]]; then
  have="$(version_of_headers "$INCLUDEDIR_SERVER")"
  [[ -n "$have" ]] && log "the headers in $INCLUDEDIR_SERVER are of PostgreSQL $have, not $PG_VERSION: fetching the right ones"
  pkg=""
  if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
    pkg="$(dpkg-query -S "$(readlink -f "$PG_BINDIR/postgres")" 2>/dev/null | cut -d: -f1 || true)"
  fi
  [[ -n "$pkg" ]] || missing "no server headers of PostgreSQL $PG_VERSION for $PG_BINDIR/postgres (and it is not a Debian package helfy can fetch them for): install the server development files of exactly $PG_VERSION (e.g. postgresql-server-dev-$PG_MAJOR), or point PG_BINDIR at a server that has them"
  debver="$(dpkg-query -W -f='${Version}' "$pkg")"
  devpkg="postgresql-server-dev-$PG_MAJOR"
  debs="$CACHE_ROOT/debs"
  mkdir -p "$debs"
  deb="$(ls "$debs/${devpkg}_${debver//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)"
  if [[ -z "$deb" ]]; then
    log "fetching $devpkg=$debver (its headers; apt-get download + dpkg -x, nothing installed)"
    if ! (cd "$WORK" && apt-get download "$devpkg=$debver" >&2 2>/dev/null); then
      # The system's package lists lack that version (or there are none): lists of our own.
      lists="$CACHE_ROOT/apt"
      mkdir -p "$lists/lists/partial" "$lists/cache/archives/partial"
      aptopt=(-o "Dir::State::Lists=$lists/lists" -o "Dir::Cache=$lists/cache" -o Debug::NoLocking=1)
      apt-get "${aptopt[@]}" -qq update >&2 || missing "cannot read the Debian package lists to fetch $devpkg=$debver: install it (apt-get install $devpkg=$debver)"
      (cd "$WORK" && apt-get "${aptopt[@]}" download "$devpkg=$debver" >&2) \
        || missing "$devpkg=$debver (the headers of the PostgreSQL $PG_VERSION found) cannot be fetched from the Debian archive: install it (apt-get install $devpkg=$debver), or point PG_BINDIR at a server whose headers are installed"
    fi
    mv "$WORK"/"${devpkg}"_*.deb "$debs/"
    deb="$(ls "$debs/${devpkg}_${debver//:/%3a}_"*.deb | head -n 1)"
  fi
  dpkg-deb -x "$deb" "$WORK/dev"
  INCLUDEDIR_SERVER="$WORK/dev/usr/include/postgresql/$PG_MAJOR/server"
  [[ "$(version_of_headers "$INCLUDEDIR_SERVER")" == "$PG_VERSION" ]] \
    || { log "ERROR: $deb holds headers of PostgreSQL $(version_of_headers "$INCLUDEDIR_SERVER"), not $PG_VERSION"; exit 1; }
fi
if [[ -z "$PG_CONFIG" ]]; then
  # TimescaleDB's CMakeLists asks pg_config only for what is not given on its command line; a
  # stand-in answers the rest from what was found above.
  PG_CONFIG="$WORK/pg_config"
  printf '#!/bin/sh\ncase "$1" in --version) "%s/postgres" --version | sed "s/^postgres (PostgreSQL)/PostgreSQL/";; *) echo "";; esac\n' "$PG_BINDIR" >"$PG_CONFIG"
  chmod +x "$PG_CONFIG"
fi

# --- build ------------------------------------------------------------------------------------------
log "building TimescaleDB $TIMESCALEDB_VERSION for PostgreSQL $PG_VERSION ($PG_BINDIR) with $("$CMAKE" --version | head -n 1) (first use only, about 5 minutes)"
tar -xzf "$SOURCE" -C "$WORK"
SRC="$WORK/timescaledb-$TIMESCALEDB_VERSION"
for p in "$HERE"/patches/*.patch; do
  [[ -f "$p" ]] || continue
  log "applying $(basename "$p")"
  patch -d "$SRC" -p1 --forward --quiet <"$p" >&2
done
"$CMAKE" -S "$SRC" -B "$SRC/build" \
  -DCMAKE_BUILD_TYPE=Release -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF \
  -DSEND_TELEMETRY_DEFAULT=OFF -DGENERATE_DOWNGRADE_SCRIPT=OFF -DENABLE_DEBUG_UTILS=OFF \
  -DPG_CONFIG="$PG_CONFIG" -DPG_INCLUDEDIR="$INCLUDEDIR_SERVER" -DPG_INCLUDEDIR_SERVER="$INCLUDEDIR_SERVER" \
  -DPG_PKGLIBDIR="$PKGLIBDIR" -DPG_SHAREDIR="$SHAREDIR" -DPG_BINDIR="$PG_BINDIR" >"$WORK/cmake.log" 2>&1 \
  || { tail -n 30 "$WORK/cmake.log" >&2; log "ERROR: cmake failed"; exit 1; }
t0=$SECONDS
make -C "$SRC/build" -j"${JOBS:-$(nproc)}" >"$WORK/make.log" 2>&1 \
  || { tail -n 30 "$WORK/make.log" >&2; log "ERROR: make failed"; exit 1; }
make -C "$SRC/build" install DESTDIR="$WORK/staged" >"$WORK/install.log" 2>&1 \
  || { tail -n 30 "$WORK/install.log" >&2; log "ERROR: make install failed"; exit 1; }
log "compiled in $((SECONDS - t0)) s"

# --- the relocatable tree: a real copy of the server (not symlinks: PostgreSQL resolves a symlinked
# binary to its target's folder) plus the extension ---------------------------------------------------
mkdir -p "$STAGE"
for d in "$PG_BINDIR" "$PKGLIBDIR" "$SHAREDIR"; do
  mkdir -p "$STAGE/$(dirname "$(rel "$d")")"
  cp -a "$d" "$STAGE/$(rel "$d")"
done
cp -a "$WORK/staged$PKGLIBDIR"/. "$STAGE/$(rel "$PKGLIBDIR")/"
cp -a "$WORK/staged$SHAREDIR"/. "$STAGE/$(rel "$SHAREDIR")/"
echo "$WANT_STAMP" >"$STAGE/.installed"
chmod -R a+rX "$STAGE"
rm -rf "$PREFIX"
mv "$STAGE" "$PREFIX"
[[ -x "$BIN_OUT/postgres" ]] || { log "ERROR: $BIN_OUT/postgres missing after the install"; exit 1; }
log "installed TimescaleDB $TIMESCALEDB_VERSION with PostgreSQL $PG_VERSION into $PREFIX in $((SECONDS - start)) s"
echo "$BIN_OUT"
