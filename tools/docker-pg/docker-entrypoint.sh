#!/bin/sh
# Entry point of the local postgres:<major> image that build-image.sh makes from Debian's packages. It does
# the part of the official image's entry point that migrate-safe (and docker-compose.yml) rely on:
#   - first start: initdb in $PGDATA with superuser $POSTGRES_USER (default postgres), password
#     $POSTGRES_PASSWORD if given; remote connections allowed with $POSTGRES_HOST_AUTH_METHOD (default
#     scram-sha-256 when a password is given); refuses to start with neither, like the official image;
#     $POSTGRES_DB created when it is not `postgres`; $POSTGRES_INITDB_ARGS passed to initdb;
#   - runs as the postgres user, listening on 0.0.0.0:5432, logging to stderr, so the log carries
#     "database system is ready to accept connections" once the server takes TCP connections.
# Unlike the official image it prints that line once (no temporary server during initialisation) and
# runs no /docker-entrypoint-initdb.d scripts.
set -eu

PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# `docker run IMAGE -c fsync=off` means `postgres -c fsync=off`.
case "${1:-postgres}" in
  -*) set -- postgres "$@" ;;
esac
[ "$#" -gt 0 ] || set -- postgres

if [ "$1" != postgres ]; then
  exec "$@"
fi
shift

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 2775 /var/run/postgresql
  exec runuser -u postgres -- "$0" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  password=${POSTGRES_PASSWORD:-}
  auth=${POSTGRES_HOST_AUTH_METHOD:-}
  if [ -z "$password" ] && [ -z "$auth" ]; then
    cat >&2 <<'EOF'
Error: Database is uninitialized and superuser password is not specified.
       Give POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without one.
EOF
    exit 1
  fi
  [ -n "$auth" ] || auth=scram-sha-256

  pwfile=
  if [ -n "$password" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$password" >"$pwfile"
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image.
  "$PGBIN/initdb" --username="$user" ${pwfile:+--pwfile="$pwfile"} --encoding=UTF8 \
    --locale="${LANG:-C.UTF-8}" --auth-local=trust --auth-host=trust ${POSTGRES_INITDB_ARGS:-} \
    >&2
  [ -z "$pwfile" ] || rm -f "$pwfile"
  # As in the official image: trust inside the container, $auth for everyone else (the host's
  # connections arrive from the bridge network's gateway, not from loopback).
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    # Single-user mode: no temporary server, so no extra "ready to accept connections" line.
    printf 'CREATE DATABASE "%s";\n' "$db" | "$PGBIN/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up." >&2
fi

exec "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses='*' -p 5432 "$@"
