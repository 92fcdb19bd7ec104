#!/usr/bin/env bash
# PostgreSQL for tests and single-machine deployments: install (Debian packages), start, stop,
# status, wipe. Idempotent; listens on 127.0.0.1 only. Prints the connection URL on start.
#   scripts/pg.sh start|stop|status|wipe|url|dir
# RATSFACH_PG_PORT sets the port (default 54329). The data lives in "$DATA_DIR/pg", except when
# root runs this from a directory the postgres user may not enter (a clone in root's home, mode
# 0700): PostgreSQL runs as that user then, so its data goes to the postgres user's home, in a
# directory named after the data directory (two clones never share one). RATSFACH_PG_DIR sets
# the place outright. `dir` prints where it is.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${RATSFACH_PG_PORT:-54329}"
PG_DB="ratsfach"
URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"

pg_user_exists() { id -u postgres >/dev/null 2>&1; }

# Whether the postgres user can reach a directory: search permission on it and every parent.
pg_user_reaches() { pg_user_exists && runuser -u postgres -- test -x "$1" 2>/dev/null; }

# Where the data lives (see the header). Decided the same way by every subcommand: the data
# directory exists once `start` ran, and the postgres user exists once PostgreSQL is installed.
pg_dir() {
  if [ -n "${RATSFACH_PG_DIR:-}" ]; then echo "$RATSFACH_PG_DIR"; return; fi
  if ! is_root || ! pg_user_exists || [ ! -d "$DATA_DIR" ] || pg_user_reaches "$DATA_DIR"; then
    echo "$DATA_DIR/pg"
    return
  fi
  local home key
  home="$(getent passwd postgres | cut -d: -f6)"
  [ -n "$home" ] && [ -d "$home" ] || die "the postgres user cannot enter $DATA_DIR and has no home directory: set RATSFACH_PG_DIR to a directory it may enter"
  key="$(basename "$(dirname "$DATA_DIR")")-$(printf '%s' "$DATA_DIR" | sha256sum | cut -c1-12)"
  echo "$home/ratsfach/$key"
}

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

ensure_installed() {
  if ! pg_bin >/dev/null; then apt_install postgresql; fi
  pg_bin >/dev/null || die "PostgreSQL server binaries not found after install"
}

# PostgreSQL refuses to run as root: run its tools as the postgres user then, from a directory it
# may enter (the caller's may be closed to it).
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

running() { [ -f "$PG_DIR/data/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; }

start() {
  ensure_installed
  local bin; bin="$(pg_bin)"
  mkdir -p "$DATA_DIR"
  PG_DIR="$(pg_dir)"
  if [ -z "${RATSFACH_PG_DIR:-}" ] && [ "$PG_DIR" != "$DATA_DIR/pg" ]; then
    log "the postgres user cannot enter $DATA_DIR: PostgreSQL keeps its data in $PG_DIR"
  fi
  mkdir -p "$PG_DIR"
  if is_root; then
    chown postgres:postgres "$PG_DIR"
    chmod 700 "$PG_DIR"
    pg_user_reaches "$PG_DIR" ||
      die "the postgres user cannot enter $PG_DIR (a parent directory is closed to it): set RATSFACH_PG_DIR to a directory it may enter"
  fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "initdb in $PG_DIR/data"
    as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 256MB
CONF
  fi
  # The port is given at every start (not written at initdb), so RATSFACH_PG_PORT always holds.
  if running; then log "already running (data in $PG_DIR)"; else
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    if ! as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null; then
      tail -n 30 "$PG_DIR/postgres.log" >&2 || true
      die "PostgreSQL did not start; see $PG_DIR/postgres.log"
    fi
  fi
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB"
  fi
  echo "$URL"
}

stop() {
  local bin; bin="$(pg_bin || true)"
  if [ -n "$bin" ] && running; then
    log "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
  fi
}

case "${1:-}" in
  start) start ;;
  stop) PG_DIR="$(pg_dir)"; stop ;;
  status) PG_DIR="$(pg_dir)"; if running; then echo "running $URL"; else echo stopped; exit 3; fi ;;
  wipe) PG_DIR="$(pg_dir)"; stop; rm -rf "$PG_DIR"; log "wiped $PG_DIR" ;;
  url) echo "$URL" ;;
  dir) pg_dir ;;
  *) echo "usage: $0 start|stop|status|wipe|url|dir" >&2; exit 2 ;;
esac
