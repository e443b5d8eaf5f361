#!/usr/bin/env bash
# Load benchmarks of the release `helpdesk` binary on PostgreSQL + Redis, measured in the same
# run as the bare actix-web baseline (../shared/bench/baseline), with wrk on loopback.
#
#   api/benches/load.sh                 # 20 s per measurement
#   DURATION=10s api/benches/load.sh    # shorter
#   ONLY=create api/benches/load.sh     # only the two POST measurements (and the log readers' lag)
#   APP_BIN=/path/to/helpdesk SKIP_BUILD=1 api/benches/load.sh
#                                       # another build of the service (A/B runs of two binaries)
#
# Prints: baseline /hello, GET /api/v1/me with a JWT (and its ratio to /hello), the baseline's
# one-INSERT POST /tickets against ticket creation (requester lookup, number, history), /health
# latency while 50 logins run, and the server's peak resident memory.
#
# Both servers listen on ports the kernel picks (or APP_PORT / BASE_PORT when set, refused if
# something listens there); each is checked to be the process holding its port before and after
# every measurement, and a run with any answer outside 2xx fails instead of printing figures.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=api/benches/common.sh
. "$ROOT/api/benches/common.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/helpdesk-target}"
TARGET="$CARGO_TARGET_DIR"
BASELINE_SRC="${BASELINE_DIR:-$ROOT/../shared/bench/baseline}"
DURATION="${DURATION:-20s}"
PG="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
# The service reaches the local PostgreSQL through its Unix socket: sqlx 0.9.0 leaves Nagle's
# algorithm on for TCP (upstream issue 4335), which stalls large statements by ~40 ms.
# BENCH_APP_DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench measures over TCP.
APP_DB="${BENCH_APP_DATABASE_URL:-postgres://postgres@localhost/helpdesk_bench?host=/var/run/postgresql}"
pick_port APP_PORT
pick_port BASE_PORT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

APP_BIN="${APP_BIN:-$TARGET/release/helpdesk}"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -x "$APP_BIN" ]; then
    echo "== building (release)"
    cargo build --release -q -p api --bin helpdesk --manifest-path "$ROOT/Cargo.toml"
fi
WORK="$(mktemp -d)"
cp -r "$BASELINE_SRC" "$WORK/baseline"
chmod -R u+w "$WORK/baseline"
(cd "$WORK/baseline" && CARGO_TARGET_DIR="$TARGET/baseline" cargo build --release -q)

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS baseline WITH (FORCE)" -qc "CREATE DATABASE baseline" >/dev/null
psql "$PG/baseline" -q -f "$WORK/baseline/schema.sql" >/dev/null
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS helpdesk_bench WITH (FORCE)" -qc "CREATE DATABASE helpdesk_bench" >/dev/null

BASELINE_BIND="127.0.0.1:$BASE_PORT" "$TARGET/baseline/release/baseline" >/dev/null 2>"$WORK/baseline.log" &
BASE_PID=$!
PIDS+=($BASE_PID)
DATABASE_URL="$APP_DB" REDIS_URL="$REDIS" HELPDESK_REDIS_PREFIX="bench:$$:" \
HELPDESK_BIND="127.0.0.1:$APP_PORT" HELPDESK_ADMIN_EMAIL=bench@platform.test \
HELPDESK_ADMIN_PASSWORD=bench-password-123 HELPDESK_AUTH__LOGIN_PER_MINUTE=100000000 \
RUST_LOG=warn "$APP_BIN" serve >/dev/null 2>"$WORK/helpdesk.log" &
APP_PID=$!
PIDS+=($APP_PID)
wait_for_server baseline "$BASE_PID" "$BASE_PORT" "http://127.0.0.1:$BASE_PORT/hello" "$WORK/baseline.log"
wait_for_server helpdesk "$APP_PID" "$APP_PORT" "http://127.0.0.1:$APP_PORT/ready" "$WORK/helpdesk.log"
echo "baseline: pid $BASE_PID on port $BASE_PORT; helpdesk: pid $APP_PID on port $APP_PORT"

TOKEN="$(curl -sf "http://127.0.0.1:$APP_PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@platform.test","password":"bench-password-123"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"

# Each measured request, once, before its run: it must answer 2xx from the server we started.
expect_2xx "baseline GET /hello" "http://127.0.0.1:$BASE_PORT/hello"
expect_2xx "helpdesk GET /api/v1/me" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$APP_PORT/api/v1/me"
expect_2xx "helpdesk GET /health" "http://127.0.0.1:$APP_PORT/health"
expect_2xx "baseline POST /tickets" -H 'content-type: application/json' \
    -d '{"subject":"Check","description":"x"}' "http://127.0.0.1:$BASE_PORT/tickets"
expect_2xx "helpdesk POST /api/v1/tickets" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d '{"subject":"Check","source":"email","requester":{"email":"student@uni.example","name":"Student"}}' \
    "http://127.0.0.1:$APP_PORT/api/v1/tickets"
servers_ok() {
    check_server baseline "$BASE_PID" "$BASE_PORT"
    check_server helpdesk "$APP_PID" "$APP_PORT"
}

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }

if [ "${ONLY:-}" != create ]; then
    echo "== baseline GET /hello (64 connections, $DURATION)"
    wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$BASE_PORT/hello" | tee "$WORK/hello.txt"
    check_wrk "$WORK/hello.txt" "baseline GET /hello"; servers_ok
    echo "== helpdesk GET /api/v1/me with a JWT (64 connections, $DURATION)"
    wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$APP_PORT/api/v1/me" | tee "$WORK/me.txt"
    check_wrk "$WORK/me.txt" "GET /api/v1/me"; servers_ok
    RSS_ME="$(awk '/VmHWM/ {print $2}' "/proc/$APP_PID/status")"

    echo "== /health latency while 50 connections log in ($DURATION)"
    wrk -t1 -c50 -d"$DURATION" -s "$ROOT/api/benches/login.lua" "http://127.0.0.1:$APP_PORT/api/v1/auth/login" > "$WORK/login.txt" &
    LOGIN_PID=$!
    sleep 1
    wrk -t1 -c4 -d"$DURATION" --latency "http://127.0.0.1:$APP_PORT/health" | tee "$WORK/health.txt"
    wait "$LOGIN_PID" || true
    cat "$WORK/login.txt"
    check_wrk "$WORK/health.txt" "GET /health during logins"
    check_wrk "$WORK/login.txt" "POST /api/v1/auth/login"; servers_ok
    RSS_ALL="$(awk '/VmHWM/ {print $2}' "/proc/$APP_PID/status")"
    RSS_NOW="$(awk '/VmRSS/ {print $2}' "/proc/$APP_PID/status")"

fi

echo "== baseline POST /tickets, one INSERT (32 connections, $DURATION)"
wrk -t2 -c32 -d"$DURATION" --latency -s "$WORK/baseline/post.lua" "http://127.0.0.1:$BASE_PORT/tickets" | tee "$WORK/base-post.txt"
check_wrk "$WORK/base-post.txt" "baseline POST /tickets"; servers_ok
echo "== helpdesk POST /api/v1/tickets (32 connections, $DURATION)"
# Meanwhile one agent's event stream is open (so the relay reads every entry) and the relay's
# lag behind the ticket event log is sampled from /metrics.
curl -sN -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$APP_PORT/api/v1/events" > "$WORK/stream.txt" &
STREAM_PID=$!
PIDS+=($STREAM_PID)
( while :; do
      curl -sf "http://127.0.0.1:$APP_PORT/metrics" > "$WORK/metrics.txt" || true
      awk '/^helpdesk_event_consumer_lag_entries\{consumer="event_relay"\}/ {print $2}' "$WORK/metrics.txt" >> "$WORK/lag.txt"
      awk '/^helpdesk_event_consumer_lag_entries\{consumer="flow_back"\}/ {print $2}' "$WORK/metrics.txt" >> "$WORK/lag-flow.txt"
      sleep 0.5
  done ) &
LAG_PID=$!
PIDS+=($LAG_PID)
wrk -t2 -c32 -d"$DURATION" --latency -s "$ROOT/api/benches/ticket.lua" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$APP_PORT/api/v1/tickets" | tee "$WORK/create.txt"
kill "$LAG_PID" "$STREAM_PID" 2>/dev/null || true
check_wrk "$WORK/create.txt" "POST /api/v1/tickets"; servers_ok

RSS_CREATE="$(awk '/VmHWM/ {print $2}' "/proc/$APP_PID/status")"

echo
echo "== summary"
if [ "${ONLY:-}" != create ]; then
    printf 'baseline /hello:        %s req/s, p99 %s\n' "$(rps "$WORK/hello.txt")" "$(p99 "$WORK/hello.txt")"
    printf 'GET /api/v1/me (JWT):   %s req/s, p99 %s  = %s of baseline\n' "$(rps "$WORK/me.txt")" "$(p99 "$WORK/me.txt")" \
        "$(awk -v a="$(rps "$WORK/me.txt")" -v b="$(rps "$WORK/hello.txt")" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
fi
printf 'baseline POST /tickets: %s req/s, p99 %s\n' "$(rps "$WORK/base-post.txt")" "$(p99 "$WORK/base-post.txt")"
printf 'POST /api/v1/tickets:   %s req/s, p99 %s  = %s of baseline\n' "$(rps "$WORK/create.txt")" "$(p99 "$WORK/create.txt")" \
    "$(awk -v a="$(rps "$WORK/create.txt")" -v b="$(rps "$WORK/base-post.txt")" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
printf 'event relay lag:        max %s entries behind the log during creation (%s samples; one entry per ticket); the open stream got %s events\n' \
    "$(sort -n "$WORK/lag.txt" | tail -n1)" "$(wc -l < "$WORK/lag.txt")" "$(grep -c '^event: ticket.created' "$WORK/stream.txt")"
printf 'flow-back reader lag:   max %s entries behind the log during creation (%s samples)\n' \
    "$(sort -n "$WORK/lag-flow.txt" | tail -n1)" "$(wc -l < "$WORK/lag-flow.txt")"
if [ "${ONLY:-}" != create ]; then
    printf 'logins (50 conns):      %s req/s\n' "$(rps "$WORK/login.txt")"
    printf '/health during logins:  %s req/s, p99 %s\n' "$(rps "$WORK/health.txt")" "$(p99 "$WORK/health.txt")"
    printf 'peak RSS:               %s MiB after /me, %s MiB after logins (%s MiB resident then), %s MiB after ticket creation\n' \
        "$((RSS_ME / 1024))" "$((RSS_ALL / 1024))" "$((RSS_NOW / 1024))" "$((RSS_CREATE / 1024))"
else
    printf 'peak RSS:               %s MiB after ticket creation\n' "$((RSS_CREATE / 1024))"
fi
