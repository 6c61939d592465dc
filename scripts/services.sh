# shellcheck shell=bash
# shellcheck disable=SC2034  # SERVICES_STOPPED is read by the scripts that source this file
# Shared helpers for run.sh, stop.sh and test.sh: installs the system packages
# the project needs and starts/stops a private PostgreSQL 15 and Redis 7 per
# checkout. Source it; it does not change shell options and works under
# `set -euo pipefail`.
#
# Public functions:
#   ensure_packages [--chromium] [--topology]
#   pg_data_dir BASE NAME         -> path of the PostgreSQL data dir to use
#   pg_find_data_dir BASE NAME    -> same, without creating anything (for stopping)
#   pg_socket_dir DATA_DIR        -> Unix socket directory of that cluster
#   pg_run_as                     -> "postgres" when root, "" otherwise
#   start_postgres DATA_DIR PORT [--fast] [--db NAME]...
#   stop_postgres DATA_DIR
#   start_redis DATA_DIR PORT
#   stop_redis DATA_DIR PORT
#   start_pgbouncer DATA_DIR PORT PG_PORT
#   stop_pgbouncer DATA_DIR
#   start_smtp4dev DATA_DIR SMTP_PORT WEB_PORT
#   stop_smtp4dev DATA_DIR
#   render_template SOURCE TARGET NAME=VALUE...
#   make_certificate DIR            -> DIR/tls.crt and DIR/tls.key, self-signed for 127.0.0.1 and localhost
#   start_pgbouncer DIR PORT PG_PORT / stop_pgbouncer DIR
#   start_nginx DIR HTTPS_PORT NODE1 NODE2 / stop_nginx DIR
#   say / warn / die

if [[ -n "${_BILLING_SERVICES_SH:-}" ]]; then
  return 0
fi
_BILLING_SERVICES_SH=1

BILLING_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_SUPERUSER="billing"
NGINX_BIN="${NGINX_BIN:-/usr/sbin/nginx}"
PGBOUNCER_BIN="${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}"

SERVICES_STOPPED=0   # set to 1 by stop_postgres/stop_redis when they stopped something

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
if [[ -z "${HOME:-}" ]]; then
  HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
  export HOME
fi

# ---------------------------------------------------------------- messages

say()  { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

_is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Prints a short stable hash of a string.
_short_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# True when something accepts TCP connections on 127.0.0.1:PORT.
_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- packages

_APT_UPDATED=0

_apt_wait_for_lock() {
  command -v fuser >/dev/null 2>&1 || return 0
  local waited=0
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
    if [[ $waited -eq 0 ]]; then say "Waiting for another apt/dpkg run to finish..."; fi
    sleep 3
    waited=$((waited + 3))
    if [[ $waited -ge 900 ]]; then break; fi
  done
  return 0
}

_apt() {
  local sudo=()
  if ! _is_root; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "missing system packages and not root: run 'apt-get install $*' as root"
    fi
  fi
  local try
  for try in 1 2 3; do
    _apt_wait_for_lock
    if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 "$@"; then
      return 0
    fi
    warn "apt-get $1 failed (attempt $try of 3)"
    sleep 5
  done
  return 1
}

_apt_install() {
  if [[ $_APT_UPDATED -eq 0 ]]; then
    say "Updating the package lists..."
    _apt update -qq || die "apt-get update failed"
    _APT_UPDATED=1
  fi
  say "Installing $*..."
  _apt install -y -qq "$@" >/dev/null || die "could not install: $*"
}

# ensure_packages [--chromium] [--topology]: installs PostgreSQL 15, Redis (and
# Chromium, or nginx, PgBouncer and openssl for the proxied topology, when asked)
# from Debian when they are missing.
ensure_packages() {
  local want_chromium=0 want_topology=0 arg
  for arg in "$@"; do
    case "$arg" in
      --chromium) want_chromium=1 ;;
      --topology) want_topology=1 ;;
      *) die "ensure_packages: unknown option $arg" ;;
    esac
  done
  local pkgs=()
  if [[ ! -x "$PG_BIN/initdb" || ! -x "$PG_BIN/pg_ctl" || ! -x "$PG_BIN/psql" ]]; then
    pkgs+=(postgresql-15)
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    pkgs+=(redis-server)
  elif ! command -v redis-cli >/dev/null 2>&1; then
    pkgs+=(redis-tools)
  fi
  if [[ $want_chromium -eq 1 && ! -x /usr/bin/chromium ]]; then
    pkgs+=(chromium)
  fi
  if [[ $want_topology -eq 1 ]]; then
    [[ -x "$NGINX_BIN" ]] || pkgs+=(nginx)
    [[ -x "$PGBOUNCER_BIN" ]] || pkgs+=(pgbouncer)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
  fi
  if [[ ${#pkgs[@]} -gt 0 ]]; then
    _apt_install "${pkgs[@]}"
  fi
  if _is_root && ! id -u postgres >/dev/null 2>&1; then
    die "the 'postgres' system user is missing (is postgresql-15 installed?)"
  fi
  return 0
}

# ---------------------------------------------------------------- PostgreSQL

# The server refuses to run as root: as root, run its tools as 'postgres'.
pg_run_as() { if _is_root; then echo postgres; else echo ""; fi; }

_as_pg() {
  if _is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

_pg_fallback_dir() { printf '/var/tmp/billingconsole-%s-%s\n' "$(_short_hash "$BILLING_ROOT")" "$1"; }

# pg_data_dir BASE NAME: creates BASE and prints the data directory to use,
# normally BASE/postgres. When root and the 'postgres' user cannot traverse
# the path to BASE, the data directory goes to /var/tmp instead, and its
# location is recorded in BASE/postgres.location.
pg_data_dir() {
  local base="$1" name="$2" dir
  mkdir -p "$base"
  chmod 755 "$base"
  dir="$base/postgres"
  if _is_root && ! runuser -u postgres -- test -x "$base" 2>/dev/null; then
    dir="$(_pg_fallback_dir "$name")"
    printf '%s\n' "$dir" >"$base/postgres.location"
    say "Note: user 'postgres' cannot reach $base; PostgreSQL data goes to $dir" >&2
  else
    rm -f "$base/postgres.location"
  fi
  printf '%s\n' "$dir"
}

# pg_find_data_dir BASE NAME: where pg_data_dir put (or would put) the data.
pg_find_data_dir() {
  local base="$1" name="$2"
  if [[ -s "$base/postgres.location" ]]; then
    head -n1 "$base/postgres.location"
  elif [[ -d "$base/postgres" ]]; then
    printf '%s\n' "$base/postgres"
  elif [[ -d "$(_pg_fallback_dir "$name")" ]]; then
    _pg_fallback_dir "$name"
  else
    printf '%s\n' "$base/postgres"
  fi
}

# pg_socket_dir DATA_DIR: sibling "<data>-socket", or a short path in /tmp when
# that would exceed the Unix socket path limit.
pg_socket_dir() {
  local dir="${1%/}-socket"
  if [[ $(( ${#dir} + 18 )) -gt 100 ]]; then
    dir="/tmp/billingconsole-$(_short_hash "$1")-socket"
  fi
  printf '%s\n' "$dir"
}

_pg_pid() {
  local pidfile="$1/postmaster.pid" pid
  [[ -r "$pidfile" ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == postgres* ]] || return 1
  printf '%s\n' "$pid"
}

_pg_running() { _pg_pid "$1" >/dev/null; }

_pg_wait_ready() {
  local port="$1" i
  for ((i = 0; i < 300; i++)); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then return 0; fi
    sleep 0.1
  done
  return 1
}

_pg_psql() {
  local port="$1"; shift
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres "$@"
}

_pg_ensure_db() {
  local port="$1" db="$2" exists
  exists="$(_pg_psql "$port" -tAc "select 1 from pg_database where datname = '$db'")" \
    || die "could not query PostgreSQL on port $port"
  if [[ "$exists" != 1 ]]; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -O "$PG_SUPERUSER" "$db" \
      || die "could not create database $db"
  fi
}

_pg_locale() {
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then echo C.UTF-8; else echo C; fi
}

# start_postgres DATA_DIR PORT [--fast] [--db NAME]...
# Creates the cluster on first use (superuser role 'billing', trust auth on
# loopback only), starts it on 127.0.0.1:PORT, waits until it accepts
# connections and creates the databases (default: billing). Does nothing but
# wait when it is already running on that data dir and port. --fast turns off
# fsync (for throw-away test data).
start_postgres() {
  local data="${1:?start_postgres DATA_DIR PORT}" port="${2:?start_postgres DATA_DIR PORT}"
  shift 2
  local fast=0 dbs=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --fast) fast=1 ;;
      --db) dbs+=("${2:?--db needs a name}"); shift ;;
      *) die "start_postgres: unknown option $1" ;;
    esac
    shift
  done
  [[ ${#dbs[@]} -gt 0 ]] || dbs=(billing)

  local sock log owner="" db
  sock="$(pg_socket_dir "$data")"
  log="${data%/}.log"
  if _is_root; then owner=postgres; fi

  if _pg_running "$data"; then
    local running_port
    running_port="$(sed -n 4p "$data/postmaster.pid")"
    if [[ "$running_port" == "$port" ]]; then
      _pg_wait_ready "$port" || die "PostgreSQL at $data is running but not answering on port $port"
      for db in "${dbs[@]}"; do _pg_ensure_db "$port" "$db"; done
      say "PostgreSQL 15 on 127.0.0.1:$port ready (already running)"
      return 0
    fi
    if _port_in_use "$port"; then
      die "port $port is already in use by another process"
    fi
    say "PostgreSQL at $data runs on port $running_port; restarting it on $port"
    stop_postgres "$data"
  fi

  if _port_in_use "$port"; then
    die "port $port is already in use by another process; stop it first (./stop.sh stops this checkout's servers)"
  fi

  mkdir -p "$data" "$sock"
  : >>"$log"
  if [[ -n "$owner" ]]; then
    chown "$owner:" "$data" "$sock" "$log"
  fi
  chmod 700 "$data"
  chmod 755 "$sock"

  if [[ ! -s "$data/PG_VERSION" ]]; then
    # A half-finished earlier initdb leaves files behind; start clean.
    find "$data" -mindepth 1 -delete
    local initlog
    initlog="$(mktemp)"
    if ! _as_pg "$PG_BIN/initdb" -D "$data" -U "$PG_SUPERUSER" --auth=trust \
        -E UTF8 --locale="$(_pg_locale)" --no-sync >"$initlog" 2>&1; then
      cat "$initlog" >&2
      rm -f "$initlog"
      die "initdb failed for $data"
    fi
    rm -f "$initlog"
    printf "\ninclude_if_exists = 'billingconsole.conf'\n" >>"$data/postgresql.conf"
  fi

  # Settings live in the data dir, so a plain `pg_ctl -D DATA start` (as the
  # tests may do) comes back on the same address, port and socket.
  {
    echo "# Written by scripts/services.sh on every start."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$sock'"
    echo "max_connections = 200"
    # Room for the hot indexes and rows of a million-subscription installation; SSD-like costs so list pages walk indexes.
    echo "shared_buffers = '512MB'"
    echo "random_page_cost = 1.1"
    # A month-end run writes gigabytes of WAL: with the default 1 GB a checkpoint came every 30 s during a billing run.
    echo "max_wal_size = '4GB'"
    if [[ $fast -eq 1 ]]; then
      echo "fsync = off"
      echo "full_page_writes = off"
    fi
  } >"$data/billingconsole.conf"
  if [[ -n "$owner" ]]; then chown "$owner:" "$data/billingconsole.conf"; fi

  if ! _as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 -s start; then
    tail -n 20 "$log" >&2 || true
    die "PostgreSQL did not start (log: $log)"
  fi
  _pg_wait_ready "$port" || { tail -n 20 "$log" >&2 || true; die "PostgreSQL is not answering on port $port (log: $log)"; }
  for db in "${dbs[@]}"; do _pg_ensure_db "$port" "$db"; done
  say "PostgreSQL 15 on 127.0.0.1:$port ready"
}

# stop_postgres DATA_DIR: fast shutdown of the cluster at DATA_DIR, if running.
stop_postgres() {
  local data="${1:?stop_postgres DATA_DIR}" port
  if ! _pg_running "$data"; then
    return 0
  fi
  port="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)"
  if ! _as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 -s stop; then
    warn "fast shutdown failed; trying immediate shutdown"
    _as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 30 -s stop || die "could not stop PostgreSQL at $data"
  fi
  SERVICES_STOPPED=1
  say "PostgreSQL 15 on 127.0.0.1:${port:-?} stopped"
}

# ---------------------------------------------------------------- Redis

_redis_pid() {
  local pidfile="$1/redis.pid" pid
  [[ -r "$pidfile" ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == redis-server* ]] || return 1
  printf '%s\n' "$pid"
}

_redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null || true)" == PONG ]]; }

# Prints the data dir of the Redis answering on PORT (empty if none).
_redis_dir_on_port() {
  redis-cli -h 127.0.0.1 -p "$1" --raw config get dir 2>/dev/null | sed -n 2p || true
}

_redis_version() { redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9][0-9.]*\).*/\1/p'; }

# start_redis DATA_DIR PORT: Redis with AOF persistence in DATA_DIR on
# 127.0.0.1:PORT, daemonized. Does nothing when already running there.
start_redis() {
  local dir="${1:?start_redis DATA_DIR PORT}" port="${2:?start_redis DATA_DIR PORT}" i
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd -P)"
  if _redis_pid "$dir" >/dev/null; then
    if _redis_ping "$port" && [[ "$(_redis_dir_on_port "$port")" == "$dir" ]]; then
      say "Redis $(_redis_version) on 127.0.0.1:$port ready (already running)"
      return 0
    fi
    say "Redis at $dir runs on another port; restarting it on $port"
    stop_redis "$dir" "$port"
  elif [[ "$(_redis_dir_on_port "$port")" == "$dir" ]]; then
    say "Redis $(_redis_version) on 127.0.0.1:$port ready (already running)"
    return 0
  fi

  if _port_in_use "$port"; then
    die "port $port is already in use by another process; stop it first (./stop.sh stops this checkout's servers)"
  fi

  rm -f "$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --appendonly yes --maxmemory "${REDIS_MAXMEMORY:-256mb}" --maxmemory-policy volatile-lru --save "" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    || die "redis-server did not start (log: $dir/redis.log)"
  for ((i = 0; i < 200; i++)); do
    if _redis_ping "$port"; then
      say "Redis $(_redis_version) on 127.0.0.1:$port ready"
      return 0
    fi
    sleep 0.05
  done
  tail -n 20 "$dir/redis.log" >&2 || true
  die "Redis is not answering on port $port (log: $dir/redis.log)"
}

# stop_redis DATA_DIR PORT: stops the Redis that start_redis started there.
stop_redis() {
  local dir="${1:?stop_redis DATA_DIR PORT}" port="${2:?stop_redis DATA_DIR PORT}" pid i
  [[ -d "$dir" ]] || return 0
  dir="$(cd "$dir" && pwd -P)"
  if pid="$(_redis_pid "$dir")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      warn "Redis (pid $pid) did not stop in 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  elif [[ "$(_redis_dir_on_port "$port")" == "$dir" ]]; then
    # Started by hand or pid file lost: it is ours, as it serves our dir.
    redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
    for ((i = 0; i < 200; i++)); do
      _redis_ping "$port" || break
      sleep 0.05
    done
  else
    return 0
  fi
  rm -f "$dir/redis.pid"
  SERVICES_STOPPED=1
  say "Redis on 127.0.0.1:$port stopped"
}

# ---------------------------------------------------------------- smtp4dev

_smtp4dev_pid() {
  local pidfile="$1/smtp4dev.pid" pid
  [[ -r "$pidfile" ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q smtp4dev || return 1
  printf '%s\n' "$pid"
}

# start_smtp4dev DATA_DIR SMTP_PORT WEB_PORT: a local SMTP server that keeps
# every message it receives (in DATA_DIR) and shows them in a web inbox, both on
# loopback; the local dotnet tool Rnwood.Smtp4dev (dotnet-tools.json). Does
# nothing when already running there.
start_smtp4dev() {
  local dir="${1:?start_smtp4dev DATA_DIR SMTP_PORT WEB_PORT}" smtp="${2:?}" web="${3:?}" port i
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd -P)"
  if _smtp4dev_pid "$dir" >/dev/null; then
    say "Mail inbox on http://127.0.0.1:$web ready (already running; SMTP on 127.0.0.1:$smtp)"
    return 0
  fi
  for port in "$smtp" "$web"; do
    if _port_in_use "$port"; then
      die "port $port is already in use by another process; stop it first (./stop.sh stops this checkout's servers)"
    fi
  done
  (cd "$BILLING_ROOT" && dotnet tool restore >/dev/null) || die "dotnet tool restore failed (smtp4dev is a local tool in dotnet-tools.json)"
  rm -f "$dir/smtp4dev.pid"
  # The braces keep `&` on the server alone, so the pid written is smtp4dev's, not a subshell's.
  (cd "$BILLING_ROOT" && { nohup dotnet smtp4dev --urls="http://127.0.0.1:$web" --smtpport="$smtp" --bindaddress=127.0.0.1 \
      --imapport=0 --pop3port=0 --baseappdatapath="$dir" --db="$dir/smtp4dev.db" --nousersettings \
      </dev/null >"$dir/smtp4dev.log" 2>&1 & echo $! >"$dir/smtp4dev.pid"; })
  for ((i = 0; i < 3000; i++)); do
    if _port_in_use "$smtp" && _port_in_use "$web"; then
      say "Mail inbox on http://127.0.0.1:$web ready (SMTP on 127.0.0.1:$smtp)"
      return 0
    fi
    _smtp4dev_pid "$dir" >/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$dir/smtp4dev.log" >&2 || true
  die "smtp4dev did not start (log: $dir/smtp4dev.log)"
}

_any_alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

# stop_smtp4dev DATA_DIR: stops the smtp4dev that start_smtp4dev started there.
stop_smtp4dev() {
  local dir="${1:?stop_smtp4dev DATA_DIR}" pid processes i
  [[ -d "$dir" ]] || return 0
  pid="$(_smtp4dev_pid "$dir")" || return 0
  # `dotnet smtp4dev` runs the server as a child process: both are stopped.
  processes="$(ps -o pid= --ppid "$pid" | tr -s ' \n' ' ') $pid"
  # shellcheck disable=SC2086  # a list of pids
  kill -TERM $processes 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    # shellcheck disable=SC2086
    _any_alive $processes || break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  if _any_alive $processes; then
    warn "smtp4dev (pid $pid) did not stop in 10 s; killing it"
    # shellcheck disable=SC2086
    kill -KILL $processes 2>/dev/null || true
  fi
  rm -f "$dir/smtp4dev.pid"
  SERVICES_STOPPED=1
  say "Mail inbox stopped"
}

# ---------------------------------------------------------------- the proxied topology (nginx, PgBouncer)

# render_template SOURCE TARGET NAME=VALUE...: copies SOURCE to TARGET with every @NAME@ replaced by VALUE, and fails
# when a placeholder is left.
render_template() {
  local source="${1:?render_template SOURCE TARGET NAME=VALUE...}" target="${2:?}" pair value left
  shift 2
  # Comment lines (# or ;) name the placeholders and are kept as written.
  local edits=()
  for pair in "$@"; do
    value="$(printf '%s' "${pair#*=}" | sed 's/[\\|&]/\\&/g')"
    edits+=(-e "/^[[:space:]]*[#;]/!s|@${pair%%=*}@|$value|g")
  done
  sed "${edits[@]}" "$source" >"$target" || die "could not write $target"
  left="$(grep -v '^[[:space:]]*[#;]' "$target" | grep -o '@[A-Z_0-9]*@' || true)"
  [[ -z "$left" ]] || die "$source: no value for $(head -n 1 <<<"$left")"
}

# make_certificate DIR: a self-signed certificate for 127.0.0.1 and localhost (DIR/tls.crt, DIR/tls.key), made once.
make_certificate() {
  local dir="${1:?make_certificate DIR}"
  mkdir -p "$dir"
  [[ -s "$dir/tls.crt" && -s "$dir/tls.key" ]] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/tls.key" -out "$dir/tls.crt" >/dev/null 2>&1 || die "openssl could not make a certificate in $dir"
  chmod 600 "$dir/tls.key"
}

# Prints the pid in FILE when that process is alive and its command is NAME.
_pid_of() {
  local file="$1" name="$2" pid
  [[ -r "$file" ]] || return 1
  pid="$(head -n1 "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == "$name"* ]] || return 1
  printf '%s\n' "$pid"
}

_wait_for_port() {
  local port="$1" i
  for ((i = 0; i < 100; i++)); do
    if _port_in_use "$port"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# _stop_pidfile FILE NAME WHAT: stops the process named in FILE (TERM, then KILL after 10 s).
_stop_pidfile() {
  local file="$1" name="$2" what="$3" pid i
  pid="$(_pid_of "$file" "$name")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$file"
  SERVICES_STOPPED=1
  say "$what stopped"
}

# start_pgbouncer DIR PORT PG_PORT: PgBouncer in transaction mode (deploy/pgbouncer/pgbouncer.ini) on 127.0.0.1:PORT in
# front of the PostgreSQL on 127.0.0.1:PG_PORT, any database, trusting loopback as that PostgreSQL does. As root it runs
# as 'postgres' (it refuses to run as root), so DIR must be reachable by that user. PGBOUNCER_POOL_SIZE sets the server
# connections per database and user (default 40).
start_pgbouncer() {
  local dir="${1:?start_pgbouncer DIR PORT PG_PORT}" port="${2:?}" pg_port="${3:?}"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd -P)"
  if _pid_of "$dir/pgbouncer.pid" pgbouncer >/dev/null; then
    say "PgBouncer on 127.0.0.1:$port ready (already running)"
    return 0
  fi
  _port_in_use "$port" && die "port $port is already in use by another process"
  printf '"%s" ""\n' "$PG_SUPERUSER" >"$dir/userlist.txt"
  render_template "$BILLING_ROOT/deploy/pgbouncer/pgbouncer.ini" "$dir/pgbouncer.ini" \
    PG_HOST=127.0.0.1 PG_PORT="$pg_port" LISTEN_ADDR=127.0.0.1 PORT="$port" AUTH_TYPE=trust AUTH_FILE="$dir/userlist.txt" DATA="$dir" \
    POOL_SIZE="${PGBOUNCER_POOL_SIZE:-40}"
  rm -f "$dir/pgbouncer.pid"
  local user=()
  if _is_root; then
    chown -R postgres: "$dir"
    user=(-u postgres)
  fi
  "$PGBOUNCER_BIN" -d -q "${user[@]}" "$dir/pgbouncer.ini" || die "PgBouncer did not start (log: $dir/pgbouncer.log)"
  _wait_for_port "$port" || { tail -n 20 "$dir/pgbouncer.log" >&2 || true; die "PgBouncer is not answering on port $port (log: $dir/pgbouncer.log)"; }
  say "PgBouncer (transaction pooling) on 127.0.0.1:$port ready, in front of PostgreSQL on 127.0.0.1:$pg_port"
}

stop_pgbouncer() {
  local dir="${1:?stop_pgbouncer DIR}"
  [[ -d "$dir" ]] || return 0
  _stop_pidfile "$dir/pgbouncer.pid" pgbouncer PgBouncer
}

# start_nginx DIR HTTPS_PORT NODE...: nginx on https://127.0.0.1:HTTPS_PORT (deploy/nginx/billing-console.conf, a
# self-signed certificate in DIR) in front of the two nodes, each given as address:port.
start_nginx() {
  local dir="${1:?start_nginx DIR HTTPS_PORT NODE1 NODE2}" port="${2:?}" node1="${3:?}" node2="${4:?}"
  mkdir -p "$dir/temp"
  dir="$(cd "$dir" && pwd -P)"
  if _pid_of "$dir/nginx.pid" nginx >/dev/null; then
    say "nginx on https://127.0.0.1:$port ready (already running)"
    return 0
  fi
  _port_in_use "$port" && die "port $port is already in use by another process"
  make_certificate "$dir"
  render_template "$BILLING_ROOT/deploy/nginx/billing-console.conf" "$dir/billing-console.conf" \
    LISTEN="127.0.0.1:$port" SERVER_NAME=localhost CERTIFICATE="$dir/tls.crt" CERTIFICATE_KEY="$dir/tls.key" NODE_1="$node1" NODE_2="$node2"
  {
    echo "# Written by scripts/services.sh: the local topology's nginx, around deploy/nginx/billing-console.conf."
    if _is_root; then echo "user www-data;"; fi
    echo "worker_processes 1;"
    echo "pid $dir/nginx.pid;"
    echo "error_log $dir/error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log $dir/access.log;"
    for temp in client_body proxy fastcgi uwsgi scgi; do echo "  ${temp}_temp_path $dir/temp/$temp;"; done
    echo "  include $dir/billing-console.conf;"
    echo "}"
  } >"$dir/nginx.conf"
  "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || die "nginx did not start (log: $dir/error.log)"
  _wait_for_port "$port" || { tail -n 20 "$dir/error.log" >&2 || true; die "nginx is not answering on port $port (log: $dir/error.log)"; }
  say "nginx on https://127.0.0.1:$port ready, in front of $node1 and $node2"
}

stop_nginx() {
  local dir="${1:?stop_nginx DIR}"
  [[ -d "$dir" ]] || return 0
  _stop_pidfile "$dir/nginx.pid" nginx nginx
}
