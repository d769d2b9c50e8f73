#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster on 127.0.0.1 for the tests.
#
#   scripts/pg-test-cluster.sh start    start (or reuse) the cluster; print its DATABASE_URL
#   scripts/pg-test-cluster.sh fresh    stop and delete any old cluster, create a new one;
#                                       print its DATABASE_URL (the test suite uses this)
#   scripts/pg-test-cluster.sh stop     stop it (the files stay for the next start)
#   scripts/pg-test-cluster.sh destroy  stop it and delete its files
#
# TONGBAN_PG_TEST_DIR  data directory (default var/pgtest)
# TONGBAN_PG_TEST_PORT port (default 54329; if taken by something else and not set
#                      explicitly, a free port is chosen and remembered in the cluster)
# PG_BIN               PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#
# The cluster trusts local TCP connections, keeps nothing durable (fsync off) and
# listens on 127.0.0.1 only. As root, initdb and postgres run as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DATA=${TONGBAN_PG_TEST_DIR:-$PWD/var/pgtest}
DEFAULT_PORT=54329
USER_NAME=tongban
DB_NAME=tongban

as_owner() {
  # initdb and postgres refuse to run as root: use the postgres system user then.
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

log() { echo "pg-test-cluster: $*" >&2; }

port_in_use() {
  # True when something accepts TCP connections on 127.0.0.1:$1.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  "${PYTHON:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

configured_port() {
  sed -n "s/^port = \([0-9]*\).*/\1/p" "$DATA/postgresql.conf" | tail -n 1
}

is_running() {
  [[ -f "$DATA/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1 \
    && postmaster_is_ours
}

postmaster_is_ours() {
  # A postmaster.pid left by a crash may name a PID that now belongs to another
  # process; only a postgres process serving this data directory counts.
  local pid
  pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "postgres" || return 1
  [[ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null || true)" == "$(readlink -f "$DATA")" ]] \
    || tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DATA"
}

clear_stale_pid() {
  if [[ -f "$DATA/postmaster.pid" ]] && ! postmaster_is_ours; then
    log "removing stale $DATA/postmaster.pid"
    rm -f "$DATA/postmaster.pid"
  fi
}

choose_port() {
  if [[ -n "${TONGBAN_PG_TEST_PORT:-}" ]]; then
    if port_in_use "$TONGBAN_PG_TEST_PORT"; then
      log "port $TONGBAN_PG_TEST_PORT (TONGBAN_PG_TEST_PORT) is in use by another server"
      exit 1
    fi
    echo "$TONGBAN_PG_TEST_PORT"
  elif port_in_use "$DEFAULT_PORT"; then
    free_port
  else
    echo "$DEFAULT_PORT"
  fi
}

write_config() {
  # Settings live in the cluster, so `start` needs no options and knows its port.
  local port=$1
  as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<EOF
# tongban test cluster
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 64MB
EOF
}

create_cluster() {
  local port
  port=$(choose_port)
  mkdir -p "$DATA"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$DATA"
    chmod 700 "$DATA"
  fi
  as_owner "$PG_BIN/initdb" -D "$DATA" -U "$USER_NAME" --auth=trust --encoding=UTF8 --no-locale \
    --no-sync >/dev/null
  write_config "$port"
}

start_cluster() {
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    create_cluster
  elif [[ -z "$(configured_port)" ]]; then
    # A cluster made by an older version of this script, started with options.
    write_config "${TONGBAN_PG_TEST_PORT:-$DEFAULT_PORT}"
  fi
  if ! is_running; then
    clear_stale_pid
    local port
    port=$(configured_port)
    if port_in_use "$port"; then
      if [[ -n "${TONGBAN_PG_TEST_PORT:-}" ]]; then
        log "port $port is in use by another server"
        exit 1
      fi
      port=$(free_port)
      log "port $(configured_port) is taken; using $port"
      echo "port = $port" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
    fi
    if ! as_owner "$PG_BIN/pg_ctl" -D "$DATA" -w -t 60 -l "$DATA/server.log" start >/dev/null; then
      log "the server did not start; its log follows"
      tail -n 30 "$DATA/server.log" >&2 || true
      exit 1
    fi
  fi
  local port
  port=$(configured_port)
  # The application's own database (the tests create test_* databases themselves).
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$USER_NAME" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$USER_NAME" "$DB_NAME"
  fi
  echo "postgres://$USER_NAME@127.0.0.1:$port/$DB_NAME"
}

stop_cluster() {
  if [[ -f "$DATA/PG_VERSION" ]] && is_running; then
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 \
      || true
  fi
}

destroy_cluster() {
  stop_cluster
  # Refuse to delete anything that is not a cluster directory.
  if [[ -d "$DATA" ]]; then
    if [[ -f "$DATA/PG_VERSION" || -z "$(ls -A "$DATA")" ]]; then
      rm -rf "$DATA"
    else
      log "$DATA is not a PostgreSQL data directory; not deleting it"
      exit 1
    fi
  fi
}

if [[ ! -x "$PG_BIN/initdb" ]]; then
  log "$PG_BIN/initdb is missing: apt-get install postgresql-15 (scripts/system-deps.sh)"
  exit 1
fi

case "${1:-}" in
  start) start_cluster ;;
  fresh)
    destroy_cluster
    start_cluster
    ;;
  stop) stop_cluster ;;
  destroy) destroy_cluster ;;
  *)
    echo "usage: $0 start|fresh|stop|destroy" >&2
    exit 2
    ;;
esac
