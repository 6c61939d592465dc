#!/usr/bin/env bash
# Builds the solution and runs the test suite against a private, fresh
# PostgreSQL (127.0.0.1:54330) and Redis (127.0.0.1:63800) in .test-data/.
#   ./test.sh                                  all tests
#   ./test.sh -class 'BillingConsole.Tests.Engine.ProrationTests'
#   ./test.sh --pure                           the pure tests only (classes marked [PureTests],
#                                              trait Category=Pure): builds the test project and
#                                              starts no PostgreSQL, Redis, browser or app host
# Extra arguments go to the test runner (xUnit.net v3's in-process runner:
# -class, -method, -namespace, -trait), after --pure too.
# The last line printed is "N passed, N failed" (", N skipped" when some were).
set -euo pipefail

PURE=0
if [[ "${1:-}" == "--pure" ]]; then
  PURE=1
  shift
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

# TEST_PG_PORT and TEST_REDIS_PORT let two checkouts run their suites side by side.
PG_PORT="${TEST_PG_PORT:-54330}"
REDIS_PORT="${TEST_REDIS_PORT:-63800}"
DATA="$ROOT/.test-data"
RESULTS="$ROOT/TestResults"
# The pure run keeps its report apart, so that it may run beside a full run of this checkout.
TRX_DIR="$RESULTS"
if [[ $PURE -eq 1 ]]; then TRX_DIR="$RESULTS/pure"; fi
TEST_DLL="BillingConsole.Tests/bin/Release/net10.0/BillingConsole.Tests.dll"

# Whatever happens, the last line is a summary and the servers are stopped.
SUMMARY="0 passed, 1 failed"
STATUS=1
PGDATA_DIR=""

# shellcheck disable=SC2317  # invoked by the EXIT trap
finish() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n "$PGDATA_DIR" ]]; then (stop_postgres "$PGDATA_DIR"); fi
  if [[ $PURE -eq 0 ]]; then (stop_redis "$DATA/redis" "$REDIS_PORT"); fi
  if [[ $STATUS -eq 0 && $rc -ne 0 ]]; then STATUS=$rc; fi
  local t=$SECONDS
  say "Elapsed: $((t / 60))m$(printf '%02d' $((t % 60)))s"
  say "$SUMMARY"
  exit "$STATUS"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- services -----------------------------------------------------------------

command -v dotnet >/dev/null 2>&1 || die "the .NET SDK ('dotnet') is not on PATH"

BUILD_TARGET=BillingConsole.sln
if [[ $PURE -eq 1 ]]; then
  # No server and no connection setting: the assembly fixtures (app host, browser) start nothing when
  # BILLING_TEST_PURE is set, and a test that reaches for a server fails.
  export BILLING_TEST_PURE=1
  BUILD_TARGET=BillingConsole.Tests/BillingConsole.Tests.csproj
  set -- -trait "Category=Pure" "$@"
else
  # The topology trial runs nginx and PgBouncer (scripts/topology.sh start --edge-only).
  ensure_packages --chromium --topology

  # Stop what an interrupted earlier run may have left, then start from scratch.
  old_pgdata="$(pg_find_data_dir "$DATA" test-postgres)"
  (stop_postgres "$old_pgdata")
  (stop_redis "$DATA/redis" "$REDIS_PORT")
  rm -rf "$old_pgdata" "$(pg_socket_dir "$old_pgdata")" "${old_pgdata}.log" "$DATA"

  PGDATA_DIR="$(pg_data_dir "$DATA" test-postgres)"
  start_postgres "$PGDATA_DIR" "$PG_PORT" --fast --db billing --db billing_test
  start_redis "$DATA/redis" "$REDIS_PORT"

  export BILLING_TEST_PG_PORT="$PG_PORT"
  export BILLING_TEST_PGDATA="$PGDATA_DIR"
  BILLING_TEST_PG_SOCKET="$(pg_socket_dir "$PGDATA_DIR")"
  export BILLING_TEST_PG_SOCKET
  export BILLING_TEST_PG_LOG="${PGDATA_DIR}.log"
  export BILLING_TEST_PG_BIN="$PG_BIN"
  export BILLING_TEST_REDIS_PORT="$REDIS_PORT"
  BILLING_TEST_REDIS_DIR="$(cd "$DATA/redis" && pwd -P)"
  export BILLING_TEST_REDIS_DIR
  BILLING_TEST_RUN_AS="$(pg_run_as)"
  export BILLING_TEST_RUN_AS
  export ConnectionStrings__Billing="Host=127.0.0.1;Port=$PG_PORT;Database=billing_test;Username=billing"
  export Redis__Configuration="127.0.0.1:$REDIS_PORT,abortConnect=false,allowAdmin=true"
fi

# --- build ----------------------------------------------------------------------

say "Building $BUILD_TARGET (Release)..."
if ! dotnet build "$BUILD_TARGET" -c Release -nodeReuse:false; then
  say "Build failed"
  exit 1
fi
[[ -f "$TEST_DLL" ]] || die "the build did not produce $TEST_DLL"

# --- tests ----------------------------------------------------------------------

mkdir -p "$TRX_DIR"
find "$TRX_DIR" -maxdepth 1 -name '*.trx' -type f -delete

# The test project runs on xUnit.net v3's own in-process runner: -result-trx
# writes the TRX report whose <Counters> element gives the closing line.
# Extra arguments go to that runner, e.g. ./test.sh -class "BillingConsole.Tests.Domain.MoneyTests".
say "Running tests..."
tests_started=$SECONDS
set +e
dotnet "$TEST_DLL" -result-trx "$TRX_DIR/billingconsole.trx" "$@"
test_rc=$?
set -e
say "Test process: $((SECONDS - tests_started))s"

# --- summary --------------------------------------------------------------------

# Prints the value of attribute $2 in the XML start tag $1 (0 when absent).
attr() {
  local v
  v="$(printf '%s\n' "$1" | sed -n "s/.*[[:space:]]$2=[\"']\([0-9][0-9]*\)[\"'].*/\1/p")"
  printf '%s\n' "${v:-0}"
}

trx="$(find "$TRX_DIR" -maxdepth 1 -name '*.trx' -type f -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)"
counters=""
if [[ -n "$trx" ]]; then
  counters="$(tr '\r\n' '  ' <"$trx" | grep -o '<\([A-Za-z0-9_]*:\)\{0,1\}Counters[[:space:]][^>]*>' | head -n 1 || true)"
fi

if [[ -z "$counters" ]]; then
  if [[ -z "$trx" ]]; then say "No TRX report was written (test process exit code $test_rc)"; else say "No <Counters> in $trx"; fi
  SUMMARY="0 passed, 1 failed"
  STATUS=1
  exit 1
fi

passed="$(attr "$counters" passed)"
failed=$(( $(attr "$counters" failed) + $(attr "$counters" error) + $(attr "$counters" timeout) + $(attr "$counters" aborted) ))
skipped=$(attr "$counters" notExecuted)
# Explicit tests are measurements run only when asked (-explicit only): left out on purpose, not skipped.
not_asked=$(attr "$counters" notRunnable)

STATUS=0
if [[ $not_asked -gt 0 ]]; then say "Explicit measurements not run: $not_asked (-explicit only runs them)"; fi
if [[ $((passed + failed + skipped)) -eq 0 ]]; then
  say "No tests ran (check the filter arguments)"
  failed=1
  STATUS=1
elif [[ $failed -gt 0 ]]; then
  # CI keeps only the tail of the output: repeat each failure and its message here.
  say "Failed tests:"
  tr '\r\n' '  ' <"$trx" | awk 'BEGIN { RS = "</UnitTestResult>" }
    {
      # A record ends with one result element that has content; results without any sit before it, self-closed.
      result = $0; if (!sub(/.*<UnitTestResult /, "", result)) next
      tag = result; sub(/>.*/, "", tag)
      if (tag !~ /outcome="(Failed|Error|Timeout|Aborted)"/) next
      name = tag; sub(/.*testName="/, "", name); sub(/".*/, "", name)
      msg = ""
      if (match(result, /<ErrorInfo><Message>[^<]*<\/Message>/)) msg = substr(result, RSTART + 20, RLENGTH - 30)
      gsub(/&quot;/, "\"", msg); gsub(/&apos;/, "\047", msg); gsub(/&lt;/, "<", msg); gsub(/&gt;/, ">", msg); gsub(/&amp;/, "\\&", msg)
      printf "  %s\n    %s\n", name, substr(msg, 1, 600)
    }'
  STATUS=1
elif [[ $test_rc -ne 0 ]]; then
  say "The test process exited with code $test_rc"
  failed=1
  STATUS=1
fi
SUMMARY="$passed passed, $failed failed"
if [[ $skipped -gt 0 ]]; then SUMMARY+=", $skipped skipped"; fi
say "Report: ${trx#"$ROOT"/}"
exit "$STATUS"
