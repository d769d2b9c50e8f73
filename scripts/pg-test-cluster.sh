#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL 15 cluster on 127.0.0.1 for the tests.
#   scripts/pg-test-cluster.sh start   prints the DATABASE_URL to use
#   scripts/pg-test-cluster.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${TONGBAN_PG_TEST_PORT:-54329}
DATA=${TONGBAN_PG_TEST_DIR:-$PWD/var/pgtest}

as_owner() {
  # initdb and postgres refuse to run as root: use the postgres system user then.
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
      mkdir -p "$DATA"
      [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$DATA"
      as_owner "$PG_BIN/initdb" -D "$DATA" -U tongban --auth=trust --encoding=UTF8 --no-locale >/dev/null
    fi
    if ! as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_owner "$PG_BIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" start \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
    fi
    echo "postgres://tongban@127.0.0.1:$PORT/tongban"
    ;;
  stop)
    if [[ -f "$DATA/PG_VERSION" ]]; then
      as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
