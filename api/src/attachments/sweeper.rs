//! Removes uploads that were never sent.
//!
//! A file is stored when it is uploaded and joins the conversation only when a reply or note
//! takes it. One that no message took within `attachments.unsent_ttl_secs` is removed: the row
//! first, then the bytes, so a failure leaves an unreachable file rather than a broken row.
//! One node at a time sweeps, holding the `upload_sweep` lease; a row a reply took at that
//! moment is left alone all the same, because each removal repeats the "not sent" condition.
use crate::error::ApiError;
use crate::state::AppState;
use crate::work::named::{self, Held};
use chrono::{DateTime, TimeDelta, Utc};
use entity::attachment;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::time::Duration;
use tenants::{Scope, Scoped, Why};

/// Most uploads removed per query.
const BATCH: u64 = 500;

/// The name of the sweep's lease: one node at a time sweeps.
pub const LEASE: &str = "upload_sweep";

/// Starts this node's sweeper: it looks every quarter of the waiting time, at least once an
/// hour and at most once a second, when it holds the sweep's lease.
pub fn spawn(state: AppState) {
    let every = interval(&state);
    tokio::spawn(async move {
        let mut held = None;
        loop {
            tokio::time::sleep(every).await;
            match round(&state, &mut held).await {
                Ok(Some(0) | None) => {}
                Ok(Some(removed)) => {
                    tracing::info!(removed, "removed uploads that were never sent")
                }
                Err(err) => tracing::warn!(error = ?err, "could not sweep unsent uploads"),
            }
        }
    });
}

fn interval(state: &AppState) -> Duration {
    Duration::from_secs((state.settings.attachments.unsent_ttl_secs / 4).clamp(1, 3600))
}

/// One round of the sweeper: keeps (or claims) the sweep's lease and, holding it, removes what
/// is due. `None` while another node holds the sweep. The lease lasts three rounds, so a
/// holder that stopped is replaced within that.
///
/// # Errors
/// As [`sweep`], or when the lease cannot be read or written.
pub async fn round(state: &AppState, held: &mut Option<Held>) -> Result<Option<usize>, ApiError> {
    let secs = interval(state).as_secs().saturating_mul(3);
    let now = state.clock.now();
    if let Some(lease) = held.as_mut()
        && !named::renew(&state.db, lease, now, secs).await?
    {
        *held = None;
    }
    if held.is_none() {
        *held = named::claim(&state.db, LEASE, now, secs).await?;
    }
    if held.is_none() {
        return Ok(None);
    }
    sweep_due(state).await.map(Some)
}

/// Removes the uploads whose waiting time has passed by the service's clock; answers how many.
///
/// # Errors
/// As [`sweep`].
pub async fn sweep_due(state: &AppState) -> Result<usize, ApiError> {
    let ttl = state.settings.attachments.unsent_ttl_secs;
    // A waiting time too long to subtract from now keeps everything.
    let Some(before) = i64::try_from(ttl)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|age| state.clock.now().checked_sub_signed(age))
    else {
        return Ok(0);
    };
    sweep(state, before).await
}

/// Removes every upload no message took that was stored before `before`; answers how many.
///
/// # Errors
/// Fails when the database does; bytes that cannot be removed are logged and left behind.
pub async fn sweep(state: &AppState, before: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut removed = 0;
    loop {
        let expired = expired(state, before).await?;
        let done = (expired.len() as u64) < BATCH;
        for row in expired {
            // Each upload is removed through its own tenant's scope, and only if still unsent.
            let gone = attachment::Entity::scoped_delete(&Scope::for_tenant_work(
                row.tenant_id,
                Why::UploadSweep,
            ))
            .filter(attachment::Column::Id.eq(row.id))
            .filter(attachment::Column::MessageId.is_null())
            .exec(&state.db)
            .await?;
            if gone.rows_affected == 0 {
                continue;
            }
            removed += 1;
            super::service::release_bytes(state, &row.storage_key).await;
        }
        if done {
            return Ok(removed);
        }
    }
}

/// The oldest unsent uploads stored before `before`, of every tenant.
#[allow(clippy::disallowed_methods)] // maintenance: expired uploads of every tenant, found by age
async fn expired(
    state: &AppState,
    before: DateTime<Utc>,
) -> Result<Vec<attachment::Model>, ApiError> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::MessageId.is_null())
        .filter(attachment::Column::CreatedAt.lt(before))
        .order_by_asc(attachment::Column::CreatedAt)
        .limit(BATCH)
        .all(&state.db)
        .await?)
}
