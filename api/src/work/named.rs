//! Named leases: work that one node at a time does for the whole service, such as a reader of
//! the ticket event log (which keeps its position on the same row) or a periodic sweep.
//!
//! Every node tries to claim the name; the conditional UPDATE lets one through while the lease
//! is live. The holder renews before it runs out, and every write it makes (advancing a
//! position, recording a failure, releasing) matches its token, so a node that stalled past its
//! lease and lost the row to another node writes nothing.
use super::Lease;
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use entity::work_lease;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter,
};
use uuid::Uuid;

/// Longest error text kept on a row.
const ERROR_CHARS: usize = 1000;

/// A node's hold on a named lease.
#[derive(Clone, Debug)]
pub struct Held {
    /// The work's name.
    pub name: &'static str,
    /// The hold: its token and expiry.
    pub lease: Lease,
    /// The position stored with the row (the last entry a log reader handled).
    pub position: i64,
}

impl Held {
    /// Whether the hold should be renewed now: less than half of `secs` is left.
    pub fn due_for_renewal(&self, now: DateTime<Utc>, secs: u64) -> bool {
        let half = i64::try_from(secs / 2).unwrap_or(i64::MAX);
        (self.lease.until - now).num_seconds() < half
    }
}

// The statements below read and write `work_leases`, which belongs to no tenant: each row is
// service-wide work, found by its name.

/// Claims `name` when nobody holds it (or the holder's lease ran out), creating its row at
/// position 0 the first time. `None` while another node holds it.
///
/// # Errors
/// Fails when the database does.
#[allow(clippy::disallowed_methods)] // work_leases is service-wide, not tenant-owned
pub async fn claim(
    db: &DatabaseConnection,
    name: &'static str,
    now: DateTime<Utc>,
    secs: u64,
) -> Result<Option<Held>, ApiError> {
    if work_lease::Entity::find_by_id(name)
        .one(db)
        .await?
        .is_none()
    {
        let row = work_lease::ActiveModel {
            name: Set(name.to_owned()),
            position: Set(0),
            lease_token: Set(None),
            lease_until: Set(None),
            last_error: Set(None),
            updated_at: Set(now),
        };
        // Two nodes may create it at once: the loser's insert does nothing.
        work_lease::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
    }
    let lease = Lease::new(now, secs);
    let claimed = work_lease::Entity::update_many()
        .col_expr(work_lease::Column::LeaseToken, Expr::value(lease.token))
        .col_expr(work_lease::Column::LeaseUntil, Expr::value(lease.until))
        .col_expr(work_lease::Column::UpdatedAt, Expr::value(now))
        .filter(work_lease::Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(work_lease::Column::LeaseUntil.is_null())
                .add(work_lease::Column::LeaseUntil.lt(now)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(claimed.into_iter().next().map(|row| Held {
        name,
        lease,
        position: row.position,
    }))
}

/// Extends the hold by `secs` from `now`; `false` when the lease was lost.
///
/// # Errors
/// Fails when the database does.
pub async fn renew(
    db: &DatabaseConnection,
    held: &mut Held,
    now: DateTime<Utc>,
    secs: u64,
) -> Result<bool, ApiError> {
    let until = super::lease_until(now, secs);
    let renewed = fenced(held)
        .col_expr(work_lease::Column::LeaseUntil, Expr::value(until))
        .col_expr(work_lease::Column::UpdatedAt, Expr::value(now))
        .exec(db)
        .await?;
    if renewed.rows_affected == 1 {
        held.lease.until = until;
        return Ok(true);
    }
    Ok(false)
}

/// Stores `position` (and extends the hold), in the caller's transaction so that it commits
/// with what was done up to there; clears the last error. `false` when the lease was lost:
/// the caller must then roll back.
///
/// # Errors
/// Fails when the database does.
pub async fn advance(
    conn: &impl ConnectionTrait,
    held: &mut Held,
    position: i64,
    now: DateTime<Utc>,
    secs: u64,
) -> Result<bool, ApiError> {
    let until = super::lease_until(now, secs);
    let advanced = fenced(held)
        .col_expr(work_lease::Column::Position, Expr::value(position))
        .col_expr(work_lease::Column::LeaseUntil, Expr::value(until))
        .col_expr(
            work_lease::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(work_lease::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    if advanced.rows_affected == 1 {
        held.lease.until = until;
        held.position = position;
        return Ok(true);
    }
    Ok(false)
}

/// Keeps `error` (its first characters) on the row for operators to see.
///
/// # Errors
/// Fails when the database does.
pub async fn record_failure(
    db: &DatabaseConnection,
    held: &Held,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let kept: String = error
        .chars()
        .filter(|c| *c != '\0')
        .take(ERROR_CHARS)
        .collect();
    fenced(held)
        .col_expr(work_lease::Column::LastError, Expr::value(kept))
        .col_expr(work_lease::Column::UpdatedAt, Expr::value(now))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives the lease up so that another node may claim it at once.
///
/// # Errors
/// Fails when the database does.
pub async fn release(db: &DatabaseConnection, held: &Held) -> Result<(), ApiError> {
    fenced(held)
        .col_expr(
            work_lease::Column::LeaseToken,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            work_lease::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// An UPDATE of the held row that matches only while the token is the holder's.
#[allow(clippy::disallowed_methods)] // work_leases is service-wide, not tenant-owned
fn fenced(held: &Held) -> sea_orm::UpdateMany<work_lease::Entity> {
    work_lease::Entity::update_many()
        .filter(work_lease::Column::Name.eq(held.name))
        .filter(work_lease::Column::LeaseToken.eq(held.lease.token))
}
