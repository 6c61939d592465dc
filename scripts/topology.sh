#!/usr/bin/env bash
# Runs BillingConsole as production does, on this machine: nginx (TLS 1.3, HTTP/2, WebSockets, sticky sessions) in
# front of two app nodes, PgBouncer in transaction mode between the nodes and PostgreSQL, Redis with maxmemory and
# volatile-lru. Configuration: deploy/nginx/billing-console.conf and deploy/pgbouncer/pgbouncer.ini.
#   ./scripts/topology.sh start [--reset]   everything, with demo data; the console on https://127.0.0.1:8443
#   ./scripts/topology.sh stop              stops what start started
#   ./scripts/topology.sh start --edge-only nginx and PgBouncer only, in front of nodes and a PostgreSQL started
#                                           elsewhere (the topology trial in the tests starts its own)
# Ports and the data folder (default .topology/) come from TOPOLOGY_DATA, TOPOLOGY_HTTPS_PORT (8443),
# TOPOLOGY_NODE_PORTS ("8481 8482"), TOPOLOGY_PGBOUNCER_PORT (64320), TOPOLOGY_PG_PORT (54321),
# TOPOLOGY_REDIS_PORT (63791).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

DATA="${TOPOLOGY_DATA:-$ROOT/.topology}"
HTTPS_PORT="${TOPOLOGY_HTTPS_PORT:-8443}"
read -r -a NODE_PORTS <<<"${TOPOLOGY_NODE_PORTS:-8481 8482}"
PGBOUNCER_PORT="${TOPOLOGY_PGBOUNCER_PORT:-64320}"
PG_PORT="${TOPOLOGY_PG_PORT:-54321}"
REDIS_PORT="${TOPOLOGY_REDIS_PORT:-63791}"
HOST_DLL="$ROOT/BillingConsole/bin/Release/net10.0/BillingConsole.dll"

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; }

[[ ${#NODE_PORTS[@]} -eq 2 ]] || die "TOPOLOGY_NODE_PORTS needs two ports, got '${TOPOLOGY_NODE_PORTS:-}'"

# A node writes its pid and log in DATA/nodeN.
_node_dir() { printf '%s/node%s\n' "$DATA" "$1"; }

start_node() {
  local n="$1" port="${NODE_PORTS[$(($1 - 1))]}" dir i
  shift
  dir="$(_node_dir "$n")"
  mkdir -p "$dir"
  if _node_pid "$n" >/dev/null; then
    say "Node $n on http://127.0.0.1:$port ready (already running)"
    return 0
  fi
  _port_in_use "$port" && die "port $port is already in use by another process"
  # Through PgBouncer, which pools per transaction (see deploy/pgbouncer/pgbouncer.ini).
  ConnectionStrings__Billing="Host=127.0.0.1;Port=$PGBOUNCER_PORT;Database=billing;Username=billing;No Reset On Close=true" \
  Redis__Configuration="127.0.0.1:$REDIS_PORT,abortConnect=false,allowAdmin=true" \
  ASPNETCORE_URLS="http://127.0.0.1:$port" \
  ASPNETCORE_ENVIRONMENT=Development \
  Authentication__DevelopmentSignIn=true \
  ReverseProxy__KnownProxies__0=127.0.0.1 \
  PayPage__PublicBaseUrl="https://127.0.0.1:$HTTPS_PORT" \
    nohup dotnet "$HOST_DLL" "$@" </dev/null >"$dir/node.log" 2>&1 &
  echo $! >"$dir/node.pid"
  for ((i = 0; i < 1800; i++)); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/live" || true)" == 200 ]]; then
      say "Node $n on http://127.0.0.1:$port ready (log: $dir/node.log)"
      return 0
    fi
    _node_pid "$n" >/dev/null || break
    sleep 0.1
  done
  tail -n 30 "$dir/node.log" >&2 || true
  die "node $n did not start (log: $dir/node.log)"
}

_node_pid() { _pid_of "$(_node_dir "$1")/node.pid" dotnet; }

stop_node() {
  local dir
  dir="$(_node_dir "$1")"
  [[ -d "$dir" ]] || return 0
  _stop_pidfile "$dir/node.pid" dotnet "Node $1"
}

start_edge() {
  ensure_packages --topology
  start_pgbouncer "$DATA/pgbouncer" "$PGBOUNCER_PORT" "$PG_PORT"
  start_nginx "$DATA/nginx" "$HTTPS_PORT" "127.0.0.1:${NODE_PORTS[0]}" "127.0.0.1:${NODE_PORTS[1]}"
}

start_all() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK ('dotnet') is not on PATH"
  ensure_packages --topology
  local pgdata
  pgdata="$(pg_data_dir "$DATA" topology-postgres)"
  start_postgres "$pgdata" "$PG_PORT"
  start_redis "$DATA/redis" "$REDIS_PORT"
  start_edge
  say "Building BillingConsole (Release)..."
  dotnet build BillingConsole/BillingConsole.csproj -c Release -nodeReuse:false -v quiet -nologo >/dev/null || die "the build failed"
  # Migrations set a session setting (the billing time zone), which transaction pooling would not keep: they run
  # straight on PostgreSQL, before any node starts; creating the API key for the upstream API is what runs them.
  say "Migrating the database on PostgreSQL itself; an API key for https://127.0.0.1:$HTTPS_PORT/api/v1:"
  ConnectionStrings__Billing="Host=127.0.0.1;Port=$PG_PORT;Database=billing;Username=billing" ASPNETCORE_ENVIRONMENT=Development \
    Redis__Configuration="127.0.0.1:$REDIS_PORT,abortConnect=false" Logging__LogLevel__Default=Warning \
    dotnet "$HOST_DLL" create-api-key "topology-$(date +%s)" || die "could not migrate the database"
  # One node seeds an empty database; the second starts once it has.
  start_node 1 --seed-demo
  start_node 2
  say "BillingConsole on https://127.0.0.1:$HTTPS_PORT (self-signed certificate: $DATA/nginx/tls.crt)"
  say "./scripts/topology.sh stop stops it all"
}

stop_all() {
  stop_nginx "$DATA/nginx"
  stop_node 1
  stop_node 2
  stop_pgbouncer "$DATA/pgbouncer"
  if [[ -d "$DATA/redis" ]]; then stop_redis "$DATA/redis" "$REDIS_PORT"; fi
  stop_postgres "$(pg_find_data_dir "$DATA" topology-postgres)"
}

command="${1:-}"
shift || true
edge_only=0
reset=0
for arg in "$@"; do
  case "$arg" in
    --edge-only) edge_only=1 ;;
    --reset) reset=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

case "$command" in
  start)
    if [[ $reset -eq 1 ]]; then
      stop_all
      rm -rf "$(pg_find_data_dir "$DATA" topology-postgres)" "$DATA"
    fi
    if [[ $edge_only -eq 1 ]]; then start_edge; else start_all; fi
    ;;
  stop) stop_all ;;
  -h|--help) usage ;;
  *) usage >&2; die "start or stop?" ;;
esac
