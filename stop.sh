#!/usr/bin/env bash
# Stops this checkout's PostgreSQL, Redis and mail server: the ones ./run.sh
# started (.data/) and the ones ./test.sh started (.test-data/), if running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

stop_postgres "$(pg_find_data_dir "$ROOT/.data" postgres)"
stop_redis "$ROOT/.data/redis" 63790
stop_smtp4dev "$ROOT/.data/smtp4dev"
stop_postgres "$(pg_find_data_dir "$ROOT/.test-data" test-postgres)"
stop_redis "$ROOT/.test-data/redis" 63800

if [[ $SERVICES_STOPPED -eq 0 ]]; then
  say "Nothing to stop: no PostgreSQL, Redis or mail server of this checkout is running"
fi
