#!/usr/bin/env bash
# Entrypoint of the Helfy postgres stand-in. Same behaviour as the entrypoint
# of timescale/timescaledb-ha (itself derived from docker-library/postgres):
# on an empty $PGDATA run initdb with POSTGRES_USER / POSTGRES_PASSWORD, allow
# password (scram-sha-256) connections from any host, create POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*, then exec the server. Re-implemented here.
set -Eeo pipefail

# VAR or VAR_FILE (docker secrets), never both.
file_env() {
  local var="$1" def="${2:-}" fvar="${1}_FILE"
  if [[ -n "${!var:-}" && -n "${!fvar:-}" ]]; then
    echo "error: both $var and $fvar are set (but are exclusive)" >&2
    exit 1
  fi
  local val="$def"
  if [[ -n "${!var:-}" ]]; then val="${!var}"; elif [[ -n "${!fvar:-}" ]]; then val="$(<"${!fvar}")"; fi
  export "$var"="$val"
  unset "$fvar"
}

wants_help() {
  local a
  for a; do case "$a" in -'?' | --help | --describe-config | -V | --version) return 0 ;; esac; done
  return 1
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"
  DATABASE_ALREADY_EXISTS=
  if [[ -s "$PGDATA/PG_VERSION" ]]; then DATABASE_ALREADY_EXISTS=true; fi
}

create_dirs() {
  [[ -d "$PGDATA" ]] || mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" 2>/dev/null || :
  mkdir -p /var/run/postgresql 2>/dev/null || :
  chmod 1777 /var/run/postgresql 2>/dev/null || :
  if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    [[ "$(id -u)" != 0 ]] || find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
    chmod 700 "$POSTGRES_INITDB_WALDIR"
  fi
  if [[ "$(id -u)" == 0 ]]; then
    find "$PGDATA" \! -user postgres -exec chown postgres: '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres: '{}' +
  fi
}

# Started with --user UID that has no passwd entry: fake one for initdb.
setup_nss_wrapper() {
  getent passwd "$(id -u)" >/dev/null 2>&1 && return 0
  local w
  for w in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
    [[ -s "$w" ]] || continue
    NSS_WRAPPER_PASSWD="$(mktemp /tmp/passwd.XXXXXX)"
    NSS_WRAPPER_GROUP="$(mktemp /tmp/group.XXXXXX)"
    export LD_PRELOAD="$w" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
    printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$(id -u)" "$(id -g)" "$PGDATA" >"$NSS_WRAPPER_PASSWD"
    printf 'postgres:x:%s:\n' "$(id -g)" >"$NSS_WRAPPER_GROUP"
    return 0
  done
  return 0
}

verify_env() {
  if [[ -z "$POSTGRES_PASSWORD" && "$POSTGRES_HOST_AUTH_METHOD" != trust ]]; then
    cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
EOE
    exit 1
  fi
  if [[ "$POSTGRES_HOST_AUTH_METHOD" == trust ]]; then
    echo "WARNING: POSTGRES_HOST_AUTH_METHOD=trust: any host can connect without a password." >&2
  fi
}

init_db_dir() {
  if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then set -- --waldir "$POSTGRES_INITDB_WALDIR" "$@"; fi
  # initdb --pwfile refuses an empty file, hence the newline.
  eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"' "$@"'
}

setup_hba() {
  if [[ "${1:-}" == postgres ]]; then shift; fi
  local auth
  auth="$(postgres -C password_encryption "$@")" # scram-sha-256 on PG >= 14
  : "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

process_sql() {
  local q=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [[ -n "$POSTGRES_DB" ]]; then q+=(--dbname "$POSTGRES_DB"); fi
  PGHOST= PGHOSTADDR= "${q[@]}" "$@"
}

temp_server_start() {
  if [[ "${1:-}" == postgres ]]; then shift; fi
  set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

temp_server_stop() {
  PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

setup_db() {
  local exists
  exists="$(POSTGRES_DB= process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db' ;")"
  if [[ -z "$exists" ]]; then
    POSTGRES_DB= process_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
  fi
}

process_init_files() {
  local f
  for f; do
    case "$f" in
      *.sh) if [[ -x "$f" ]]; then echo "$0: running $f"; "$f"; else echo "$0: sourcing $f"; . "$f"; fi ;;
      *.sql) echo "$0: running $f"; process_sql -f "$f" ;;
      *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | process_sql ;;
      *.sql.xz) echo "$0: running $f"; xzcat "$f" | process_sql ;;
      *) if [[ -e "$f" ]]; then echo "$0: ignoring $f"; fi ;;
    esac
  done
}

main() {
  if [[ "${1:0:1}" == - ]]; then set -- postgres "$@"; fi
  if [[ "$1" == postgres ]] && ! wants_help "$@"; then
    setup_env
    create_dirs
    if [[ "$(id -u)" == 0 ]]; then
      exec gosu postgres "$BASH_SOURCE" "$@"
    fi
    setup_nss_wrapper
    if [[ -z "$DATABASE_ALREADY_EXISTS" ]]; then
      verify_env
      ls /docker-entrypoint-initdb.d/ >/dev/null
      init_db_dir
      setup_hba "$@"
      export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
      temp_server_start "$@"
      setup_db
      process_init_files /docker-entrypoint-initdb.d/*
      temp_server_stop
      unset PGPASSWORD
      printf '\nPostgreSQL init process complete; ready for start up.\n\n'
    else
      printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
    fi
  fi
  exec "$@"
}

main "$@"
