#!/usr/bin/env bash
# Seeds `helpdesk_bench_1m`: 100 tenants and 1,000,000 tickets over ~90 days, for the list and
# count benchmarks of api/benches/list_1m.sh.
#
#   api/benches/seed_1m.sh                   # drops and recreates helpdesk_bench_1m
#   TICKETS=100000 api/benches/seed_1m.sh    # a smaller run
#
# The release app migrates the database, bootstraps the platform and its admin, and creates the
# tree through the API: 4 partners, 5 dedicated clients, 90 partner clients (slugs c-001..c-090,
# c-NNN below partner NNN mod 4) and one tenant admin per tenant (argon2id hash, written by the
# app). The rest is bulk SQL in the shapes the app writes (tickets/writer.rs, contacts, companies,
# groups): per tenant 6 agents (same password hash as the tenant admin), groups L1/L2/L3 with
# members, 25 companies, contacts, tickets numbered 1..n without gaps in creation order with
# `ticket_counters` equal to n, UUIDv7 ids matching `created_at`, a `created` activity per
# ticket, lower-cased `search_text`, tags as a compact JSON array and `custom_fields` "{}".
#
# Tenant k of the 100 (ordered by slug, c-001 first) gets a share 1/(k+10) of the tickets, so
# c-001 is the biggest (~42,000 tickets) and the smallest get ~3,800.
# Every user's password is `bench-password-123`; the logins are printed at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=api/benches/common.sh
. "$ROOT/api/benches/common.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/helpdesk-target}"
TARGET="$CARGO_TARGET_DIR"
TICKETS="${TICKETS:-1000000}"
DB_NAME="${BENCH_DB:-helpdesk_bench_1m}"
PG="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
APP_DB="postgres://postgres@localhost/$DB_NAME?host=/var/run/postgresql"
pick_port APP_PORT
PASSWORD=bench-password-123
case "$DB_NAME" in helpdesk_test_*) echo "refusing a helpdesk_test_ database name" >&2; exit 1 ;; esac

if [ ! -x "$TARGET/release/helpdesk" ] || [ -z "${SKIP_BUILD:-}" ]; then
    echo "== building (release)"
    cargo build --release -q -p api --bin helpdesk --manifest-path "$ROOT/Cargo.toml"
fi
BIN="$TARGET/release/helpdesk"
START=$(date +%s)

echo "== recreating $DB_NAME and migrating"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -qc "CREATE DATABASE $DB_NAME" >/dev/null
DATABASE_URL="$APP_DB" RUST_LOG=warn "$BIN" migrate

LOG="$(mktemp)"
DATABASE_URL="$APP_DB" REDIS_URL="$REDIS" HELPDESK_REDIS_PREFIX="seed1m:$$:" \
HELPDESK_BIND="127.0.0.1:$APP_PORT" HELPDESK_ADMIN_EMAIL=admin@platform.bench \
HELPDESK_ADMIN_PASSWORD="$PASSWORD" HELPDESK_AUTH__LOGIN_PER_MINUTE=100000000 \
RUST_LOG=warn "$BIN" serve >/dev/null 2>"$LOG" &
APP_PID=$!
trap 'kill $APP_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
wait_for_server helpdesk "$APP_PID" "$APP_PORT" "http://127.0.0.1:$APP_PORT/ready" "$LOG"
API="http://127.0.0.1:$APP_PORT/api/v1"
TOKEN="$(curl -sf "$API/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"admin@platform.bench\",\"password\":\"$PASSWORD\"}" | jq -r .access_token)"
post() { curl -sS --fail-with-body "$API/$1" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2"; }
sql() { psql "$PG/$DB_NAME" -qAtX -v ON_ERROR_STOP=1 "$@"; }

echo "== creating 99 tenants and their tenant admins through the API"
PLATFORM_ID="$(sql -c "SELECT id FROM tenants WHERE slug = 'platform'")"
declare -a PARTNERS
i=0
for region in europe mideast latam asia; do
    PARTNERS[i]="$(post tenants "{\"parent_id\":\"$PLATFORM_ID\",\"kind\":\"partner\",\"slug\":\"p-$region\",
        \"name\":\"Partner $region\",\"region\":\"$region\",\"locales\":[\"en\",\"es\"],\"time_zone\":\"UTC\"}" | jq -r .id)"
    i=$((i + 1))
done
for n in 1 2 3 4 5; do
    post tenants "{\"parent_id\":\"$PLATFORM_ID\",\"kind\":\"client\",\"dedicated\":true,\"slug\":\"ded-0$n\",
        \"name\":\"Dedicated university $n\",\"locales\":[\"ru\",\"en\"],\"time_zone\":\"Europe/Moscow\"}" >/dev/null
done
for n in $(seq 1 90); do
    slug="$(printf 'c-%03d' "$n")"
    post tenants "{\"parent_id\":\"${PARTNERS[$(((n - 1) % 4))]}\",\"kind\":\"client\",\"slug\":\"$slug\",
        \"name\":\"Client $slug\",\"locales\":[\"en\"],\"time_zone\":\"UTC\"}" >/dev/null
done
while IFS='|' read -r id slug; do
    post users "{\"tenant_id\":\"$id\",\"email\":\"admin@$slug.bench\",\"name\":\"Admin $slug\",
        \"role\":\"tenant_admin\",\"password\":\"$PASSWORD\"}" >/dev/null
done < <(sql -c "SELECT id, slug FROM tenants WHERE slug <> 'platform' ORDER BY slug")
kill "$APP_PID"
wait "$APP_PID" 2>/dev/null || true
echo "   $(sql -c 'SELECT count(*) FROM tenants') tenants, $(sql -c 'SELECT count(*) FROM users') users ($(($(date +%s) - START)) s)"

echo "== bulk-inserting agents, groups, companies, contacts and $TICKETS tickets"
sql -v tickets="$TICKETS" -f "$ROOT/api/benches/seed_1m.sql"
echo "== done in $(($(date +%s) - START)) s"
sql -c "SELECT t.slug, c.last_number FROM ticket_counters c JOIN tenants t ON t.id = c.tenant_id
        WHERE t.slug IN ('c-001', 'p-europe', 'ded-01', 'platform') ORDER BY t.slug"
echo "logins (password $PASSWORD): admin@<slug>.bench (tenant_admin), agent1..6@<slug>.bench (agent),"
echo "client_admin@<client slug>.bench (client_admin); slugs: platform, p-europe, p-mideast, p-latam,"
echo "p-asia, ded-01..ded-05, c-001..c-090"
