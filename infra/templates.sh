#!/usr/bin/env bash
# Installs the bundled app templates' dependencies (templates/*/node_modules) for the test suites,
# which import the templates' sources directly. `npm ci` runs only when a template's lockfile
# changed since the last install (its sha256 is kept in node_modules/.helfy-lock.sha256), so a
# cached run costs a hash per template. npm's own cache (~/.npm) makes a re-install offline-fast.
set -euo pipefail
cd "$(dirname "$0")/../templates"
for dir in */; do
  dir=${dir%/}
  [ -f "$dir/package-lock.json" ] || continue
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  have=$(cat "$dir/node_modules/.helfy-lock.sha256" 2>/dev/null || true)
  if [ "$want" = "$have" ]; then
    echo "templates/$dir: dependencies up to date"
    continue
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$dir/node_modules/.helfy-lock.sha256"
  echo "templates/$dir: installed"
done
