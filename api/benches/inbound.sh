#!/usr/bin/env bash
# Inbound e-mail benchmark of the release `helpdesk` binary on PostgreSQL + Redis: wrk posts raw
# mails (each with its own Message-ID, from 1,000 students) to one e-mail channel's relay
# endpoint; every mail is parsed and opens a ticket. Target: at least 500 mails/s.
#
#   api/benches/inbound.sh                   # 20 s
#   DURATION=10s SKIP_BUILD=1 api/benches/inbound.sh
#
# Prints the rate, latency, and the tickets stored against the mails answered (every answer must
# be 2xx; each mail opens one ticket, and wrk does not count the up to 32 still in flight when it
# stops).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=api/benches/common.sh
. "$ROOT/api/benches/common.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/helpdesk-target}"
TARGET="$CARGO_TARGET_DIR"
DURATION="${DURATION:-20s}"
PG="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
DB=helpdesk_inbound_bench
APP_DB="${BENCH_APP_DATABASE_URL:-postgres://postgres@localhost/$DB?host=/var/run/postgresql}"
pick_port APP_PORT
URL="http://127.0.0.1:$APP_PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [ -z "${SKIP_BUILD:-}" ] || [ ! -x "$TARGET/release/helpdesk" ]; then
    echo "== building (release)"
    cargo build --release -q -p api --bin helpdesk --manifest-path "$ROOT/Cargo.toml"
fi
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -qc "CREATE DATABASE $DB" >/dev/null
DATABASE_URL="$APP_DB" REDIS_URL="$REDIS" HELPDESK_REDIS_PREFIX="bench-inbound:$$:" \
HELPDESK_BIND="127.0.0.1:$APP_PORT" HELPDESK_ADMIN_EMAIL=bench@platform.test \
HELPDESK_ADMIN_PASSWORD=bench-password-123 \
RUST_LOG=warn "$TARGET/release/helpdesk" serve >/dev/null 2>"$WORK/helpdesk.log" &
APP_PID=$!
PIDS+=($APP_PID)
wait_for_server helpdesk "$APP_PID" "$APP_PORT" "$URL/ready" "$WORK/helpdesk.log"

TOKEN="$(curl -sf "$URL/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@platform.test","password":"bench-password-123"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
CHANNEL="$(curl -sf "$URL/api/v1/channels" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d '{"kind":"email","name":"Bench inbox","email":{"address":"support@bench.example"},"secrets":{"inbound_secret":"bench-relay-secret"}}' \
    | sed -E 's/.*"id":"([^"]+)".*/\1/')"
ENDPOINT="$URL/api/v1/channels/$CHANNEL/inbound/email"
expect_2xx "inbound mail" -H "Authorization: Bearer bench-relay-secret" -H 'content-type: message/rfc822' \
    --data-binary $'From: first@uni.example\r\nSubject: check\r\nMessage-ID: <check@uni.example>\r\n\r\nhello\r\n' "$ENDPOINT"

echo "== POST $ENDPOINT (32 connections, $DURATION)"
wrk -t2 -c32 -d"$DURATION" --latency -s "$ROOT/api/benches/inbound.lua" \
    -H "Authorization: Bearer bench-relay-secret" -H 'Content-Type: message/rfc822' "$ENDPOINT" | tee "$WORK/inbound.txt"
check_wrk "$WORK/inbound.txt" "inbound mail"
check_server helpdesk "$APP_PID" "$APP_PORT"
REQUESTS="$(awk '/requests in/ {print $1}' "$WORK/inbound.txt")"
TICKETS="$(psql "$PG/$DB" -tAc "SELECT count(*) FROM tickets")"
echo
echo "== summary"
printf 'inbound mails:  %s/s, p99 %s\n' "$(awk '/Requests\/sec/ {print $2}' "$WORK/inbound.txt")" "$(awk '$1 == "99%" {print $2}' "$WORK/inbound.txt")"
printf 'mails answered: %s (plus 1 check); tickets stored: %s (wrk leaves up to 32 mails in flight uncounted when it stops)\n' "$REQUESTS" "$TICKETS"
