#!/usr/bin/env bash
# List and count benchmarks of the release `helpdesk` binary on the 1,000,000-ticket database
# made by api/benches/seed_1m.sh (PostgreSQL over its Unix socket + Redis), measured in the same
# run as the bare actix-web baseline (../shared/bench/baseline), with wrk on loopback.
#
#   api/benches/list_1m.sh                  # 15 s per measurement
#   DURATION=5s api/benches/list_1m.sh      # shorter
#   SKIP_BUILD=1 ...                        # use the release binaries already built
#
# Measures, each with wrk --latency:
# - a client agent's (agent1@c-001, the biggest tenant, ~42,000 tickets) filtered views, first
#   page: status=open&group_id=L1&assignee_id=agent1, and status=open&group_id=L1&tag=exam;
# - the same agent's status=closed view, page 1 and page 1,000 (cursor after row 24,975);
# - the same agent's two-word searches: q=camera exam (words of one subject in twelve, so the
#   newest matches are near) and q=ex-4821 camera (an exam code: a handful of tickets, found
#   through the trigram index on search_text);
# - a partner agent's (agent1@p-europe: its subtree of 23 clients, ~260,000 tickets) view
#   status=closed&source=email, page 1 and page 1,000;
# - GET /reports/ticket-counts?group_by=company and group_by=day over the last 30 days for the
#   tenant admin of c-001, the client admin of c-001, the tenant admin of p-europe and the
#   platform admin (all 1,000,000 tickets: ~333,000 in the month);
# - the baseline's GET /hello at the list concurrency.
# and prints a summary table: req/s, p50, p99, non-2xx answers, req/s as a fraction of /hello.
# Ports are picked free (APP_PORT / BASE_PORT when set, refused if busy); each server is checked
# to hold its own port, and a measurement with any answer outside 2xx fails the run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=api/benches/common.sh
. "$ROOT/api/benches/common.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/helpdesk-target}"
TARGET="$CARGO_TARGET_DIR"
BASELINE_SRC="${BASELINE_DIR:-$ROOT/../shared/bench/baseline}"
DURATION="${DURATION:-15s}"
LIST_CONNECTIONS="${LIST_CONNECTIONS:-16}"
COUNT_CONNECTIONS="${COUNT_CONNECTIONS:-1}"
DB_NAME="${BENCH_DB:-helpdesk_bench_1m}"
PG="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
# Over the Unix socket, as in load.sh (sqlx leaves Nagle's algorithm on for TCP).
APP_DB="${BENCH_APP_DATABASE_URL:-postgres://postgres@localhost/$DB_NAME?host=/var/run/postgresql}"
pick_port APP_PORT
pick_port BASE_PORT
PASSWORD=bench-password-123

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
sql() { psql "$PG/$DB_NAME" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
[ "$(sql "SELECT count(*) > 0 FROM tickets" 2>/dev/null)" = t ] \
    || { echo "no $DB_NAME with tickets: run api/benches/seed_1m.sh first" >&2; exit 1; }

WORK="$(mktemp -d)"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -x "$TARGET/release/helpdesk" ] || [ ! -x "$TARGET/baseline/release/baseline" ]; then
    echo "== building (release)"
    cargo build --release -q -p api --bin helpdesk --manifest-path "$ROOT/Cargo.toml"
    cp -r "$BASELINE_SRC" "$WORK/baseline"
    chmod -R u+w "$WORK/baseline"
    (cd "$WORK/baseline" && CARGO_TARGET_DIR="$TARGET/baseline" cargo build --release -q)
fi

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

BASELINE_BIND="127.0.0.1:$BASE_PORT" "$TARGET/baseline/release/baseline" >/dev/null 2>"$WORK/baseline.log" &
BASE_PID=$!
PIDS+=($BASE_PID)
DATABASE_URL="$APP_DB" REDIS_URL="$REDIS" HELPDESK_REDIS_PREFIX="bench1m:$$:" \
HELPDESK_BIND="127.0.0.1:$APP_PORT" HELPDESK_AUTH__LOGIN_PER_MINUTE=100000000 \
RUST_LOG=warn "$TARGET/release/helpdesk" serve >/dev/null 2>"$WORK/helpdesk.log" &
APP_PID=$!
PIDS+=($APP_PID)
wait_for_server baseline "$BASE_PID" "$BASE_PORT" "http://127.0.0.1:$BASE_PORT/hello" "$WORK/baseline.log"
wait_for_server helpdesk "$APP_PID" "$APP_PORT" "http://127.0.0.1:$APP_PORT/ready" "$WORK/helpdesk.log"
servers_ok() {
    check_server baseline "$BASE_PID" "$BASE_PORT"
    check_server helpdesk "$APP_PID" "$APP_PORT"
}
API="http://127.0.0.1:$APP_PORT/api/v1"
token() {
    curl -sf "$API/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | jq -r .access_token
}
CLIENT_AGENT="$(token agent1@c-001.bench)"
PARTNER_AGENT="$(token agent1@p-europe.bench)"
CLIENT_TENANT_ADMIN="$(token admin@c-001.bench)"
CLIENT_ADMIN="$(token client_admin@c-001.bench)"
PARTNER_ADMIN="$(token admin@p-europe.bench)"
PLATFORM_ADMIN="$(token admin@platform.bench)"

C001="$(sql "SELECT id FROM tenants WHERE slug = 'c-001'")"
PEUROPE_PATH="$(sql "SELECT path FROM tenants WHERE slug = 'p-europe'")"
GROUP="$(sql "SELECT id FROM groups WHERE tenant_id = '$C001' AND name = 'L1 support'")"
AGENT="$(sql "SELECT id FROM users WHERE email = 'agent1@c-001.bench'")"
# The cursor of page 1,000 (25 a page): the id of row 24,975 of the view, newest first, in the
# API's encoding (URL-safe base64 of the UUID's 16 bytes, no padding).
cursor_after() {
    sql "SELECT translate(rtrim(encode(uuid_send(id), 'base64'), '='), '+/', '-_') FROM tickets
         WHERE $1 ORDER BY id DESC OFFSET 24974 LIMIT 1"
}
CLIENT_CURSOR="$(cursor_after "tenant_id = '$C001' AND status = 'closed'")"
PARTNER_CURSOR="$(cursor_after "tenant_id IN (SELECT id FROM tenants WHERE path LIKE '$PEUROPE_PATH%')
                                AND status = 'closed' AND source = 'email'")"
FROM="$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)"
TO="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# name|token variable|connections|path
CASES=(
    "list open+group+assignee, c-001 agent|CLIENT_AGENT|$LIST_CONNECTIONS|/tickets?status=open&group_id=$GROUP&assignee_id=$AGENT"
    "list open+group+tag, c-001 agent|CLIENT_AGENT|$LIST_CONNECTIONS|/tickets?status=open&group_id=$GROUP&tag=exam"
    "list closed p1, c-001 agent|CLIENT_AGENT|$LIST_CONNECTIONS|/tickets?status=closed"
    "search q=camera exam, c-001 agent|CLIENT_AGENT|$LIST_CONNECTIONS|/tickets?q=camera%20exam"
    "search q=ex-4821 camera, c-001 agent|CLIENT_AGENT|$LIST_CONNECTIONS|/tickets?q=ex-4821%20camera"
    "list closed p1000, c-001 agent|CLIENT_AGENT|$LIST_CONNECTIONS|/tickets?status=closed&limit=25&cursor=$CLIENT_CURSOR"
    "list closed+email p1, p-europe agent|PARTNER_AGENT|$LIST_CONNECTIONS|/tickets?status=closed&source=email"
    "list closed+email p1000, p-europe agent|PARTNER_AGENT|$LIST_CONNECTIONS|/tickets?status=closed&source=email&limit=25&cursor=$PARTNER_CURSOR"
    "counts company, c-001 tenant admin|CLIENT_TENANT_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=company&from=$FROM&to=$TO"
    "counts day, c-001 tenant admin|CLIENT_TENANT_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=day&from=$FROM&to=$TO"
    "counts company, c-001 client admin|CLIENT_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=company&from=$FROM&to=$TO"
    "counts day, c-001 client admin|CLIENT_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=day&from=$FROM&to=$TO"
    "counts company, p-europe admin|PARTNER_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=company&from=$FROM&to=$TO"
    "counts day, p-europe admin|PARTNER_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=day&from=$FROM&to=$TO"
    "counts company, platform admin (all)|PLATFORM_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=company&from=$FROM&to=$TO"
    "counts day, platform admin (all)|PLATFORM_ADMIN|$COUNT_CONNECTIONS|/reports/ticket-counts?group_by=day&from=$FROM&to=$TO"
)

echo "== what the views hold"
for case in "${CASES[@]}"; do
    IFS='|' read -r name var _ path <<<"$case"
    body="$(curl -sf -H "Authorization: Bearer ${!var}" "$API$path")" || { echo "$name: request failed" >&2; exit 1; }
    printf '%-42s %s\n' "$name" "$(jq -c 'if .items then {items: (.items | length), first: .items[0].number, last: .items[-1].number}
                                          else {total, buckets: (.buckets | length)} end' <<<"$body")"
done

threads() { if [ "$1" -ge 8 ]; then echo 2; else echo 1; fi; }
echo "== baseline GET /hello ($LIST_CONNECTIONS connections, $DURATION)"
wrk -t"$(threads "$LIST_CONNECTIONS")" -c"$LIST_CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$BASE_PORT/hello" \
    | tee "$WORK/hello.txt"
check_wrk "$WORK/hello.txt" "baseline GET /hello"; servers_ok
i=0
for case in "${CASES[@]}"; do
    IFS='|' read -r name var conns path <<<"$case"
    echo "== $name ($conns connections, $DURATION)"
    wrk -t"$(threads "$conns")" -c"$conns" -d"$DURATION" --latency -H "Authorization: Bearer ${!var}" "$API$path" \
        | tee "$WORK/case$i.txt"
    check_wrk "$WORK/case$i.txt" "$name"; servers_ok
    i=$((i + 1))
done

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
bad() { awk '/Non-2xx/ {print $5; found=1} END {if (!found) print 0}' "$1"; }
HELLO="$(rps "$WORK/hello.txt")"
echo
echo "== summary ($DURATION each; PostgreSQL $(sql 'SHOW server_version'), $(sql 'SELECT count(*) FROM tickets') tickets)"
printf '%-42s %5s %10s %9s %9s %7s %9s\n' "case" "conns" "req/s" "p50" "p99" "non-2xx" "of /hello"
printf '%-42s %5s %10s %9s %9s %7s %9s\n' "baseline GET /hello" "$LIST_CONNECTIONS" "$HELLO" \
    "$(pct "$WORK/hello.txt" 50%)" "$(pct "$WORK/hello.txt" 99%)" "$(bad "$WORK/hello.txt")" "100%"
i=0
for case in "${CASES[@]}"; do
    IFS='|' read -r name _ conns _ <<<"$case"
    f="$WORK/case$i.txt"
    printf '%-42s %5s %10s %9s %9s %7s %9s\n' "$name" "$conns" "$(rps "$f")" "$(pct "$f" 50%)" "$(pct "$f" 99%)" "$(bad "$f")" \
        "$(awk -v a="$(rps "$f")" -v b="$HELLO" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
    i=$((i + 1))
done
