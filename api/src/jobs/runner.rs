//! The background runner of bulk jobs, one per node. It claims a job whose lease is free with a
//! conditional UPDATE, works its pending items in chunks (renewing the lease each chunk) and
//! finishes it. Each chunk's replies (written by [`crate::tickets::change::post`], the same path
//! as a single reply: messages, history, events, outbox rows, new versions) and the items'
//! `done` marks commit in one transaction fenced by the lease, so a job resumed on another node
//! after a crash never sends a reply twice.
use crate::error::ErrorCode;
// Only `claim` and `renew` read or write the jobs table without a scope: they look for and hold
// jobs of every tenant before any scope exists. Once a job is claimed, the job's own rows go
// through a scope of its tenant and everything else through the scope of the job's actor.

use super::service::{self, StoredRequest};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::change::{self, Actor, Post};
use crate::tickets::domain::MessageKind;
use crate::tickets::dto::UpdateTicket;
use chrono::{DateTime, Utc};
use entity::{contact, job, job_item, ticket, ticket_message};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tenants::{Scope, Scoped, Why};
use uuid::Uuid;

const ACTIVE: [&str; 2] = ["queued", "running"];
/// Rows per multi-row INSERT.
const INSERT_ROWS: usize = 1000;

/// Starts this node's runner.
pub fn spawn(state: AppState) {
    tokio::spawn(run(state));
}

/// How working a job ended.
enum Outcome {
    /// Finished (completed or failed), or another node holds it now.
    Released,
    /// Fault injection: the runner stops as if the process had died.
    Halt,
}

async fn run(state: AppState) {
    let poll = Duration::from_secs(Ord::max(state.settings.jobs.poll_secs, 1));
    let mut chunks: u32 = 0;
    loop {
        loop {
            match claim(&state.db, state.clock.now(), state.settings.jobs.lease_secs).await {
                Ok(Some((found, lease))) => match work(&state, found, lease, &mut chunks).await {
                    Ok(Outcome::Released) => {}
                    Ok(Outcome::Halt) => {
                        tracing::warn!("job runner halted (jobs.halt_after_chunks)");
                        return;
                    }
                    Err(err) => {
                        // The lease runs out and the job is resumed then.
                        tracing::warn!(error = ?err, "a bulk job chunk failed; it will be retried");
                        break;
                    }
                },
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = ?err, "could not look for bulk jobs");
                    break;
                }
            }
        }
        tokio::select! {
            () = state.job_wakeup.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all().add(job::Column::Status.is_in(ACTIVE)).add(
        Condition::any()
            .add(job::Column::LeaseUntil.is_null())
            .add(job::Column::LeaseUntil.lt(now)),
    )
}

/// Claims the oldest job nobody holds.
#[allow(clippy::disallowed_methods)] // finds claimable jobs of every tenant
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_secs: u64,
) -> Result<Option<(job::Model, DateTime<Utc>)>, ApiError> {
    let candidates = job::Entity::find()
        .filter(claimable(now))
        .order_by_asc(job::Column::CreatedAt)
        .limit(8)
        .all(db)
        .await?;
    for found in candidates {
        let lease = crate::work::lease_until(now, lease_secs);
        let mut update = job::Entity::update_many()
            .col_expr(job::Column::Status, Expr::value("running"))
            .col_expr(job::Column::LeaseUntil, Expr::value(lease))
            .filter(job::Column::Id.eq(found.id))
            .filter(claimable(now));
        if found.started_at.is_none() {
            update = update.col_expr(job::Column::StartedAt, Expr::value(now));
        }
        if update.exec(db).await?.rows_affected == 1 {
            return Ok(Some((found, lease)));
        }
    }
    Ok(None)
}

/// Extends the lease if this node still holds it.
#[allow(clippy::disallowed_methods)] // lease bookkeeping by job id, as in `claim`
async fn renew(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    id: Uuid,
    lease: DateTime<Utc>,
    secs: u64,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let next = crate::work::lease_until(now, secs);
    let renewed = job::Entity::update_many()
        .col_expr(job::Column::LeaseUntil, Expr::value(next))
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::LeaseUntil.eq(lease))
        .exec(db)
        .await?;
    Ok((renewed.rows_affected == 1).then_some(next))
}

/// Ends a job this node holds: `completed`, or `failed` with its remaining items failed.
async fn finish(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    found: &job::Model,
    lease: DateTime<Utc>,
    failure: Option<&ApiError>,
) -> Result<(), ApiError> {
    let txn = crate::backend::begin(db).await?;
    let own = Scope::for_tenant_work(found.tenant_id, Why::JobBookkeeping);
    let mut update = job::Entity::scoped_update(&own)
        .col_expr(
            job::Column::Status,
            Expr::value(if failure.is_some() {
                "failed"
            } else {
                "completed"
            }),
        )
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::FinishedAt, Expr::value(now))
        .filter(job::Column::Id.eq(found.id))
        .filter(job::Column::LeaseUntil.eq(lease));
    if let Some(err) = failure {
        let items = Scope::for_tenant_work(found.tenant_id, Why::JobBookkeeping);
        let rest = job_item::Entity::scoped_update(&items)
            .col_expr(job_item::Column::Status, Expr::value("failed"))
            .col_expr(
                job_item::Column::ErrorCode,
                Expr::value(err.code().as_str()),
            )
            .col_expr(job_item::Column::ErrorDetail, Expr::value(err.to_string()))
            .filter(job_item::Column::JobId.eq(found.id))
            .filter(job_item::Column::Status.eq("pending"))
            .exec(&txn)
            .await?;
        let n = i32::try_from(rest.rows_affected).unwrap_or(i32::MAX);
        update = update
            .col_expr(
                job::Column::Processed,
                Expr::col(job::Column::Processed).add(n),
            )
            .col_expr(job::Column::Failed, Expr::col(job::Column::Failed).add(n));
    }
    if update.exec(&txn).await?.rows_affected == 1 {
        txn.commit().await?;
    }
    Ok(())
}

async fn work(
    state: &AppState,
    found: job::Model,
    mut lease: DateTime<Utc>,
    chunks: &mut u32,
) -> Result<Outcome, ApiError> {
    let db = &state.db;
    let settings = &state.settings.jobs;
    let stored: StoredRequest = match serde_json::from_str(&found.request) {
        Ok(stored) => stored,
        Err(err) => {
            let err = ApiError::Internal(anyhow::anyhow!("unreadable job request: {err}"));
            finish(db, state.clock.now(), &found, lease, Some(&err)).await?;
            return Ok(Outcome::Released);
        }
    };
    let principal = match service::principal_of(state, &found, &stored).await {
        Ok(principal) => principal,
        Err(ApiError::Internal(err)) => return Err(ApiError::Internal(err)),
        Err(err) => {
            finish(db, state.clock.now(), &found, lease, Some(&err)).await?;
            return Ok(Outcome::Released);
        }
    };
    let items_scope = Scope::for_tenant_work(found.tenant_id, Why::JobBookkeeping);
    loop {
        let items = job_item::Entity::scoped(&items_scope)
            .filter(job_item::Column::JobId.eq(found.id))
            .filter(job_item::Column::Status.eq("pending"))
            .order_by_asc(job_item::Column::Position)
            .limit(Ord::max(settings.chunk_size, 1))
            .all(db)
            .await?;
        if items.is_empty() {
            finish(db, state.clock.now(), &found, lease, None).await?;
            return Ok(Outcome::Released);
        }
        if !chunk(state, &found, &principal, &stored, &items, lease).await? {
            return Ok(Outcome::Released);
        }
        *chunks += 1;
        if settings.halt_after_chunks == Some(*chunks) {
            return Ok(Outcome::Halt);
        }
        match renew(db, state.clock.now(), found.id, lease, settings.lease_secs).await? {
            Some(next) => lease = next,
            None => return Ok(Outcome::Released),
        }
    }
}

/// The `PATCH` a job's changes make to one ticket.
async fn patch_for(
    db: &DatabaseConnection,
    principal: &Principal,
    stored: &StoredRequest,
    ticket_id: Uuid,
) -> Result<Option<UpdateTicket>, ApiError> {
    let Some(changes) = &stored.changes else {
        return Ok(None);
    };
    let tags = if let Some(tags) = &changes.tags {
        Some(tags.clone())
    } else if changes.add_tags.is_empty() && changes.remove_tags.is_empty() {
        None
    } else {
        let current = crate::tickets::service::get(db, &principal.scope, ticket_id).await?;
        let remove = crate::tickets::service::check_tags(changes.remove_tags.clone())?;
        let mut tags: Vec<String> = serde_json::from_value::<Vec<String>>(current.tags)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| !remove.contains(t))
            .collect();
        for tag in crate::tickets::service::check_tags(changes.add_tags.clone())? {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        Some(tags)
    };
    Ok(Some(UpdateTicket {
        status: changes.status,
        priority: changes.priority,
        group_id: changes.group_id.map(Some),
        assignee_id: if changes.unassign {
            Some(None)
        } else {
            changes.assignee_id.map(Some)
        },
        tags,
        ..UpdateTicket::default()
    }))
}

/// Applies the job's property changes to one ticket; a race with another edit is retried.
async fn apply_changes(
    db: &DatabaseConnection,
    principal: &Principal,
    stored: &StoredRequest,
    ticket_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut attempts = 0;
    loop {
        let Some(patch) = patch_for(db, principal, stored, ticket_id).await? else {
            return Ok(());
        };
        match crate::tickets::service::update(db, principal, ticket_id, None, patch, now).await {
            Err(ApiError::Conflict {
                code: ErrorCode::EditConflict,
                ..
            }) if attempts < 3 => attempts += 1,
            Err(err) => return Err(err),
            Ok(_) => return Ok(()),
        }
    }
}

/// Works one chunk. Returns `false` when the lease was lost (nothing of the chunk's replies
/// is then written; another node owns the job).
async fn chunk(
    state: &AppState,
    found: &job::Model,
    principal: &Principal,
    stored: &StoredRequest,
    items: &[job_item::Model],
    lease: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let db = &state.db;
    let scope = &principal.scope;
    let mut failures: HashMap<Uuid, (&'static str, String)> = HashMap::new();

    // (a) Property changes, ticket by ticket, through the same rules as PATCH. Re-applying a
    // change after a crash is a no-op.
    if stored.changes.is_some() {
        for item in items {
            match apply_changes(db, principal, stored, item.ticket_id, state.clock.now()).await {
                Ok(()) => {}
                Err(ApiError::Internal(err)) => return Err(ApiError::Internal(err)),
                Err(err) => {
                    failures.insert(item.id, (err.code().as_str(), err.to_string()));
                }
            }
        }
    }

    // (b) Replies for the rest, written by the tickets' one write path in one transaction with
    // the items' marks.
    let now = state.clock.now();
    let mut done: Vec<(Uuid, Option<Uuid>)> = Vec::new();
    let mut posts: Vec<Post> = Vec::new();
    let pending: Vec<&job_item::Model> = items
        .iter()
        .filter(|item| !failures.contains_key(&item.id))
        .collect();
    if let Some(reply) = &stored.reply {
        let ids: Vec<Uuid> = pending.iter().map(|item| item.ticket_id).collect();
        let tickets: HashMap<Uuid, ticket::Model> = ticket::Entity::scoped(scope)
            .filter(ticket::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let requester_ids: Vec<Uuid> = tickets.values().map(|t| t.requester_id).collect();
        let requesters: HashMap<Uuid, contact::Model> = contact::Entity::scoped(scope)
            .filter(contact::Column::Id.is_in(requester_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let kind = if reply.note {
            MessageKind::Note
        } else {
            MessageKind::Reply
        };
        let markup = crate::tickets::html::Markup::of(&reply.body);
        for item in &pending {
            let Some(found_ticket) = tickets.get(&item.ticket_id) else {
                failures.insert(item.id, ("not_found", "ticket not found".to_owned()));
                continue;
            };
            if let Err(err) = crate::tickets::service::unmerged(found_ticket.clone()) {
                failures.insert(item.id, (err.code().as_str(), err.to_string()));
                continue;
            }
            let requester = requesters.get(&found_ticket.requester_id);
            let body = service::render(&reply.body, |key| match key {
                "requester.name" => requester.map(|c| c.name.clone()).unwrap_or_default(),
                "requester.email" => requester.and_then(|c| c.email.clone()).unwrap_or_default(),
                "ticket.number" => found_ticket.number.to_string(),
                "ticket.subject" => found_ticket.subject.clone(),
                _ => String::new(),
            });
            let (html, text) = match crate::tickets::html::render_body_as(&body, markup) {
                Ok(rendered) => rendered,
                Err(err) => {
                    failures.insert(item.id, (err.code().as_str(), err.to_string()));
                    continue;
                }
            };
            let message = ticket_message::Model {
                id: Uuid::now_v7(),
                tenant_id: found_ticket.tenant_id,
                ticket_id: found_ticket.id,
                kind: kind.as_str().to_owned(),
                author_user_id: principal.user_id().ok(),
                author_contact_id: None,
                body_text: text,
                body_html: html,
                created_at: now,
            };
            done.push((item.id, Some(message.id)));
            posts.push(Post {
                ticket: found_ticket.clone(),
                message,
                attachments: Vec::new(),
                extra: Some(json!({"job_id": found.id})),
            });
        }
    } else {
        done.extend(pending.iter().map(|item| (item.id, None)));
    }

    let txn = crate::backend::begin(db).await?;
    change::post(&txn, scope, Actor::of(principal), &posts, now).await?;
    let items_scope = Scope::for_tenant_work(found.tenant_id, Why::JobBookkeeping);
    let plain: Vec<Uuid> = done
        .iter()
        .filter(|(_, message)| message.is_none())
        .map(|(id, _)| *id)
        .collect();
    let mut marked: u64 = 0;
    for ids in plain.chunks(INSERT_ROWS) {
        marked += job_item::Entity::scoped_update(&items_scope)
            .col_expr(job_item::Column::Status, Expr::value("done"))
            .filter(job_item::Column::Id.is_in(ids.to_vec()))
            .filter(job_item::Column::Status.eq("pending"))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    for (id, message) in done.iter().filter(|(_, message)| message.is_some()) {
        marked += job_item::Entity::scoped_update(&items_scope)
            .col_expr(job_item::Column::Status, Expr::value("done"))
            .col_expr(job_item::Column::MessageId, Expr::value(*message))
            .filter(job_item::Column::Id.eq(*id))
            .filter(job_item::Column::Status.eq("pending"))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    for (id, (code, detail)) in &failures {
        marked += job_item::Entity::scoped_update(&items_scope)
            .col_expr(job_item::Column::Status, Expr::value("failed"))
            .col_expr(job_item::Column::ErrorCode, Expr::value(*code))
            .col_expr(job_item::Column::ErrorDetail, Expr::value(detail.clone()))
            .filter(job_item::Column::Id.eq(*id))
            .filter(job_item::Column::Status.eq("pending"))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    let succeeded = i32::try_from(done.len()).unwrap_or(i32::MAX);
    let failed = i32::try_from(failures.len()).unwrap_or(i32::MAX);
    let counted = job::Entity::scoped_update(&items_scope)
        .col_expr(
            job::Column::Processed,
            Expr::col(job::Column::Processed).add(succeeded + failed),
        )
        .col_expr(
            job::Column::Succeeded,
            Expr::col(job::Column::Succeeded).add(succeeded),
        )
        .col_expr(
            job::Column::Failed,
            Expr::col(job::Column::Failed).add(failed),
        )
        .filter(job::Column::Id.eq(found.id))
        .filter(job::Column::LeaseUntil.eq(lease))
        .exec(&txn)
        .await?;
    // Someone else worked these items, or the lease passed to another node: write nothing.
    if counted.rows_affected != 1 || marked != items.len() as u64 {
        txn.rollback().await?;
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}
