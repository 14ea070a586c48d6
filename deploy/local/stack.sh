#!/usr/bin/env bash
# Manages a local PostgreSQL 15 + nats-server (JetStream) for development, under a state directory.
#
#   deploy/local/stack.sh start    # initdb if needed, start both, create database `ste`; prints env
#   deploy/local/stack.sh stop     # stop both (safe when not running)
#   deploy/local/stack.sh status   # exit 0 when both run, 3 otherwise
#   deploy/local/stack.sh env      # just the export lines: eval "$(deploy/local/stack.sh env)"
#   deploy/local/stack.sh wipe     # stop and delete all state
#
# Environment: STE_STATE_DIR (default: <repo>/.state), STE_PG_PORT (55432), STE_NATS_PORT (54222),
# STE_PG_OPTIONS (extra server options, e.g. "-c shared_buffers=1GB"; the benchmark sets them).
# All commands are idempotent. Progress goes to stderr; `start` and `env` print only the export
# lines on stdout, so `eval "$(deploy/local/stack.sh start)"` works too.
#
# PostgreSQL refuses to run as root: when run as root, initdb/pg_ctl run as the `postgres` user.
# If that user cannot reach the state directory (e.g. a checkout under /root), or the socket path
# would be too long, the PostgreSQL files live in /tmp/ste-state-<hash of state dir>/ instead and
# STATE/pg is a symlink to them.
set -euo pipefail

readonly PG_BIN=/usr/lib/postgresql/15/bin
readonly PG_PORT="${STE_PG_PORT:-55432}"
readonly NATS_PORT="${STE_NATS_PORT:-54222}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly REPO
STATE="$(realpath -m "${STE_STATE_DIR:-$REPO/.state}")"
readonly STATE
readonly MARKER="$STATE/.ste-state"
readonly NATS_DIR="$STATE/nats"
readonly NATS_PID="$STATE/nats-server.pid"
readonly NATS_LOG="$STATE/nats-server.log"

log() { printf 'stack.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Runs a command as the postgres user (as root) or as ourselves, from a directory postgres can read.
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

print_env() {
  printf 'export STE_DATABASE_URL=postgresql://postgres@127.0.0.1:%s/ste\n' "$PG_PORT"
  printf 'export STE_NATS_URL=nats://127.0.0.1:%s\n' "$NATS_PORT"
}

# Waits until 127.0.0.1:$1 accepts TCP connections; $2 = deadline in seconds, $3 = pid to watch.
wait_port() {
  local port="$1" deadline=$((SECONDS + $2)) pid="${3:-}"
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.05
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ----------------------------------------------------------------------------------------------
# PostgreSQL

# Directory holding data/, postgres.log and the Unix socket. Empty when not decided yet.
pg_root() {
  if [[ -e "$STATE/pg" || -L "$STATE/pg" ]]; then
    realpath -m "$STATE/pg"
  fi
}

# Decides where the PostgreSQL files go (first start only) and creates the directory.
prepare_pg_root() {
  local root
  root="$(pg_root)"
  if [[ -z "$root" ]]; then
    root="$STATE/pg"
    local reachable=1
    if is_root && ! runuser -u postgres -- test -x "$STATE"; then reachable=0; fi
    # Unix socket paths are limited to 107 bytes: .../.s.PGSQL.NNNNN
    if ((${#root} + 18 > 100)); then reachable=0; fi
    if ((reachable == 0)); then
      local hash
      hash="$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
      root="/tmp/ste-state-$hash/pg"
      log "PostgreSQL cannot live in $STATE (unreachable for postgres or socket path too long); using $root (symlinked as $STATE/pg)"
      mkdir -p "$root"
      chmod 0755 "/tmp/ste-state-$hash"
      ln -sfn "$root" "$STATE/pg"
    else
      mkdir -p "$root"
    fi
  fi
  # The target may have vanished (e.g. /tmp cleaned on reboot): recreate it.
  mkdir -p "$root"
  chmod 0755 "$root"
  if is_root; then chown postgres: "$root"; fi
  printf '%s\n' "$root"
}

# A postmaster killed a moment ago can linger as a zombie until init reaps it (about a second on
# some container inits); pg_ctl would take it for a live server. Wait for it to go away.
wait_pg_zombie() {
  local pid state deadline=$((SECONDS + 10))
  pid="$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)" || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  while state="$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$pid/stat" 2>/dev/null)" &&
    [[ "$state" == Z ]] && ((SECONDS < deadline)); do
    sleep 0.1
  done
}

pg_running() {
  local root
  root="$(pg_root)"
  [[ -n "$root" && -f "$root/data/PG_VERSION" ]] || return 1
  wait_pg_zombie "$root"
  as_pg "$PG_BIN/pg_ctl" -D "$root/data" status >/dev/null 2>&1
}

psql_ste() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"
}

start_pg() {
  local root
  root="$(prepare_pg_root)"
  if [[ ! -f "$root/data/PG_VERSION" ]]; then
    log "initdb $root/data"
    rm -rf "$root/data"
    as_pg "$PG_BIN/initdb" -D "$root/data" -U postgres -A trust -E UTF8 --locale=C \
      --no-instructions >"$STATE/initdb.log" 2>&1 || {
      cat "$STATE/initdb.log" >&2
      die "initdb failed"
    }
  fi
  if pg_running; then
    log "PostgreSQL already running ($root/data)"
  else
    if port_open "$PG_PORT"; then die "port $PG_PORT is already in use (set STE_PG_PORT)"; fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$root/data" -l "$root/postgres.log" -w -t 60 \
      -o "-c port=$PG_PORT -c listen_addresses='127.0.0.1' -c unix_socket_directories='$root' -c max_connections=200 ${STE_PG_OPTIONS:-}" \
      start >/dev/null || {
      tail -n 30 "$root/postgres.log" >&2 || true
      die "PostgreSQL did not start"
    }
  fi
  if [[ "$(psql_ste -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ste'")" != 1 ]]; then
    log "creating database ste"
    psql_ste -d postgres -c 'CREATE DATABASE ste' >/dev/null
  fi
}

stop_pg() {
  if pg_running; then
    log "stopping PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" -D "$(pg_root)/data" -m fast -w -t 60 stop >/dev/null
  else
    log "PostgreSQL not running"
  fi
}

# ----------------------------------------------------------------------------------------------
# nats-server

# Prints the pid of our nats-server if it is alive (and really is nats-server).
nats_pid() {
  [[ -f "$NATS_PID" ]] || return 1
  local pid
  pid="$(<"$NATS_PID")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *nats-server* ]] || return 1
  printf '%s\n' "$pid"
}

start_nats() {
  local pid
  if pid="$(nats_pid)"; then
    log "nats-server already running (pid $pid)"
    return
  fi
  command -v nats-server >/dev/null || die "nats-server not installed (deploy/local/install-deps.sh)"
  if port_open "$NATS_PORT"; then die "port $NATS_PORT is already in use (set STE_NATS_PORT)"; fi
  mkdir -p "$NATS_DIR"
  log "starting nats-server on 127.0.0.1:$NATS_PORT (JetStream store $NATS_DIR)"
  setsid nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$NATS_DIR" -m 0 \
    </dev/null >>"$NATS_LOG" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$NATS_PID"
  if ! wait_port "$NATS_PORT" 10 "$pid"; then
    tail -n 30 "$NATS_LOG" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f "$NATS_PID"
    die "nats-server did not start"
  fi
}

stop_nats() {
  local pid
  if ! pid="$(nats_pid)"; then
    log "nats-server not running"
    rm -f "$NATS_PID"
    return
  fi
  log "stopping nats-server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "nats-server did not exit after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.05
  done
  rm -f "$NATS_PID"
}

# ----------------------------------------------------------------------------------------------
# Commands

cmd_start() {
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL 15 not installed (deploy/local/install-deps.sh)"
  mkdir -p "$STATE"
  touch "$MARKER"
  start_pg
  start_nats
  log "ready (state: $STATE)"
  print_env
}

cmd_stop() {
  stop_nats
  stop_pg
}

cmd_status() {
  local rc=0 pid
  if pg_running; then
    echo "postgresql: running on 127.0.0.1:$PG_PORT (data $(pg_root)/data)"
  else
    echo "postgresql: stopped"
    rc=3
  fi
  if pid="$(nats_pid)"; then
    echo "nats-server: running on 127.0.0.1:$NATS_PORT (pid $pid, store $NATS_DIR)"
  else
    echo "nats-server: stopped"
    rc=3
  fi
  echo "state: $STATE"
  return "$rc"
}

cmd_wipe() {
  if [[ ! -e "$STATE" ]]; then
    log "nothing to wipe ($STATE does not exist)"
    return
  fi
  # Refuse to delete a directory we did not create.
  [[ -f "$MARKER" ]] || die "$STATE has no .ste-state marker; refusing to delete it"
  cmd_stop
  if [[ -L "$STATE/pg" ]]; then
    local target
    target="$(readlink "$STATE/pg")"
    if [[ "$target" == /tmp/ste-state-*/pg ]]; then rm -rf "$(dirname "$target")"; fi
  fi
  rm -rf "$STATE"
  log "wiped $STATE"
}

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  wipe) cmd_wipe ;;
  *) usage ;;
esac
