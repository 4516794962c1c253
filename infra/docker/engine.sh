#!/usr/bin/env bash
# infra/docker/engine.sh {ensure|start|stop|status|env}
#
# Manages a local Docker engine for development / tests on machines where no
# engine is running (e.g. the sandboxed CI box: Debian bookworm, root, no
# container registry).
#
#   ensure  install docker.io, docker-compose and debootstrap from Debian when
#           any of them is missing (apt-get update only when an install fails
#           without it / the lists are empty).
#   start   if no engine answers `docker info`, start `dockerd` in the background
#           (log + pid file under $HELFY_CACHE_DIR/docker/), wait until it answers
#           and record that we started it. Storage driver: overlay2 when the kernel
#           mounts an overlay on the data root's filesystem (checked with a real
#           mount, see storage_driver), else vfs; HELFY_DOCKER_STORAGE_DRIVER
#           overrides. vfs copies a whole image for every container and layer:
#           on this machine kind a container create took 5.5 s on vfs, 0.45 s on
#           overlay2 (postgres stand-in, 418 MB).
#   stop    stop the engine only if this script started it.
#   status  print "running (started by helfy, pid N, <driver>)" / "running (external, <driver>)" /
#           "stopped"; exit 0 when running, 3 when not.
#   env     print `export DOCKER_API_VERSION=...` lines suitable for eval, so a
#           newer docker CLI works with the older daemon.
#
# Client choice: the docker CLI first on PATH is used ($DOCKER overrides it).
# A newer CLI (e.g. 28.x in /usr/local/bin) than the daemon (Debian's 20.10,
# API 1.41) works because API version negotiation picks the daemon's version;
# `docker build` must use the classic builder (DOCKER_BUILDKIT=0) because the
# buildx plugin is not installed — images.sh does that.
set -euo pipefail

CACHE_DIR="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
STATE_DIR="$CACHE_DIR/docker"
PID_FILE="$STATE_DIR/dockerd.pid"
LOG_FILE="$STATE_DIR/dockerd.log"
MARKER="$STATE_DIR/started-by-helfy"
DOCKER="${DOCKER:-docker}"
START_TIMEOUT="${HELFY_DOCKERD_START_TIMEOUT:-60}"

log() { printf '[engine] %s\n' "$*" >&2; }

engine_answers() {
  command -v "$DOCKER" >/dev/null 2>&1 || return 1
  # Generous: a busy engine (on vfs above all) can take seconds to answer.
  timeout 30 "$DOCKER" info >/dev/null 2>&1
}

our_pid() {
  # Prints the pid of the dockerd we started, if it is still alive.
  [[ -f "$PID_FILE" && -f "$MARKER" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be a dockerd.
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == dockerd ]] || return 1
  printf '%s\n' "$pid"
}

# storage_driver: overlay2 if an overlay mounts where dockerd keeps its layers (the
# default data root /var/lib/docker, or --data-root in HELFY_DOCKERD_ARGS), else vfs.
# A real mount, because /proc/filesystems listing overlay is not enough (an overlay
# upper dir on overlayfs, tmpfs without xattrs or a filesystem without d_type fail).
storage_driver() {
  if [[ -n "${HELFY_DOCKER_STORAGE_DRIVER:-}" ]]; then
    printf '%s\n' "$HELFY_DOCKER_STORAGE_DRIVER"
    return
  fi
  local root=/var/lib/docker
  [[ "${HELFY_DOCKERD_ARGS:-}" =~ --data-root[=\ ]([^ ]+) ]] && root="${BASH_REMATCH[1]}"
  mkdir -p "$root"
  local probe
  probe="$(mktemp -d "$root/.helfy-overlay-probe.XXXXXX")"
  mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  : >"$probe/lower/file"
  local driver=vfs
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    [[ -e "$probe/merged/file" ]] && driver=overlay2
    umount "$probe/merged" 2>/dev/null || true
  fi
  rm -rf "$probe"
  printf '%s\n' "$driver"
}

# running_driver: the storage driver of the engine that answers.
running_driver() {
  "$DOCKER" info --format '{{.Driver}}' 2>/dev/null || echo unknown
}

cmd_ensure() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  # A docker CLI on PATH (e.g. /usr/local/bin/docker) is enough as a client.
  command -v docker >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  # de-duplicate
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ "$(id -u)" != 0 ]]; then
    log "missing ${missing[*]} and not root: install them (apt-get install ${missing[*]})"
    return 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$STATE_DIR/apt.log" 2>&1; then
    log "apt-get install failed without an update; running apt-get update"
    apt-get update >>"$STATE_DIR/apt.log" 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$STATE_DIR/apt.log" 2>&1 || {
      log "apt-get install failed; see $STATE_DIR/apt.log"
      return 1
    }
  fi
}

cmd_start() {
  if engine_answers; then
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "dockerd not installed; run: $0 ensure"
    return 1
  fi
  if [[ "$(id -u)" != 0 ]]; then
    log "no docker engine answers and starting dockerd needs root"
    return 1
  fi
  local pid
  if pid="$(our_pid)"; then
    log "dockerd (pid $pid) is starting; waiting"
  else
    rm -f "$MARKER" "$PID_FILE"
    # A stale pid file from a dockerd that died would block a new start.
    [[ -S /var/run/docker.sock ]] && ! pgrep -x dockerd >/dev/null 2>&1 && rm -f /var/run/docker.sock
    [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null && rm -f /var/run/docker.pid
    local driver
    driver="$(storage_driver)"
    log "starting dockerd --storage-driver=$driver (log: $LOG_FILE)"
    # setsid: own session, so the engine outlives this shell and is not hit by
    # the caller's job-control signals. Images are kept per driver: after a change
    # of driver the stand-ins are built again (infra/docker/images.sh), and the
    # other driver's folder under the data root stays until removed by hand.
    setsid dockerd --storage-driver="$driver" ${HELFY_DOCKERD_ARGS:-} >>"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    : >"$MARKER"
  fi
  local waited=0
  until engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "dockerd exited; last log lines:"
      tail -n 20 "$LOG_FILE" >&2 || true
      rm -f "$MARKER" "$PID_FILE"
      return 1
    fi
    if ((waited >= START_TIMEOUT * 5)); then
      log "dockerd did not answer within ${START_TIMEOUT}s; see $LOG_FILE"
      return 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  log "engine up (pid $pid) after ~$((waited / 5))s"
}

cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$MARKER" "$PID_FILE"
    if engine_answers; then
      log "engine was not started by helfy; leaving it running"
    fi
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd did not stop in 30s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$MARKER" "$PID_FILE"
}

cmd_status() {
  local pid
  if engine_answers; then
    if pid="$(our_pid)"; then
      echo "running (started by helfy, pid $pid, $(running_driver))"
    else
      echo "running (external, $(running_driver))"
    fi
    return 0
  fi
  echo "stopped"
  return 3
}

cmd_env() {
  # Server API version, so clients newer than the daemon can pin it.
  local v
  v="$("$DOCKER" version --format '{{.Server.APIVersion}}' 2>/dev/null || true)"
  [[ -n "$v" ]] && echo "export DOCKER_API_VERSION=$v"
}

mkdir -p "$STATE_DIR"
case "${1:-}" in
  ensure) cmd_ensure ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 {ensure|start|stop|status|env}" >&2
    exit 2
    ;;
esac
