#!/usr/bin/env bash
# Entrypoint of the Helfy neo4j stand-in. Re-implements what the official
# neo4j:5 image's /startup/docker-entrypoint.sh does for a community server:
#  - as root: chown /data, /logs (and NEO4J_HOME) to neo4j, then drop to neo4j:neo4j
#  - docker defaults (not overriding neo4j.conf): server.memory.pagecache.size=512M,
#    server.default_listen_address=0.0.0.0, server.directories.run=/run (here: NEO4J_HOME/run)
#  - /logs, /data, /import, /plugins mounted -> server.directories.*
#  - NEO4J_<name> env -> neo4j.conf setting (_ -> ., __ -> _), overriding the file
#  - NEO4J_AUTH / NEO4J_AUTH_PATH: "none" disables auth; "neo4j/<password>[/true]"
#    runs neo4j-admin dbms set-initial-password (password != "neo4j", user must be neo4j)
#  - CMD neo4j -> `neo4j console`; anything else is exec'd as is.
set -euo pipefail

cmd="${1:-neo4j}"
conf="$NEO4J_HOME/conf/neo4j.conf"

if [[ "$(id -u)" == 0 ]]; then
  as_neo4j=(gosu neo4j:neo4j)
else
  as_neo4j=()
fi

fix_owner() { # dir: make it writable by the neo4j user when we are root
  local d="$1"
  if [[ "$(id -u)" == 0 ]]; then
    chown -R neo4j:neo4j "$d"
  elif [[ ! -w "$d" ]]; then
    echo >&2 "Folder $d is not accessible for user: $(id -u) or group $(id -g)"
    exit 1
  fi
}

add_default() { # setting value: only when neo4j.conf does not set it
  grep -q "^$1=" "$conf" || printf '\n%s=%s\n' "$1" "$2" >>"$conf"
}

set_from_env() { # setting value: replaces any value in neo4j.conf
  if grep -q -F "$1=" "$conf"; then
    if [[ "$1" != server.jvm.additional ]]; then sed -i "/^${1//./\\.}=.*/d" "$conf"; fi
  fi
  printf '%s=%s\n' "$1" "$2" >>"$conf"
}

if [[ "$cmd" == neo4j || "$cmd" == neo4j-admin ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    chown -R neo4j:neo4j "$NEO4J_HOME"
  fi
  if [[ -d /logs ]]; then fix_owner /logs; : "${NEO4J_server_directories_logs:=/logs}"; fi
  if [[ -d /data ]]; then fix_owner /data; : "${NEO4J_server_directories_data:=/data}"; fi
  if [[ -d /import ]]; then : "${NEO4J_server_directories_import:=/import}"; fi
  if [[ -d /plugins ]]; then : "${NEO4J_server_directories_plugins:=/plugins}"; fi
  # Legacy 4.x names still honoured by the official image.
  : "${NEO4J_server_memory_pagecache_size:=${NEO4J_dbms_memory_pagecache_size:-}}"
  : "${NEO4J_server_default__listen__address:=${NEO4J_dbms_default__listen__address:-}}"
  for var in $(compgen -v | grep '^NEO4J_'); do export "$var"; done

  add_default server.memory.pagecache.size 512M
  add_default server.default_listen_address 0.0.0.0
  add_default server.directories.run "$NEO4J_HOME/run"

  not_configs=" NEO4J_ACCEPT_LICENSE_AGREEMENT NEO4J_AUTH NEO4J_AUTH_PATH NEO4J_DEBUG NEO4J_EDITION NEO4J_HOME NEO4J_PLUGINS NEO4J_SHA256 NEO4J_TARBALL NEO4J_VERSION NEO4J_CONF "
  while IFS= read -r var; do
    [[ "$not_configs" == *" $var "* ]] && continue
    value="${!var:-}"
    [[ -n "$value" ]] || continue
    setting="$(sed -e 's/^NEO4J_//' -e 's/_/./g' -e 's/\.\./_/g' <<<"$var")"
    if [[ "$setting" =~ ^[0-9] ]]; then
      echo >&2 "WARNING: $setting not written to conf file because settings that start with a number are not permitted"
      continue
    fi
    set_from_env "$setting" "$value"
  done < <(compgen -v | grep '^NEO4J_' | sort -r)
fi

if [[ "$cmd" == neo4j ]]; then
  auth="${NEO4J_AUTH:-}"
  if [[ -n "${NEO4J_AUTH_PATH:-}" ]]; then
    [[ -f "$NEO4J_AUTH_PATH" ]] || { echo >&2 "The password file '$NEO4J_AUTH_PATH' does not exist"; exit 1; }
    auth="$(cat "$NEO4J_AUTH_PATH")"
  fi
  if [[ "$auth" == none ]]; then
    set_from_env dbms.security.auth_enabled false
  elif [[ "$auth" =~ ^([^/]+)/([^/]+)/?([tT][rR][uU][eE])?$ ]]; then
    user="${BASH_REMATCH[1]}" password="${BASH_REMATCH[2]}" reset="${BASH_REMATCH[3]}"
    if [[ "$password" == neo4j ]]; then
      echo >&2 "Invalid value for password. It cannot be 'neo4j', which is the default."
      exit 1
    fi
    if [[ "$user" != neo4j ]]; then
      echo >&2 "Invalid admin username, it must be neo4j."
      exit 1
    fi
    min="$(sed -n 's/^dbms\.security\.auth_minimum_password_length=//p' "$conf" | tail -n 1)"
    if ((${#password} < ${min:-8})); then
      echo >&2 "Invalid value for password. The minimum password length is ${min:-8} characters."
    fi
    if [[ "$(id -u)" == 0 ]]; then
      mkdir -p /data/dbms
      chown neo4j:neo4j /data/dbms
    fi
    extra=()
    [[ -z "$reset" ]] || extra+=(--require-password-change)
    "${as_neo4j[@]}" neo4j-admin dbms set-initial-password "$password" "${extra[@]}"
  elif [[ -n "$auth" ]]; then
    echo >&2 "Invalid value for NEO4J_AUTH: '$auth'"
    exit 1
  fi
  exec "${as_neo4j[@]}" neo4j console
fi

if [[ "$cmd" == neo4j-admin ]]; then
  exec "${as_neo4j[@]}" "$@"
fi
exec "$@"
