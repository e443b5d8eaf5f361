//! Counting tickets in the database, grouped; every query starts from the caller's scope
//! ([`Scoped::scoped_select`]) and says what differs between databases through [`Backend`].
use super::dto::{CountBucket, CountBy, CountQuery, TicketCounts};
use crate::auth::principal::Principal;
use crate::backend::{self, Backend, Bucket};
use crate::error::ApiError;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use entity::{tenant, ticket};
use sea_orm::sea_query::{Alias, Expr, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, FromQueryResult, Statement};
use std::collections::BTreeMap;
use tenants::Scoped;

/// Longest period one report covers.
pub const MAX_DAYS: i64 = 400;

#[derive(Debug, FromQueryResult)]
struct Row {
    key: Option<String>,
    count: i64,
}

/// Counts the tickets created in a period (ending `now` unless the query says), grouped as
/// asked.
///
/// # Errors
/// 404 for a tenant outside the scope, 422 for a bad period or time zone.
pub async fn ticket_counts(
    db: &impl ConnectionTrait,
    principal: &Principal,
    query: CountQuery,
    now: DateTime<Utc>,
) -> Result<TicketCounts, ApiError> {
    let to = query.to.unwrap_or(now);
    let from = query.from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ApiError::invalid("from", "must be before `to`"));
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(ApiError::invalid(
            "to",
            format!("a report covers at most {MAX_DAYS} days"),
        ));
    }
    let scope = &principal.scope;
    let own = tenant::Entity::scoped_by_id(scope, principal.tenant_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let zone_name = query.time_zone.unwrap_or(own.time_zone);
    let zone: Tz = zone_name.parse().map_err(|_| {
        ApiError::invalid("time_zone", format!("unknown IANA time zone `{zone_name}`"))
    })?;

    let mut period = ticket::Entity::scoped_select(scope);
    period
        .and_where(ticket::Column::CreatedAt.gte(from))
        .and_where(ticket::Column::CreatedAt.lt(to));
    if let Some(tenant_id) = query.tenant_id {
        tenant::Entity::scoped_by_id(scope, tenant_id)
            .one(db)
            .await?
            .ok_or(ApiError::NotFound("tenant"))?;
        period.and_where(ticket::Column::TenantId.eq(tenant_id));
    }
    let backend = backend::of(db);
    let rows = run(db, grouped(query.group_by, backend, period.clone())).await?;
    // Every ticket falls in exactly one company, source or quarter-hour bucket, so their sum is the
    // total; a ticket has any number of tags, so tags need their own count.
    let total = match query.group_by {
        CountBy::Tag => run(db, total(period))
            .await?
            .first()
            .map_or(0, |row| row.count),
        CountBy::Company | CountBy::Source | CountBy::Day => rows.iter().map(|row| row.count).sum(),
    };
    let buckets = match query.group_by {
        CountBy::Day => by_local_day(rows, zone),
        CountBy::Company => rows
            .into_iter()
            .map(|row| {
                let key = row
                    .key
                    .and_then(|key| uuid::Uuid::parse_str(&key).ok())
                    .map(|id| id.to_string());
                CountBucket {
                    key,
                    count: row.count,
                }
            })
            .collect(),
        CountBy::Source | CountBy::Tag => rows
            .into_iter()
            .map(|row| CountBucket {
                key: row.key,
                count: row.count,
            })
            .collect(),
    };
    Ok(TicketCounts {
        group_by: query.group_by,
        from,
        to,
        time_zone: zone_name,
        total,
        buckets,
    })
}

async fn run(db: &impl ConnectionTrait, query: SelectStatement) -> Result<Vec<Row>, ApiError> {
    let statement: Statement = db.get_database_backend().build(&query);
    Ok(Row::find_by_statement(statement).all(db).await?)
}

/// `COUNT(*)`: unlike `COUNT(id)` it needs no column outside the `(tenant_id, created_at,
/// company_id, source)` index, so PostgreSQL counts from the index alone.
fn count_rows() -> Expr {
    Expr::cust("COUNT(*)")
}

/// The tickets of `period` counted once each.
fn total(mut period: SelectStatement) -> SelectStatement {
    period
        .expr_as(Expr::cust("NULL"), Alias::new("key"))
        .expr_as(count_rows(), Alias::new("count"))
        .to_owned()
}

/// The tickets of `period` counted per bucket of `by`, keys ascending.
fn grouped(by: CountBy, backend: &dyn Backend, mut period: SelectStatement) -> SelectStatement {
    let bucket = match by {
        CountBy::Company => backend.company_key(),
        CountBy::Source => Bucket::plain(Expr::col((ticket::Entity, ticket::Column::Source))),
        // Quarter hours since the epoch: the database groups, and each quarter then falls into
        // its local day here. Every offset in use since 1972 is a whole number of quarter hours
        // (Kolkata +5:30, Kathmandu +5:45, Chatham +12:45), so no quarter straddles a local
        // midnight, and chrono-tz applies each instant's own offset across DST changes.
        CountBy::Day => backend.quarter_hour_key(),
        CountBy::Tag => Bucket::plain(backend.tag_rows(&mut period)),
    };
    period
        .expr_as(bucket.key.clone(), Alias::new("key"))
        .expr_as(count_rows(), Alias::new("count"))
        .add_group_by([bucket.group])
        .order_by_expr(bucket.key, sea_orm::sea_query::Order::Asc)
        .to_owned()
}

fn by_local_day(rows: Vec<Row>, zone: Tz) -> Vec<CountBucket> {
    let mut days: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        let Some(quarter) = row
            .key
            .as_deref()
            .and_then(|key| key.parse::<i64>().ok())
            .and_then(|quarter| DateTime::from_timestamp(quarter.saturating_mul(900), 0))
        else {
            continue;
        };
        let local = quarter.with_timezone(&zone).date_naive().to_string();
        *days.entry(local).or_default() += row.count;
    }
    days.into_iter()
        .map(|(key, count)| CountBucket {
            key: Some(key),
            count,
        })
        .collect()
}
