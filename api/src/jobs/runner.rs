//! The background runner of bulk jobs, one per node, on the leased-worker facility of
//! [`crate::work`]. It claims a job nobody holds with a lease (the candidate is picked
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the conditional UPDATE decides), works its
//! pending items in chunks (renewing the lease each chunk) and finishes it, releasing the lease.
//! Every write of the runner to its job matches the lease's token, so a node that stalled past
//! its lease and lost the job to another node writes nothing. Each chunk's replies (written by
//! [`crate::tickets::change::post`], the same path as a single reply: messages, history, events,
//! outbox rows, new versions) and the items' `done` marks commit in one transaction fenced by the
//! token, so a job resumed on another node after a crash never sends a reply twice.
//!
//! An attempt that fails with an error that is not an item's own (the database's, say) is
//! recorded in one fenced write: one more failed attempt, the error, the lease released and the
//! job not taken again before its back-off (exponential, with jitter). After `jobs.max_attempts`
//! failed attempts in a row the job is `dead`, its remaining items pending and its last error
//! kept, until an admin retries it (`POST /jobs/{id}/retry`).
use crate::error::ErrorCode;
// Only `claim` reads or writes the jobs table without a scope: it looks for and holds jobs of
// every tenant before any scope exists (as the gauges count them). Once a job is claimed, the
// job's own rows go through a scope of its tenant and everything else through the scope of the
// job's actor.

use super::service::{self, StoredRequest};
use crate::auth::principal::Principal;
use crate::config::JobSettings;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tickets::change::{self, Actor, Post};
use crate::tickets::domain::MessageKind;
use crate::tickets::dto::UpdateTicket;
use crate::work::{Backoff, Claim, Lease, States, WorkerKind, last_error, lease_until};
use chrono::{DateTime, Utc};
use entity::{contact, job, job_item, ticket, ticket_message};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect, UpdateMany};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tenants::{Scope, Scoped, Why};
use uuid::Uuid;

/// Rows per multi-row INSERT.
const INSERT_ROWS: usize = 1000;
/// Items marked by one UPDATE whose message column is a CASE on the item's id.
const CASE_ROWS: usize = 250;

/// How the runner takes a job: the oldest queued or running one nobody holds. A job whose
/// attempt failed has no token but a `lease_until`: it is not due before its back-off ends.
const CLAIM: Claim = Claim {
    set: "status = 'running', started_at = COALESCE(started_at, {now})",
    due: "status IN ('queued', 'running')",
    order: "created_at",
};

/// The job states the gauges count: waiting (or backing off), held, dead.
const STATES: States = States {
    queued: "queued",
    in_flight: "running",
    dead: "dead",
};

/// How often the gauges are counted.
const COUNT_EVERY: Duration = Duration::from_secs(2);

/// Starts this node's runner, and the counting of jobs for `/metrics`.
pub fn spawn(state: AppState) {
    tokio::spawn(gauges(state.clone()));
    tokio::spawn(run(state));
}

/// How working a job ended.
enum Outcome {
    /// Finished (completed or failed), or another node holds it now.
    Released,
    /// Fault injection: the runner stops as if the process had died.
    Halt,
}

/// This node's hold on the job it works.
struct Hold {
    /// The lease; its token fences every write.
    lease: Lease,
    /// Failed attempts in a row, as the job's row has them.
    attempts: i32,
}

/// Fault injection for tests (`jobs.halt_after_chunks`, `jobs.fail_chunks`), counted on this
/// node.
#[derive(Debug, Default)]
struct Faults {
    /// Chunks committed.
    committed: u32,
    /// Chunk attempts failed on purpose.
    failed: u32,
}

impl Faults {
    /// Whether this chunk attempt fails on purpose.
    fn fail_now(&mut self, settings: &JobSettings) -> bool {
        let fail = settings.fail_chunks.is_some_and(|n| self.failed < n);
        if fail {
            self.failed += 1;
        }
        fail
    }
}

async fn run(state: AppState) {
    let settings = state.settings.jobs.clone();
    let poll = Duration::from_secs(Ord::max(settings.poll_secs, 1));
    let backoff = Backoff::from_secs(settings.base_backoff_secs, settings.max_backoff_secs);
    let mut faults = Faults::default();
    loop {
        loop {
            let now = state.clock.now();
            let lease = Lease::new(now, settings.lease_secs);
            let found = match claim(&state.db, now, lease).await {
                Ok(Some(found)) => found,
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = ?err, "could not look for bulk jobs");
                    break;
                }
            };
            tracing::debug!(job = %found.id, token = %lease.token, "took a bulk job");
            let mut hold = Hold {
                lease,
                attempts: found.attempts,
            };
            match work(&state, &found, &mut hold, &mut faults).await {
                Ok(Outcome::Released) => {}
                Ok(Outcome::Halt) => {
                    tracing::warn!("job runner halted (jobs.halt_after_chunks)");
                    return;
                }
                Err(err) => {
                    tracing::warn!(job = %found.id, error = ?err, "an attempt of a bulk job failed");
                    if let Err(err) = failed(&state, &found, &hold, &err, backoff).await {
                        // The lease runs out and the job is taken again then.
                        tracing::warn!(job = %found.id, error = ?err, "could not record a failed attempt of a bulk job");
                        break;
                    }
                }
            }
        }
        tokio::select! {
            () = state.job_wakeup.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Keeps this node's gauges of jobs current. Apart from the runner, which may work one job for
/// a long time.
async fn gauges(state: AppState) {
    loop {
        let counted = crate::work::queue::count::<job::Entity>(
            &state.db,
            &state.work,
            WorkerKind::Jobs,
            job::Column::Status,
            STATES,
        )
        .await;
        if let Err(err) = counted {
            tracing::debug!(error = ?err, "could not count bulk jobs");
        }
        tokio::time::sleep(COUNT_EVERY).await;
    }
}

/// Claims the oldest due job nobody holds, writing `lease` on it.
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease: Lease,
) -> Result<Option<job::Model>, sea_orm::DbErr> {
    let taken = crate::work::queue::claim::<job::Entity>(db, CLAIM, now, lease, 1).await?;
    Ok(taken.into_iter().next())
}

/// An update of the job this node holds: through a scope of the job's tenant, and fenced by
/// the lease's token (it matches nothing once another node took the job).
fn held(found: &job::Model, lease: Lease) -> UpdateMany<job::Entity> {
    let own = Scope::for_tenant_work(found.tenant_id, Why::JobBookkeeping);
    job::Entity::scoped_update(&own)
        .filter(job::Column::Id.eq(found.id))
        .filter(job::Column::LeaseToken.eq(lease.token))
}

/// Releases the lease: no token, and `lease_until` is when the job may be taken again (`None`:
/// at once, or never for a job that is no longer active).
fn released(
    update: UpdateMany<job::Entity>,
    not_before: Option<DateTime<Utc>>,
) -> UpdateMany<job::Entity> {
    update
        .col_expr(job::Column::LeaseUntil, Expr::value(not_before))
        .col_expr(job::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
}

/// Extends the lease if this node still holds the job.
async fn renew(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    found: &job::Model,
    lease: Lease,
    secs: u64,
) -> Result<Option<Lease>, ApiError> {
    let next = Lease {
        until: lease_until(now, secs),
        ..lease
    };
    let renewed = held(found, lease)
        .col_expr(job::Column::LeaseUntil, Expr::value(next.until))
        .exec(db)
        .await?;
    Ok((renewed.rows_affected == 1).then_some(next))
}

/// Records a failed attempt of the job this node holds, in one fenced write: one more failed
/// attempt and its error; the lease released and the job not taken again before its back-off,
/// or `dead` (its remaining items pending) once `jobs.max_attempts` attempts failed in a row.
/// The cause of an internal error goes to the log; the job shows which attempt failed.
async fn failed(
    state: &AppState,
    found: &job::Model,
    hold: &Hold,
    err: &ApiError,
    backoff: Backoff,
) -> Result<(), sea_orm::DbErr> {
    let now = state.clock.now();
    let attempts = hold.attempts.saturating_add(1);
    let dead = attempts >= state.settings.jobs.max_attempts;
    let (status, not_before) = if dead {
        ("dead", None)
    } else {
        ("queued", Some(backoff.next_attempt(now, attempts)))
    };
    let written = released(held(found, hold.lease), not_before)
        .col_expr(job::Column::Status, Expr::value(status))
        .col_expr(job::Column::Attempts, Expr::value(attempts))
        .col_expr(
            job::Column::LastError,
            Expr::value(shown_error(found, attempts, err)),
        )
        .exec(&state.db)
        .await?;
    if written.rows_affected == 0 {
        tracing::warn!(job = %found.id, "lost the lease on a bulk job; another node owns it");
    } else if dead {
        tracing::warn!(job = %found.id, attempts, "a bulk job is dead after its last attempt");
    } else {
        state.work.retried(WorkerKind::Jobs);
    }
    Ok(())
}

/// Ends a job this node holds: `completed`, or `failed` with its remaining items failed.
async fn finish(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    found: &job::Model,
    lease: Lease,
    failure: Option<&ApiError>,
) -> Result<(), ApiError> {
    let txn = crate::backend::begin(db).await?;
    let mut update = released(held(found, lease), None)
        .col_expr(
            job::Column::Status,
            Expr::value(if failure.is_some() {
                "failed"
            } else {
                "completed"
            }),
        )
        .col_expr(job::Column::FinishedAt, Expr::value(now));
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
    } else {
        // Done: an error of an earlier attempt no longer says anything about the job.
        update = update.col_expr(job::Column::LastError, Expr::value(Option::<String>::None));
    }
    if update.exec(&txn).await?.rows_affected == 1 {
        txn.commit().await?;
    }
    Ok(())
}

async fn work(
    state: &AppState,
    found: &job::Model,
    hold: &mut Hold,
    faults: &mut Faults,
) -> Result<Outcome, ApiError> {
    let db = &state.db;
    let settings = &state.settings.jobs;
    let stored: StoredRequest = match serde_json::from_str(&found.request) {
        Ok(stored) => stored,
        Err(err) => {
            let err = ApiError::Internal(anyhow::anyhow!("unreadable job request: {err}"));
            finish(db, state.clock.now(), found, hold.lease, Some(&err)).await?;
            return Ok(Outcome::Released);
        }
    };
    let principal = match service::principal_of(state, found, &stored).await {
        Ok(principal) => principal,
        Err(ApiError::Internal(err)) => return Err(ApiError::Internal(err)),
        Err(err) => {
            finish(db, state.clock.now(), found, hold.lease, Some(&err)).await?;
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
            finish(db, state.clock.now(), found, hold.lease, None).await?;
            return Ok(Outcome::Released);
        }
        let fail = faults.fail_now(settings);
        if !chunk(state, found, &principal, &stored, &items, hold, fail).await? {
            return Ok(Outcome::Released);
        }
        faults.committed += 1;
        if settings.halt_after_chunks == Some(faults.committed) {
            return Ok(Outcome::Halt);
        }
        match renew(
            db,
            state.clock.now(),
            found,
            hold.lease,
            settings.lease_secs,
        )
        .await?
        {
            Some(next) => hold.lease = next,
            None => {
                tracing::debug!(job = %found.id, token = %hold.lease.token, "lost the lease on a bulk job");
                return Ok(Outcome::Released);
            }
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
/// is then written; another node owns the job). With `fail` (fault injection,
/// `jobs.fail_chunks`) the chunk's transaction is rolled back just before it would commit and
/// the attempt fails with an internal error.
async fn chunk(
    state: &AppState,
    found: &job::Model,
    principal: &Principal,
    stored: &StoredRequest,
    items: &[job_item::Model],
    hold: &mut Hold,
    fail: bool,
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
    // Items answered by a reply name their message: one UPDATE per slice of the chunk, each
    // item's message picked by a CASE on its id (not one statement per item).
    let answered: Vec<(Uuid, Uuid)> = done
        .iter()
        .filter_map(|(id, message)| message.map(|m| (*id, m)))
        .collect();
    for slice in answered.chunks(CASE_ROWS) {
        let Some(((first_id, first_message), rest)) = slice.split_first() else {
            continue;
        };
        let mut messages = Expr::case(
            job_item::Column::Id.eq(*first_id),
            Expr::value(*first_message),
        );
        for (id, message) in rest {
            messages = messages.case(job_item::Column::Id.eq(*id), Expr::value(*message));
        }
        let ids: Vec<Uuid> = slice.iter().map(|(id, _)| *id).collect();
        marked += job_item::Entity::scoped_update(&items_scope)
            .col_expr(job_item::Column::Status, Expr::value("done"))
            .col_expr(job_item::Column::MessageId, messages.into())
            .filter(job_item::Column::Id.is_in(ids))
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
    let counted = held(found, hold.lease)
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
        // Progress: the count of failed attempts starts again.
        .col_expr(job::Column::Attempts, Expr::value(0))
        .exec(&txn)
        .await?;
    // Someone else worked these items, or the lease passed to another node: write nothing.
    if counted.rows_affected != 1 || marked != items.len() as u64 {
        txn.rollback().await?;
        tracing::debug!(job = %found.id, token = %hold.lease.token, "lost the lease on a bulk job; its chunk is rolled back");
        return Ok(false);
    }
    if fail {
        txn.rollback().await?;
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a chunk failed on purpose (jobs.fail_chunks)"
        )));
    }
    txn.commit().await?;
    hold.attempts = 0;
    Ok(true)
}

/// What a job shows of a failed attempt: a refusal as it is; an internal error (a database
/// message, say) only as such, its cause logged with the job and attempt, as a 500 would be.
fn shown_error(found: &job::Model, attempts: i32, err: &ApiError) -> String {
    match err {
        ApiError::Internal(cause) => {
            tracing::error!(job = %found.id, attempts, error = ?cause, "a bulk job's attempt failed");
            format!("internal error in attempt {attempts}; the cause is in the server log")
        }
        refused => last_error(refused),
    }
}
