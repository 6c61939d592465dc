#!/usr/bin/env bash
# Runs BillingConsole locally with demo data: ./run.sh [--reset] [--scale N]
#   --reset    stop this checkout's PostgreSQL, Redis and mail server and delete their data first
#   --scale N  passed to the app's demo seeding (--seed-demo --scale N)
# PostgreSQL (127.0.0.1:54320), Redis (127.0.0.1:63790) and the local mail server
# (smtp4dev: SMTP on 127.0.0.1:2525, web inbox on http://127.0.0.1:5080) keep their
# data in .data/ and keep running after the app stops; ./stop.sh stops them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

PG_PORT=54320
REDIS_PORT=63790
SMTP_PORT=2525
INBOX_PORT=5080
DATA="$ROOT/.data"

usage() { sed -n '2,7s/^# \{0,1\}//p' "$0"; }

reset=0
scale=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reset) reset=1 ;;
    --scale) [[ $# -ge 2 ]] || die "--scale needs a number"; scale="$2"; shift ;;
    --scale=*) scale="${1#--scale=}" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
if [[ -n "$scale" && ! "$scale" =~ ^[1-9][0-9]*$ ]]; then
  die "--scale needs a positive whole number, got '$scale'"
fi

command -v dotnet >/dev/null 2>&1 || die "the .NET SDK ('dotnet') is not on PATH"
# shellcheck disable=SC2119
ensure_packages  # no Chromium needed to run the app

if [[ $reset -eq 1 ]]; then
  pgdata="$(pg_find_data_dir "$DATA" postgres)"
  stop_postgres "$pgdata"
  stop_redis "$DATA/redis" "$REDIS_PORT"
  stop_smtp4dev "$DATA/smtp4dev"
  rm -rf "$pgdata" "$(pg_socket_dir "$pgdata")" "${pgdata}.log" "$DATA"
  say "Deleted the local data"
fi

pgdata="$(pg_data_dir "$DATA" postgres)"
start_postgres "$pgdata" "$PG_PORT"
start_redis "$DATA/redis" "$REDIS_PORT"
start_smtp4dev "$DATA/smtp4dev" "$SMTP_PORT" "$INBOX_PORT"

export ConnectionStrings__Billing="Host=127.0.0.1;Port=$PG_PORT;Database=billing;Username=billing"
export Redis__Configuration="127.0.0.1:$REDIS_PORT,abortConnect=false,allowAdmin=true"
export ASPNETCORE_ENVIRONMENT=Development
# The development sign-in (pick a role) exists only for this local run; production signs in with OpenID Connect.
export Authentication__DevelopmentSignIn=true
export ASPNETCORE_URLS=http://127.0.0.1:8080
# Customer emails go to the local mail server; the console links to its inbox.
export Email__Host=127.0.0.1
export Email__Port="$SMTP_PORT"
export Email__Tls=None
export Email__InboxUrl="http://127.0.0.1:$INBOX_PORT"

app_args=(--seed-demo)
if [[ -n "$scale" ]]; then app_args+=(--scale "$scale"); fi

say "Starting BillingConsole on http://127.0.0.1:8080 (Ctrl-C stops the app; ./stop.sh stops PostgreSQL, Redis and the mail server)"
say "Emails to customers arrive in the mail inbox: http://127.0.0.1:$INBOX_PORT"
exec dotnet run --project BillingConsole -c Release -- "${app_args[@]}"
