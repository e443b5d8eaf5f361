#!/usr/bin/env bash
# Mass-reply benchmark of the release `helpdesk` binary on PostgreSQL + Redis: 10,000 tickets of
# one tenant (each with its own requester) are written straight into the database, then one
# POST /api/v1/tickets/bulk replies to all of them by id with a template naming the requester.
#
#   api/benches/mass_reply.sh             # 10,000 tickets
#   TICKETS=2000 api/benches/mass_reply.sh
#
# Prints: how long the POST took to answer 202 (target < 1 s) and how long until the job was
# completed with every reply in the outbox (target < 10 s), plus the job's counters.
# The server listens on a free port (APP_PORT when set, refused if busy) and is checked to be the
# process holding it; every request must answer 2xx (curl -f).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=api/benches/common.sh
. "$ROOT/api/benches/common.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/helpdesk-target}"
TARGET="$CARGO_TARGET_DIR"
TICKETS="${TICKETS:-10000}"
PG="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
DB=helpdesk_jobs_bench
# Through the Unix socket, as load.sh does (sqlx leaves Nagle's algorithm on for TCP).
APP_DB="${BENCH_APP_DATABASE_URL:-postgres://postgres@localhost/$DB?host=/var/run/postgresql}"
pick_port APP_PORT
URL="http://127.0.0.1:$APP_PORT"

echo "== building (release)"
cargo build --release -q -p api --bin helpdesk --manifest-path "$ROOT/Cargo.toml"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -qc "CREATE DATABASE $DB" >/dev/null

# 10,000 ids make a ~400 KB body: the default body limit (256 KiB) is raised for this run.
DATABASE_URL="$APP_DB" REDIS_URL="$REDIS" HELPDESK_REDIS_PREFIX="bench-jobs:$$:" \
HELPDESK_BIND="127.0.0.1:$APP_PORT" HELPDESK_ADMIN_EMAIL=bench@platform.test \
HELPDESK_ADMIN_PASSWORD=bench-password-123 HELPDESK_DELIVERY__MAIL_DIR="$WORK/outgoing-mail" \
RUST_LOG=warn "$TARGET/release/helpdesk" serve >/dev/null 2>"$WORK/helpdesk.log" &
APP_PID=$!
PIDS+=($APP_PID)
wait_for_server helpdesk "$APP_PID" "$APP_PORT" "$URL/ready" "$WORK/helpdesk.log"

TOKEN="$(curl -sf "$URL/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"bench@platform.test","password":"bench-password-123"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"
TENANT="$(curl -sf "$URL/api/v1/me" -H "Authorization: Bearer $TOKEN" | sed -E 's/.*"tenant_id":"([^"]+)".*/\1/')"

echo "== creating $TICKETS tickets for tenant $TENANT"
psql "$PG/$DB" -q <<SQL
INSERT INTO contacts (id, tenant_id, name, email, created_at, updated_at)
SELECT gen_random_uuid(), '$TENANT', 'Student ' || g, 'student' || g || '@bench.example', now(), now()
FROM generate_series(1, $TICKETS) g;
INSERT INTO tickets (id, tenant_id, number, subject, description, status, priority, tags, source,
                     requester_id, version, created_at, updated_at, search_text, custom_fields)
SELECT gen_random_uuid(), '$TENANT', row_number() OVER (ORDER BY c.email) + 100000,
       'Exam platform outage', 'The exam did not start', 'open', 'medium', '["outage"]', 'email',
       c.id, 1, now(), now(), 'exam platform outage', '{}'
FROM contacts c WHERE c.tenant_id = '$TENANT' AND c.email LIKE '%@bench.example';
ANALYZE;
SQL
psql "$PG/$DB" -tAc "SELECT json_build_object('ticket_ids', json_agg(id),
    'reply', json_build_object('body', '<p>Dear {{requester.name}}, the outage behind ticket #{{ticket.number}} is fixed; please start your exam again.</p>'))
    FROM tickets WHERE tenant_id = '$TENANT'" > "$WORK/bulk.json"
echo "request body: $(wc -c < "$WORK/bulk.json") bytes"

echo "== POST /api/v1/tickets/bulk"
START="$(date +%s.%N)"
curl -sf -o "$WORK/accepted.json" -w '%{time_total}\n' "$URL/api/v1/tickets/bulk" \
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' --data-binary "@$WORK/bulk.json" > "$WORK/accept-time"
cat "$WORK/accepted.json"; echo
JOB="$(sed -E 's/.*"job_id":"([^"]+)".*/\1/' "$WORK/accepted.json")"
while :; do
    STATUS="$(curl -sf "$URL/api/v1/jobs/$JOB" -H "Authorization: Bearer $TOKEN")"
    case "$STATUS" in *'"status":"completed"'*|*'"status":"failed"'*) break ;; esac
    sleep 0.05
done
END="$(date +%s.%N)"
check_server helpdesk "$APP_PID" "$APP_PORT"
OUTBOX="$(psql "$PG/$DB" -tAc "SELECT count(*) FROM outbox")"
echo "$STATUS" | sed -E 's/"failures":\[.*\],//'

echo
echo "== summary ($TICKETS tickets)"
printf 'bulk request accepted (202):        %.3f s\n' "$(cat "$WORK/accept-time")"
printf 'accepted -> job completed:          %.3f s (POST sent -> completed, polled every 50 ms)\n' \
    "$(awk -v a="$START" -v b="$END" 'BEGIN { print b - a }')"
printf 'outbox rows:                        %s\n' "$OUTBOX"
