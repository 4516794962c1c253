#!/usr/bin/env bash
# scripts/k8s-dry-run.sh [export flags...] — OPT-IN check (not part of `npm test`; a cold build of
# the API server costs more than the suite's time budget): applies what `helfy export kubernetes`
# writes to a real kube-apiserver with `kubectl apply --dry-run=server`, so the objects go through
# the server's own defaulting, validation and admission (nothing is persisted, nothing runs).
# See docs/kubernetes-dry-run.md.
#
#   1. builds the CLI if dist/ is missing (node scripts/build.mjs; HELFY_DRY_RUN_REBUILD=1 forces it)
#   2. a temporary workspace: helfy init <tmp>/helfy-dry-run --yes --no-apps, then
#      helfy export kubernetes --out <tmp>/helfy-dry-run/k8s [export flags...]
#   3. infra/kube-apiserver.sh start (builds kube-apiserver + etcd once, cached)
#   4. creates the export's namespace for real (labelled pod-security enforce/warn=restricted), then
#      kubectl apply --dry-run=server -k <export>: every object must be accepted
#   5. the pods the workloads would create: each pod template as a Pod, create --dry-run=server
#      (ServiceAccount admission, Pod Security "restricted" enforced); every one must be accepted
#   6. negative controls: objects the server must refuse (a Pod naming a service account that does
#      not exist, a Pod without the restricted security settings, a Deployment with replicas: -1);
#      the check fails if one is accepted; and a Deployment with an insecure pod template must
#      draw a Pod Security warning
# Exit 0 only if everything above holds. Everything is cleaned up on exit (HELFY_DRY_RUN_KEEP=1
# keeps the temp dir and leaves the servers running; stop them with infra/kube-apiserver.sh stop).
# Env: KUBECTL (default kubectl), HELFY_CACHE_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KUBECTL="${KUBECTL:-kubectl}"
HELFY=(node "$ROOT/bin/helfy.js")
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "k8s-dry-run: $*" >&2; }

command -v "$KUBECTL" >/dev/null 2>&1 || { say "kubectl not found (set KUBECTL)"; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/helfy-k8s-dry-run.XXXXXX")"
SERVER="$TMP/server"
cleanup() {
  local rc=$?
  trap '' INT TERM # a second signal must not cut the clean-up short
  if [[ "${HELFY_DRY_RUN_KEEP:-0}" == 1 ]]; then
    say "kept $TMP (servers still running: bash infra/kube-apiserver.sh stop $SERVER)"
  else
    bash "$ROOT/infra/kube-apiserver.sh" stop "$SERVER" 2>/dev/null || true
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. the CLI
if [[ ! -f "$ROOT/dist/main.js" || "${HELFY_DRY_RUN_REBUILD:-0}" == 1 ]]; then
  say "building the CLI (node scripts/build.mjs)"
  (cd "$ROOT" && node scripts/build.mjs)
fi

# 2. a workspace and its export
WS="$TMP/helfy-dry-run"
OUT="$WS/k8s"
mkdir -p "$WS"
"${HELFY[@]}" init "$WS" --yes --no-apps >"$TMP/helfy.log" 2>&1 || { cat "$TMP/helfy.log" >&2; exit 1; }
(cd "$WS" && "${HELFY[@]}" export kubernetes --out "$OUT" "$@") >"$TMP/helfy.log" 2>&1 || { cat "$TMP/helfy.log" >&2; exit 1; }
NS="$(sed -n 's/^namespace: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$OUT/kustomization.yaml")"
[[ -n "$NS" ]] || { say "no namespace in $OUT/kustomization.yaml"; exit 1; }
RENDERED="$TMP/rendered.yaml"
"$KUBECTL" kustomize "$OUT" >"$RENDERED"
EXPECTED="$(grep -c '^kind:' "$RENDERED")"
say "exported $EXPECTED objects into $OUT (namespace $NS)"

# 3. the API server
t0="$(now)"
KUBECONFIG_FILE="$(bash "$ROOT/infra/kube-apiserver.sh" start "$SERVER")"
t1="$(now)"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
SERVER_VERSION="$(k version -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | tail -n 1)"
say "API server $SERVER_VERSION ready in $(secs "$t0" "$t1") s (including the cached-build check)"

# 4. the export, applied with a server-side dry run into its namespace
# --save-config: the export's own Namespace object then applies without a missing-annotation warning.
if ! k get namespace "$NS" >/dev/null 2>&1; then k create namespace "$NS" --save-config >/dev/null; fi
# Pod Security admission: warn on workload templates and enforce on pods at the "restricted"
# level, which docs/deploy.md's security settings are meant to meet.
k label --overwrite namespace "$NS" pod-security.kubernetes.io/enforce=restricted \
  pod-security.kubernetes.io/warn=restricted >/dev/null

fail=0
APPLY_OUT="$TMP/apply.out"
APPLY_ERR="$TMP/apply.err"
t0="$(now)"
set +e
k apply --dry-run=server -k "$OUT" >"$APPLY_OUT" 2>"$APPLY_ERR"
apply_rc=$?
set -e
t1="$(now)"
ACCEPTED="$(grep -c '(server dry run)$' "$APPLY_OUT" || true)"
echo "== kubectl apply --dry-run=server -k (namespace $NS): $ACCEPTED of $EXPECTED objects accepted in $(secs "$t0" "$t1") s"
sed 's/^/   /' "$APPLY_OUT"
if [[ -s "$APPLY_ERR" ]]; then
  echo "== server messages (refusals and warnings):"
  sed 's/^/   /' "$APPLY_ERR"
fi
if [[ "$apply_rc" != 0 || "$ACCEPTED" != "$EXPECTED" ]]; then
  echo "FAIL: the export was not accepted whole (kubectl exit $apply_rc, $ACCEPTED of $EXPECTED accepted)"
  fail=1
fi
if grep -q 'would violate PodSecurity' "$APPLY_ERR"; then
  echo "FAIL: a workload's pod template violates Pod Security \"restricted\" (warnings above)"
  fail=1
fi

# 5. the pods the controllers would create (no controller manager runs here, so nothing creates
# them): each workload's pod template as a Pod, through Pod admission. The namespace's "default"
# service account is normally made by the controller manager; create it for real first.
if ! k -n "$NS" get serviceaccount default >/dev/null 2>&1; then
  k -n "$NS" create serviceaccount default >/dev/null
fi
PODS="$TMP/pods.json"
k create --dry-run=client -f "$RENDERED" -o json | node -e '
  // kubectl prints one pretty-printed JSON object after another (top-level braces in column 0).
  const text = require("fs").readFileSync(0, "utf8").trim();
  const objects = JSON.parse(`[${text.replace(/^}\n{$/gm, "},{")}]`)
    .flatMap((o) => (o.kind === "List" ? o.items : [o]));
  const items = objects
    .filter((o) => ["Deployment", "StatefulSet", "Job", "DaemonSet"].includes(o.kind))
    .map((o) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${o.metadata.name}-${o.kind.toLowerCase()}-pod`, namespace: o.metadata.namespace,
                  labels: o.spec.template.metadata?.labels ?? {} },
      // A StatefulSet pod gets its claim templates as volumes (claim <template>-<name>-0).
      spec: { ...o.spec.template.spec, volumes: [ ...(o.spec.template.spec.volumes ?? []),
        ...(o.spec.volumeClaimTemplates ?? []).map((t) => ({ name: t.metadata.name,
          persistentVolumeClaim: { claimName: `${t.metadata.name}-${o.metadata.name}-0` } })) ] },
    }));
  process.stdout.write(JSON.stringify({ apiVersion: "v1", kind: "List", items }));
' >"$PODS"
POD_EXPECTED="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).items.length)' "$PODS")"
t0="$(now)"
set +e
k create --dry-run=server -f "$PODS" >"$TMP/pods.out" 2>"$TMP/pods.err"
pods_rc=$?
set -e
t1="$(now)"
POD_ACCEPTED="$(grep -c '(server dry run)$' "$TMP/pods.out" || true)"
echo "== pod templates as Pods (create --dry-run=server, Pod Security enforce=restricted): $POD_ACCEPTED of $POD_EXPECTED accepted in $(secs "$t0" "$t1") s"
sed 's/^/   /' "$TMP/pods.out"
if [[ -s "$TMP/pods.err" ]]; then echo "== server messages:"; sed 's/^/   /' "$TMP/pods.err"; fi
if [[ "$pods_rc" != 0 || "$POD_ACCEPTED" != "$POD_EXPECTED" ]]; then
  echo "FAIL: not every pod template was accepted as a Pod"
  fail=1
fi

# 6. negative controls: the server must refuse these, or the checks above prove nothing.
refuse() {
  local what=$1 want=$2 manifest=$3 out rc
  set +e
  out="$(k create --dry-run=server -f - <<<"$manifest" 2>&1)"
  rc=$?
  set -e
  if [[ "$rc" != 0 ]] && grep -q -- "$want" <<<"$out"; then
    echo "== refused, as it must be: $what"
    echo "   $out"
  else
    echo "FAIL: the server did not refuse $what (exit $rc): $out"
    fail=1
  fi
}
refuse "a Pod naming a service account that does not exist" 'serviceaccount "no-such-account" not found' "
apiVersion: v1
kind: Pod
metadata: { name: refused-pod, namespace: $NS }
spec:
  serviceAccountName: no-such-account
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: c
      image: busybox:1.37
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
"
refuse "a Pod without the restricted security settings (Pod Security)" 'violates PodSecurity "restricted' "
apiVersion: v1
kind: Pod
metadata: { name: refused-root-pod, namespace: $NS }
spec:
  containers: [ { name: c, image: busybox:1.37 } ]
"
refuse "a Deployment with replicas: -1" 'spec.replicas: Invalid value: -1' "
apiVersion: apps/v1
kind: Deployment
metadata: { name: refused-deployment, namespace: $NS }
spec:
  replicas: -1
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec: { containers: [ { name: c, image: busybox:1.37 } ] }
"

# The same for the Pod Security warnings step 4 relies on: an insecure workload template must
# draw one (workloads are never refused for it, only warned about).
set +e
warn_out="$(k create --dry-run=server -f - 2>&1 <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: { name: warned-deployment, namespace: $NS }
spec:
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec: { containers: [ { name: c, image: busybox:1.37 } ] }
EOF
)"
set -e
if grep -q 'would violate PodSecurity "restricted' <<<"$warn_out"; then
  echo "== warned about, as it must be: a Deployment whose pods lack the restricted settings"
  grep 'would violate' <<<"$warn_out" | cut -c1-160 | sed 's/^/   /'
else
  echo "FAIL: no Pod Security warning for an insecure Deployment: $warn_out"
  fail=1
fi

if [[ "$fail" == 0 ]]; then
  echo "OK: kube-apiserver $SERVER_VERSION accepted all $EXPECTED exported objects and all $POD_EXPECTED pods, refused all 3 controls and warned about the 4th"
else
  echo "FAILED (see above)"
fi
exit "$fail"
