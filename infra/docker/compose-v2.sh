#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI plugin from the Go module proxy (no binary download is
# possible here) into ${HELFY_CACHE_DIR:-$HOME/.cache/helfy}/compose-v2/cli-plugins/docker-compose,
# so the end-to-end tests can run compose v2 next to Debian's docker-compose v1 via DOCKER_CONFIG.
# Idempotent; the last stdout line is the DOCKER_CONFIG folder to use.
set -euo pipefail
VERSION="${HELFY_COMPOSE_V2_VERSION:-v2.40.3}"
CACHE="${HELFY_CACHE_DIR:-$HOME/.cache/helfy}"
OUT="$CACHE/compose-v2"
BIN="$OUT/cli-plugins/docker-compose"
STAMP="$OUT/.installed-$VERSION"
if [[ -x "$BIN" && -f "$STAMP" ]] || { [[ -x "$BIN" ]] && "$BIN" version 2>/dev/null | grep -q "$VERSION"; }; then
  touch "$STAMP"
  echo "$OUT"
  exit 0
fi
command -v go >/dev/null || { echo "[compose-v2] go is required" >&2; exit 1; }
mkdir -p "$OUT/cli-plugins"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# `go install pkg@version` refuses this module (its go.mod has exclude/replace directives), so
# download the module and build its ./cmd with the module itself as the main module.
echo "[compose-v2] building github.com/docker/compose/v2@$VERSION (first build takes minutes)" >&2
dir=$(go mod download -json "github.com/docker/compose/v2@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d "$dir" ]] || { echo "[compose-v2] module download failed" >&2; exit 1; }
(cd "$dir" && CGO_ENABLED=0 go build -trimpath \
  -ldflags="-s -w -X github.com/docker/compose/v2/internal.Version=$VERSION" -o "$tmp/cmd" ./cmd) >&2
mv "$tmp/cmd" "$BIN"
touch "$STAMP"
"$BIN" version >&2
echo "$OUT"
