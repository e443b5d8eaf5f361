//! This node's delivery worker: it takes due outbox rows under a lease (see
//! [`crate::work::lease`]), hands each to its channel, and records the outcome fenced by the
//! lease's token: `sent` with the provider's id; for a failure that may pass, `queued` again
//! after an exponential back-off with jitter, or `dead` with the last error once
//! `delivery.max_attempts` attempts failed (an admin may retry it); for a failure that will
//! not pass, `failed` with the reason. A node that stalled past its lease records nothing: the
//! row went to another node, which delivers it (at least once; the `Message-ID` is the row's
//! id, so a receiving server can tell a repeat).
use super::domain::DeliveryStatus;
use super::email::Relay;
use crate::config::DeliverySettings;
use crate::state::AppState;
use crate::work::{Backoff, Claim, Lease, States, WorkerKind};
use chrono::{DateTime, Utc};
use entity::outbox;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DatabaseTransaction, QueryFilter};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tenants::{Scope, Scoped, Why};

/// Why a delivery failed.
#[derive(Debug)]
pub enum Failure {
    /// It may work later (the provider is down, a 4xx answer): retried.
    Transient(String),
    /// It will not work (no address, no channel, refused for good): `failed`.
    Permanent(String),
}

/// The channels this node delivers through.
struct Channels {
    email: Relay,
}

impl Channels {
    async fn deliver(&self, row: &outbox::Model) -> Result<Option<String>, Failure> {
        match row.channel.as_str() {
            "email" => self.email.send(row).await.map(Some),
            other => Err(Failure::Permanent(format!(
                "no {other} channel is configured for this tenant"
            ))),
        }
    }
}

/// Starts this node's worker.
///
/// # Errors
/// Fails when `delivery.smtp_relay` or `delivery.from_address` is malformed, or the folder of
/// `.eml` files cannot be created.
pub fn spawn(state: AppState) -> anyhow::Result<()> {
    let settings = state.settings.delivery.clone();
    let email = match &settings.smtp_relay {
        Some(address) => Relay::new(address, &settings.from_address)?,
        None => {
            let dir = settings.resolved_mail_dir(&state.settings.database_url);
            tracing::info!(dir = %dir.display(), "no SMTP relay is configured: e-mail is written as .eml files");
            Relay::files(&dir, &settings.from_address)?
        }
    };
    tokio::spawn(run(state, Channels { email }, settings));
    Ok(())
}

async fn run(state: AppState, channels: Channels, settings: DeliverySettings) {
    let poll = Duration::from_millis(settings.poll_millis.max(10));
    let backoff = Backoff::from_secs(settings.base_backoff_secs, settings.max_backoff_secs);
    let mut counted = Instant::now() - Duration::from_secs(60);
    loop {
        let now = state.clock.now();
        let lease = Lease::new(now, settings.lease_secs);
        let taken = match claim(&state.db, now, lease, settings.batch).await {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(error = ?err, "the outbox worker cannot take rows");
                Vec::new()
            }
        };
        let full = taken.len() as u64 >= settings.batch;
        let mut outcomes = Vec::with_capacity(taken.len());
        for row in taken {
            let timeout = Duration::from_secs(settings.timeout_secs.max(1));
            let outcome = match tokio::time::timeout(timeout, channels.deliver(&row)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(Failure::Transient(
                    "the channel did not answer in time".into(),
                )),
            };
            outcomes.push((row, outcome));
        }
        // One commit for the batch's outcomes rather than one per row: a mass reply's ten
        // thousand rows otherwise cost ten thousand commits beside the job writing them.
        if !outcomes.is_empty()
            && let Err(err) = record_all(&state, outcomes, lease, &settings, backoff).await
        {
            tracing::warn!(error = ?err, "could not record a batch of deliveries; their lease runs out and they are tried again");
        }
        if counted.elapsed() >= Duration::from_secs(2) {
            counted = Instant::now();
            if let Err(err) = count(&state).await {
                tracing::debug!(error = ?err, "could not count the outbox");
            }
        }
        if !full {
            tokio::time::sleep(poll).await;
        }
    }
}

/// How the worker takes rows: due ones in `queued` (or `sending` under a lease that ran out),
/// counting the attempt.
const CLAIM: Claim = Claim {
    set: "status = 'sending', attempts = attempts + 1",
    due: "status IN ('queued', 'sending') AND next_attempt_at <= {now}",
    order: "next_attempt_at",
};

/// Takes up to `batch` due rows nobody holds, writing `lease` on them and counting the attempt.
/// Rows of every tenant: the worker delivers for all of them, and each outcome is written
/// through a scope of the row's own tenant.
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease: Lease,
    batch: u64,
) -> Result<Vec<outbox::Model>, sea_orm::DbErr> {
    crate::work::queue::claim::<outbox::Entity>(db, CLAIM, now, lease, batch).await
}

/// Writes the outcomes of a batch in one transaction.
async fn record_all(
    state: &AppState,
    outcomes: Vec<(outbox::Model, Result<Option<String>, Failure>)>,
    lease: Lease,
    settings: &DeliverySettings,
    backoff: Backoff,
) -> Result<(), sea_orm::DbErr> {
    let txn = crate::backend::begin(&state.db).await?;
    // Rows that failed for good for the same reason (a channel that is not configured fails a
    // whole mass reply alike) are written together, one statement per tenant and reason.
    let mut refused: HashMap<(uuid::Uuid, String), Vec<uuid::Uuid>> = HashMap::new();
    for (row, outcome) in outcomes {
        match outcome {
            Err(Failure::Permanent(reason)) => {
                refused
                    .entry((row.tenant_id, reason))
                    .or_default()
                    .push(row.id);
            }
            outcome => record(state, &txn, &row, lease, outcome, settings, backoff).await?,
        }
    }
    for ((tenant, reason), ids) in refused {
        let scope = Scope::for_tenant_work(tenant, Why::Delivery);
        let written = released(&scope, lease)
            .col_expr(outbox::Column::LastError, Expr::value(reason))
            .col_expr(
                outbox::Column::Status,
                Expr::value(DeliveryStatus::Failed.as_str()),
            )
            .filter(outbox::Column::Id.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        if written.rows_affected < ids.len() as u64 {
            tracing::warn!(
                lost = ids.len() as u64 - written.rows_affected,
                "lost the lease on deliveries; another node owns them"
            );
        }
    }
    txn.commit().await
}

/// An UPDATE that releases rows this worker holds (its lease token) in `scope`.
fn released(scope: &Scope, lease: Lease) -> sea_orm::UpdateMany<outbox::Entity> {
    outbox::Entity::scoped_update(scope)
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::LeaseToken,
            Expr::value(Option::<uuid::Uuid>::None),
        )
        .filter(outbox::Column::LeaseToken.eq(lease.token))
}

/// Writes the outcome of one attempt, if this worker still holds the row.
async fn record(
    state: &AppState,
    txn: &DatabaseTransaction,
    row: &outbox::Model,
    lease: Lease,
    outcome: Result<Option<String>, Failure>,
    settings: &DeliverySettings,
    backoff: Backoff,
) -> Result<(), sea_orm::DbErr> {
    let now = state.clock.now();
    let scope = Scope::for_tenant_work(row.tenant_id, Why::Delivery);
    let mut update = released(&scope, lease).filter(outbox::Column::Id.eq(row.id));
    let status = match outcome {
        Ok(provider_id) => {
            update = update
                .col_expr(outbox::Column::SentAt, Expr::value(now))
                .col_expr(outbox::Column::ProviderMessageId, Expr::value(provider_id))
                .col_expr(
                    outbox::Column::LastError,
                    Expr::value(Option::<String>::None),
                );
            DeliveryStatus::Sent
        }
        Err(Failure::Permanent(reason)) => {
            update = update.col_expr(outbox::Column::LastError, Expr::value(reason));
            DeliveryStatus::Failed
        }
        Err(Failure::Transient(reason)) => {
            update = update.col_expr(outbox::Column::LastError, Expr::value(reason));
            if row.attempts >= settings.max_attempts {
                DeliveryStatus::Dead
            } else {
                state.work.retried(WorkerKind::Outbox);
                update = update.col_expr(
                    outbox::Column::NextAttemptAt,
                    Expr::value(backoff.next_attempt(now, row.attempts)),
                );
                DeliveryStatus::Queued
            }
        }
    };
    let written = update
        .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
        .exec(txn)
        .await?;
    if written.rows_affected == 0 {
        tracing::warn!(outbox = %row.id, "lost the lease on a delivery; another node owns it");
    }
    Ok(())
}

/// Updates the outbox's gauges: queued, in flight, dead.
async fn count(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let states = States {
        queued: DeliveryStatus::Queued.as_str(),
        in_flight: DeliveryStatus::Sending.as_str(),
        dead: DeliveryStatus::Dead.as_str(),
    };
    crate::work::queue::count::<outbox::Entity>(
        &state.db,
        &state.work,
        WorkerKind::Outbox,
        outbox::Column::Status,
        states,
    )
    .await
}
