#!/usr/bin/env bash
# infra/kube-apiserver.sh — a real Kubernetes API server (kube-apiserver + etcd) on loopback, for
# the OPT-IN server-side dry run (scripts/k8s-dry-run.sh, docs/kubernetes-dry-run.md). Not part of
# provision.sh or the test suite: a cold build costs too much of the suite's time budget.
#
#   infra/kube-apiserver.sh build         builds once, from the Go module proxy (no prebuilt
#                                         binaries can be downloaded here), and caches:
#       ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/kube-apiserver-1.37.2/bin/{kube-apiserver,etcd}
#     prints that bin dir on stdout. Idempotent: a cached build returns at once.
#   infra/kube-apiserver.sh start <dir>   builds if needed, then starts etcd and kube-apiserver on
#     free loopback ports with state in <dir> (a generated token file and service-account key
#     pair, logs, pids); waits until /readyz answers; prints <dir>/kubeconfig on stdout.
#   infra/kube-apiserver.sh stop <dir>    stops the two servers started in <dir>.
#
# How it is built: k8s.io/kubernetes replaces its k8s.io/* staging modules with ./staging paths,
# so `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.37.2` refuses. A wrapper go.mod in a
# temp dir requires k8s.io/kubernetes v1.37.2 and maps every one of those replaces to the
# published module at v0.37.2 (the list below is the replace block of k8s.io/kubernetes
# v1.37.2's go.mod, read from the module proxy). etcd gets its own wrapper the same way (its
# server module replaces its sibling modules with ../ paths), so kube-apiserver is built with the
# exact etcd client versions Kubernetes pins. The version string is set with -ldflags, or kubectl
# cannot parse the server's version.
#
# Env: HELFY_CACHE_DIR, GO (go binary), KUBE_APISERVER_START_TIMEOUT (s, default 120).
# Progress goes to stderr; only the result goes to stdout.
set -euo pipefail

K8S_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
ETCD_VERSION=v3.7.3
CACHE_ROOT="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
PREFIX="$CACHE_ROOT/kube-apiserver-${K8S_VERSION#v}"
BIN="$PREFIX/bin"
GO="${GO:-go}"
# Static, stripped binaries; the version string kubectl needs. Part of the cache key (the stamp).
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean"
STAMP_WANT="kubernetes=$K8S_VERSION staging=$STAGING_VERSION etcd=$ETCD_VERSION cgo=0 ldflags=$LDFLAGS"

# The replace block of k8s.io/kubernetes v1.37.2's go.mod: k8s.io/<x> => ./staging/src/k8s.io/<x>.
STAGING_MODULES=(
  api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice
  externaljwt kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl
  kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin
  sample-controller streaming
)
# The replace block of go.etcd.io/etcd/server/v3 v3.7.3's go.mod (../<dir> siblings).
ETCD_SIBLINGS=(go.etcd.io/etcd/api/v3 go.etcd.io/etcd/client/pkg/v3 go.etcd.io/etcd/client/v3 go.etcd.io/etcd/pkg/v3)

log() { echo "kube-apiserver: $*" >&2; }
# Runs one go command in the background and waits for it, so a signal to this script can stop it
# (see the trap in build) instead of leaving it running; fd 9 (the build lock) is not passed on.
GOPID=
run_go() {
  local rc=0
  "$GO" "$@" 9>&- &
  GOPID=$!
  wait "$GOPID" || rc=$?
  GOPID=
  return "$rc"
}
die() { log "ERROR: $*"; exit 1; }

cached() {
  [[ -f "$PREFIX/.installed" && "$(<"$PREFIX/.installed")" == "$STAMP_WANT" \
     && -x "$BIN/kube-apiserver" && -x "$BIN/etcd" ]]
}

build() {
  if cached; then echo "$BIN"; return 0; fi
  command -v "$GO" >/dev/null 2>&1 || die "no Go toolchain ($GO) on PATH; kube-apiserver $K8S_VERSION needs Go >= 1.26"
  mkdir -p "$CACHE_ROOT"
  # Serialise concurrent builds.
  exec 9>"$CACHE_ROOT/.kube-apiserver.lock"
  if ! flock -n 9; then log "another build is running; waiting for it"; flock 9; fi
  if cached; then echo "$BIN"; return 0; fi

  # Everything is built in a temp dir next to the cache and renamed into place at the end, so a
  # killed build leaves nothing half-done (at most a .kube-apiserver-build.* dir, removed by the trap or by the next build).
  rm -rf "$CACHE_ROOT"/.kube-apiserver-build.*
  local tmp; tmp="$(mktemp -d "$CACHE_ROOT/.kube-apiserver-build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  trap 'if [[ -n "$GOPID" ]]; then kill "$GOPID" 2>/dev/null || true; wait "$GOPID" 2>/dev/null || true; fi; exit 143' INT TERM HUP
  mkdir -p "$tmp/k8s" "$tmp/etcd" "$tmp/out/bin"

  export CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=mod"

  {
    echo "module helfy.local/kube-apiserver-build"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    local m
    for m in "${STAGING_MODULES[@]}"; do echo "	k8s.io/$m => k8s.io/$m $STAGING_VERSION"; done
    echo ")"
  } >"$tmp/k8s/go.mod"
  {
    echo "module helfy.local/etcd-build"
    echo
    echo "go 1.26.0"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo
    echo "replace ("
    local s
    for s in "${ETCD_SIBLINGS[@]}"; do echo "	$s => $s $ETCD_VERSION"; done
    echo ")"
  } >"$tmp/etcd/go.mod"

  local t0 t1
  log "resolving and downloading modules (k8s.io/kubernetes $K8S_VERSION + k8s.io/* $STAGING_VERSION, etcd $ETCD_VERSION; cold: ~720 MB, ~20 s here)"
  t0=$SECONDS
  # go get resolves the graph, writes go.sum and downloads every module the package needs.
  run_go -C "$tmp/k8s" get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" >&2
  run_go -C "$tmp/k8s" list -deps k8s.io/kubernetes/cmd/kube-apiserver >/dev/null
  run_go -C "$tmp/etcd" get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  run_go -C "$tmp/etcd" list -deps go.etcd.io/etcd/server/v3 >/dev/null
  log "modules ready ($((SECONDS - t0)) s)"

  log "building kube-apiserver $K8S_VERSION (CPU-bound: 7-8 min on a busy 2-core machine, cold)"
  t1=$SECONDS
  run_go -C "$tmp/k8s" build -trimpath -ldflags="$LDFLAGS" -o "$tmp/out/bin/kube-apiserver" \
    k8s.io/kubernetes/cmd/kube-apiserver >&2
  log "kube-apiserver built ($((SECONDS - t1)) s)"

  log "building etcd $ETCD_VERSION"
  t1=$SECONDS
  run_go -C "$tmp/etcd" build -trimpath -ldflags="-s -w" -o "$tmp/out/bin/etcd" go.etcd.io/etcd/server/v3 >&2
  log "etcd built ($((SECONDS - t1)) s)"

  "$tmp/out/bin/kube-apiserver" --version >&2
  "$tmp/out/bin/etcd" --version >&2
  cp "$tmp/k8s/go.mod" "$tmp/out/kube-apiserver.go.mod"
  cp "$tmp/etcd/go.mod" "$tmp/out/etcd.go.mod"
  echo "$STAMP_WANT" >"$tmp/out/.installed"
  rm -rf "$PREFIX"
  mv "$tmp/out" "$PREFIX"
  log "installed in $PREFIX ($((SECONDS - t0)) s in all)"
  echo "$BIN"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

stop_pidfile() {
  local f=$1 pid
  [[ -f "$f" ]] || return 0
  pid="$(<"$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop() {
  local dir=${1:?usage: kube-apiserver.sh stop <dir>}
  stop_pidfile "$dir/kube-apiserver.pid"
  stop_pidfile "$dir/etcd.pid"
  log "stopped the servers in $dir"
}

start() {
  local dir=${1:?usage: kube-apiserver.sh start <dir>}
  local bin; bin="$(build)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ -f "$dir/kube-apiserver.pid" ]] && kill -0 "$(<"$dir/kube-apiserver.pid")" 2>/dev/null; then
    die "a kube-apiserver started in $dir is already running (stop it first)"
  fi
  command -v openssl >/dev/null 2>&1 || die "openssl is needed for the service-account key pair"

  # Credentials: one static token (group system:masters: every permission) and the key pair that
  # signs and verifies service-account tokens.
  local token; token="$(openssl rand -hex 24)"
  echo "$token,helfy-admin,helfy-admin,system:masters" >"$dir/tokens.csv"
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  chmod 600 "$dir/tokens.csv" "$dir/sa.key"

  local etcd_client etcd_peer api
  etcd_client="$(free_port)"; etcd_peer="$(free_port)"; api="$(free_port)"
  local t0=$SECONDS t0ns; t0ns="$(date +%s%N)"

  setsid "$bin/etcd" --name helfy --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "helfy=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync --log-level warn \
    </dev/null >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"

  # --endpoint-reconciler-type=none: with the default reconciler the server refuses a loopback
  # advertise address. No controller manager runs, so nothing is scheduled and no namespace gets
  # a "default" service account: this server is for admission (create/apply --dry-run=server).
  setsid "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api" \
    --cert-dir "$dir/certs" \
    --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC,Node \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --endpoint-reconciler-type none \
    </dev/null >"$dir/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"

  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: helfy
  cluster:
    server: https://127.0.0.1:$api
    insecure-skip-tls-verify: true
users:
- name: helfy-admin
  user:
    token: $token
contexts:
- name: helfy
  context:
    cluster: helfy
    user: helfy-admin
current-context: helfy
EOF
  chmod 600 "$dir/kubeconfig"

  local timeout=${KUBE_APISERVER_START_TIMEOUT:-120}
  until curl -fsk -o /dev/null -H "Authorization: Bearer $token" "https://127.0.0.1:$api/readyz"; do
    if ! kill -0 "$(<"$dir/etcd.pid")" 2>/dev/null; then tail -n 20 "$dir/etcd.log" >&2; stop "$dir"; die "etcd exited"; fi
    if ! kill -0 "$(<"$dir/kube-apiserver.pid")" 2>/dev/null; then tail -n 30 "$dir/kube-apiserver.log" >&2; stop "$dir"; die "kube-apiserver exited"; fi
    if (( SECONDS - t0 > timeout )); then
      tail -n 30 "$dir/kube-apiserver.log" >&2; stop "$dir"; die "not ready after $timeout s"
    fi
    sleep 0.2
  done
  local ms=$(( ($(date +%s%N) - t0ns) / 1000000 ))
  log "ready on https://127.0.0.1:$api after $((ms / 1000)).$(printf %03d $((ms % 1000))) s (etcd on 127.0.0.1:$etcd_client; logs in $dir)"
  echo "$dir/kubeconfig"
}

case "${1:-build}" in
  build) build ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 [build | start <dir> | stop <dir>]" >&2; exit 2 ;;
esac
