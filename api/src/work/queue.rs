//! What every worker's table shares: taking due rows under a lease, and counting rows by state
//! for `/metrics`. A table a worker takes from has `id`, `lease_until` and `lease_token`
//! columns; what makes its rows due and what a claim writes besides the lease are the
//! worker's own (see [`Claim`]).
use super::{Lease, WorkMetrics, WorkerKind};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Statement};

/// How a worker takes rows of its table.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    /// What the claim writes besides the lease, e.g. `status = 'sending'`; `{now}` stands for
    /// the time of the claim.
    pub set: &'static str,
    /// Which rows are due, besides being held by nobody (no lease, or one that ran out); `{now}`
    /// as in `set`.
    pub due: &'static str,
    /// The order in which due rows are taken.
    pub order: &'static str,
}

/// Takes up to `limit` due rows of `E`'s table nobody holds, writing `lease` on them (and what
/// `claim.set` says), and returns them as they are now.
///
/// Hand-written SQL, the one statement of the facility: an `UPDATE … WHERE id IN (SELECT …
/// LIMIT n FOR UPDATE SKIP LOCKED) AND <due> RETURNING *`. On PostgreSQL the candidates are
/// locked and skipped by concurrent claims, so workers on several nodes take disjoint rows
/// without waiting on each other; on SQLite (writers serialised) the conditional UPDATE alone
/// decides. The `<due>` condition is repeated outside the sub-select so that a row another
/// worker took in between is not taken again. The lock clause is the backend's
/// ([`crate::backend::Backend::skip_locked`]).
///
/// # Errors
/// Fails when the database does.
#[allow(clippy::disallowed_methods)] // a worker takes due rows of every tenant; what it then writes goes through a scope of each row's own tenant
pub async fn claim<E: EntityTrait>(
    db: &DatabaseConnection,
    claim: Claim,
    now: DateTime<Utc>,
    lease: Lease,
    limit: u64,
) -> Result<Vec<E::Model>, sea_orm::DbErr> {
    let backend = crate::backend::of(db);
    let p = |n| backend.parameter(n);
    let now_p = p(3);
    let table = E::default().table_name();
    let due = format!(
        "({due}) AND (lease_until IS NULL OR lease_until < {now_p})",
        due = claim.due.replace("{now}", &now_p),
    );
    let sql = format!(
        "UPDATE {table} SET lease_until = {until}, lease_token = {token}, {set} \
         WHERE id IN (SELECT id FROM {table} WHERE {due} ORDER BY {order} LIMIT {limit}{skip}) \
         AND {due} RETURNING *",
        until = p(1),
        token = p(2),
        set = claim.set.replace("{now}", &now_p),
        order = claim.order,
        limit = p(4),
        skip = backend.skip_locked(),
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let values: Vec<sea_orm::Value> = vec![
        lease.until.into(),
        lease.token.into(),
        now.into(),
        limit.into(),
    ];
    E::find()
        .from_raw_sql(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .all(db)
        .await
}

/// The states of a worker's rows that `/metrics` shows, as its `status` column spells them.
#[derive(Clone, Copy, Debug)]
pub struct States {
    /// Waiting for a worker (due or backing off).
    pub queued: &'static str,
    /// Held by a worker.
    pub in_flight: &'static str,
    /// Dead-lettered.
    pub dead: &'static str,
}

/// Sets the gauges of `kind` from the counts of its rows by `status` (every tenant's).
///
/// # Errors
/// Fails when the database does.
#[allow(clippy::disallowed_methods)] // counts of every tenant's rows, for this node's metrics
pub async fn count<E: EntityTrait>(
    db: &DatabaseConnection,
    metrics: &WorkMetrics,
    kind: WorkerKind,
    status: E::Column,
    states: States,
) -> Result<(), sea_orm::DbErr> {
    let counted: Vec<(String, i64)> = E::find()
        .select_only()
        .column(status)
        .column_as(Expr::col(status).count(), "n")
        .filter(status.is_in([states.queued, states.in_flight, states.dead]))
        .group_by(status)
        .into_tuple()
        .all(db)
        .await?;
    let of = |state: &str| {
        counted
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n)
    };
    metrics.set_counts(
        kind,
        of(states.queued),
        of(states.in_flight),
        of(states.dead),
    );
    Ok(())
}
