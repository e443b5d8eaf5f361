//! The rules of bulk jobs: what a request may ask, how it is written down at once (the job and
//! one item per ticket, in one transaction), and how a job's actor is rebuilt for the runner.
use super::dto::{BulkChanges, BulkReply, BulkRequest, JobDto, JobFailure};
use crate::auth::principal::{Actor, Principal};
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError};
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use crate::tickets::criteria::{TicketCriteria, nested};
use crate::tickets::html::Markup;
use chrono::{DateTime, Utc};
use entity::{api_key, group, job, job_item, ticket, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, Insert, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use tenants::{Caller, Reach, Role, Scope, Scoped, ScopedInsert, Why};
use uuid::Uuid;

/// The kind of job a bulk ticket request makes.
pub const KIND: &str = "ticket_bulk";

/// Placeholders a reply template may use.
pub const PLACEHOLDERS: [&str; 4] = [
    "requester.name",
    "requester.email",
    "ticket.number",
    "ticket.subject",
];

/// Rows per multi-row INSERT (well under the bind-parameter limits of both databases).
const INSERT_ROWS: usize = 1000;

/// What the runner needs to replay a job: the work and the powers of whoever asked.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct StoredRequest {
    /// Property changes.
    pub changes: Option<BulkChanges>,
    /// Reply or note.
    pub reply: Option<BulkReply>,
    /// The actor's role (users only).
    pub role: Option<String>,
    /// The actor's name at request time.
    pub actor_name: String,
    /// The actor's e-mail at request time (users only).
    pub actor_email: String,
    /// Permission scopes held at request time.
    pub scopes: Vec<String>,
    /// `own` or `subtree`: how far the request's scope reached.
    pub reach: String,
}

fn too_many(field: &str, max: usize) -> ApiError {
    ApiError::Validation {
        code: ErrorCode::TooManyTickets,
        detail: format!("{field}: a bulk request touches at most {max} tickets"),
        errors: vec![FieldError {
            field: field.to_owned(),
            message: format!("at most {max} tickets"),
        }],
    }
}

/// Checks a reply template: every `{{…}}` must be one of [`PLACEHOLDERS`].
///
/// # Errors
/// 422 naming `reply.body`.
pub fn check_template(body: &str) -> Result<(), ApiError> {
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(ApiError::invalid("reply.body", "a `{{` is never closed"));
        };
        let key = after[..end].trim();
        if !PLACEHOLDERS.contains(&key) {
            return Err(ApiError::invalid(
                "reply.body",
                format!(
                    "unknown placeholder `{{{{{key}}}}}`; use one of {}",
                    PLACEHOLDERS.join(", ")
                ),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Renders a checked template with `value(key)` for each placeholder, HTML-escaped when the
/// template is HTML (a plain-text template takes the values as they are).
pub fn render(template: &str, value: impl Fn(&str) -> String) -> String {
    let markup = Markup::of(template);
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        out.push_str(&markup.literal(&value(after[..end].trim())));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

async fn check_changes(
    db: &impl ConnectionTrait,
    scope: &Scope,
    changes: &BulkChanges,
) -> Result<(), ApiError> {
    let empty = changes.status.is_none()
        && changes.priority.is_none()
        && changes.group_id.is_none()
        && changes.assignee_id.is_none()
        && !changes.unassign
        && changes.tags.is_none()
        && changes.add_tags.is_empty()
        && changes.remove_tags.is_empty();
    if empty {
        return Err(ApiError::invalid("changes", "names nothing to change"));
    }
    if changes.unassign && changes.assignee_id.is_some() {
        return Err(ApiError::invalid(
            "changes.unassign",
            "give assignee_id or unassign, not both",
        ));
    }
    if changes.tags.is_some() && !(changes.add_tags.is_empty() && changes.remove_tags.is_empty()) {
        return Err(ApiError::invalid(
            "changes.tags",
            "give tags (replace) or add_tags/remove_tags, not both",
        ));
    }
    for (field, tags) in [
        ("changes.tags", changes.tags.clone().unwrap_or_default()),
        ("changes.add_tags", changes.add_tags.clone()),
        ("changes.remove_tags", changes.remove_tags.clone()),
    ] {
        crate::tickets::service::check_tags(tags)
            .map_err(|err| ApiError::invalid(field, err.to_string()))?;
    }
    if let Some(id) = changes.group_id
        && group::Entity::scoped_by_id(scope, id)
            .one(db)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid("changes.group_id", "no such group"));
    }
    if let Some(id) = changes.assignee_id {
        let found = user::Entity::scoped_by_id(scope, id).one(db).await?;
        if !found.is_some_and(|u| u.status == "active" && u.role != "client_admin") {
            return Err(ApiError::invalid(
                "changes.assignee_id",
                "no such active agent",
            ));
        }
    }
    Ok(())
}

/// The tickets a request names, in order, split into those in the caller's scope and those
/// not (unknown and foreign ids alike).
async fn targets(
    db: &(impl ConnectionTrait + TransactionTrait),
    words: &crate::tickets::word_sample::WordSample,
    scope: &Scope,
    body: &BulkRequest,
    max: usize,
) -> Result<Vec<(Uuid, bool)>, ApiError> {
    match (&body.ticket_ids, &body.filter) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "ticket_ids",
            "give ticket_ids or filter, not both",
        )),
        (None, None) => Err(ApiError::invalid(
            "ticket_ids",
            "give ticket_ids or a filter",
        )),
        (Some(ids), None) => {
            let mut seen = HashSet::with_capacity(ids.len());
            let ids: Vec<Uuid> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
            if ids.is_empty() {
                return Err(ApiError::invalid("ticket_ids", "name at least one ticket"));
            }
            if ids.len() > max {
                return Err(too_many("ticket_ids", max));
            }
            let mut found: HashSet<Uuid> = HashSet::with_capacity(ids.len());
            for chunk in ids.chunks(INSERT_ROWS) {
                let rows: Vec<Uuid> = ticket::Entity::scoped(scope)
                    .select_only()
                    .column(ticket::Column::Id)
                    .filter(ticket::Column::Id.is_in(chunk.to_vec()))
                    .into_tuple()
                    .all(db)
                    .await?;
                found.extend(rows);
            }
            Ok(ids
                .into_iter()
                .map(|id| (id, found.contains(&id)))
                .collect())
        }
        (None, Some(filter)) => {
            let (criteria, _) =
                TicketCriteria::from_json(filter).map_err(|e| nested("filter", e))?;
            criteria.check().map_err(|e| nested("filter", e))?;
            let page = PageRequest {
                limit: max as u64,
                after: None,
            };
            let rows = crate::tickets::service::list(db, words, scope, &criteria, page).await?;
            if rows.len() > max {
                return Err(too_many("filter", max));
            }
            if rows.is_empty() {
                return Err(ApiError::invalid("filter", "matches no tickets"));
            }
            // Oldest first, the order the tickets came in.
            Ok(rows.into_iter().rev().map(|t| (t.id, true)).collect())
        }
    }
}

/// Accepts a bulk request: checks it, then writes the job and one item per ticket in one
/// transaction. Ids outside the caller's scope become failed items (`not_found`) at once.
///
/// # Errors
/// 403 for client staff sending a reply, 422 for a bad request or too many tickets.
pub async fn accept(
    state: &AppState,
    principal: &Principal,
    body: BulkRequest,
) -> Result<job::Model, ApiError> {
    let db = &state.db;
    let scope = &principal.scope;
    let (actor_type, actor_id) = match &principal.actor {
        Actor::User { id, .. } => ("user", *id),
        Actor::ApiKey { id, .. } => ("api_key", *id),
        Actor::Operator => {
            return Err(ApiError::forbidden(
                ErrorCode::InsufficientScope,
                "bulk jobs are started by users or API keys",
            ));
        }
    };
    if body.changes.is_none() && body.reply.is_none() {
        return Err(ApiError::invalid(
            "changes",
            "give changes, a reply, or both",
        ));
    }
    if let Some(changes) = &body.changes {
        check_changes(db, scope, changes).await?;
    }
    if let Some(reply) = &body.reply {
        if principal.role() == Some(Role::ClientAdmin) {
            return Err(ApiError::forbidden(
                ErrorCode::InsufficientScope,
                "client staff read tickets but do not answer them",
            ));
        }
        check_template(&reply.body)?;
        crate::tickets::html::render_body(&reply.body)
            .map_err(|err| ApiError::invalid("reply.body", err.to_string()))?;
    }
    let max = state.settings.jobs.max_tickets;
    let targets = targets(db, &state.word_sample, scope, &body, max).await?;

    let (role, actor_name, actor_email) = match &principal.actor {
        Actor::User {
            role, name, email, ..
        } => (Some(role.as_str().to_owned()), name.clone(), email.clone()),
        Actor::ApiKey { name, .. } => (None, name.clone(), String::new()),
        Actor::Operator => (None, String::new(), String::new()),
    };
    let stored = StoredRequest {
        changes: body.changes,
        reply: body.reply,
        role,
        actor_name,
        actor_email,
        scopes: principal.scopes.clone(),
        reach: match scope.reach() {
            Reach::Own => "own",
            Reach::Subtree => "subtree",
        }
        .to_owned(),
    };
    let request = serde_json::to_string(&stored).map_err(|e| ApiError::Internal(e.into()))?;
    let total = i32::try_from(targets.len()).map_err(|e| ApiError::Internal(e.into()))?;
    let not_found = targets.iter().filter(|(_, found)| !found).count() as i32;
    let now = state.clock.now();
    let job_row = job::Model {
        id: Uuid::now_v7(),
        tenant_id: scope.tenant_id(),
        kind: KIND.to_owned(),
        status: "queued".to_owned(),
        request,
        actor_type: actor_type.to_owned(),
        actor_id: Some(actor_id),
        actor_tenant_id: principal.tenant_id,
        total,
        processed: not_found,
        succeeded: 0,
        failed: not_found,
        lease_until: None,
        lease_token: None,
        attempts: 0,
        last_error: None,
        created_at: now,
        started_at: None,
        finished_at: None,
    };
    let items: Vec<job_item::Model> = targets
        .into_iter()
        .zip(0..)
        .map(|((ticket_id, found), position)| job_item::Model {
            id: Uuid::now_v7(),
            job_id: job_row.id,
            tenant_id: job_row.tenant_id,
            ticket_id,
            position,
            status: if found { "pending" } else { "failed" }.to_owned(),
            error_code: (!found).then(|| "not_found".to_owned()),
            error_detail: (!found).then(|| "ticket not found".to_owned()),
            message_id: None,
        })
        .collect();
    let txn = crate::backend::begin(db).await?;
    Insert::one(job_row.clone().into_active_model().owned_by(scope)?)
        .exec_without_returning(&txn)
        .await?;
    for chunk in items.chunks(INSERT_ROWS) {
        let rows = chunk
            .iter()
            .map(|item| item.clone().into_active_model().owned_by(scope))
            .collect::<Result<Vec<_>, _>>()?;
        Insert::many(rows).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(job_row)
}

/// Most failures listed with a job.
pub const LISTED_FAILURES: u64 = 100;

/// A job in the scope with its first failures.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: Uuid) -> Result<JobDto, ApiError> {
    let found = job::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    let failures: Vec<JobFailure> = job_item::Entity::scoped(scope)
        .filter(job_item::Column::JobId.eq(found.id))
        .filter(job_item::Column::Status.eq("failed"))
        .order_by_asc(job_item::Column::Position)
        .limit(LISTED_FAILURES)
        .all(db)
        .await?
        .into_iter()
        .map(|item| JobFailure {
            ticket_id: item.ticket_id,
            code: item.error_code.unwrap_or_default(),
            detail: item.error_detail,
        })
        .collect();
    let listed = i32::try_from(failures.len()).unwrap_or(i32::MAX);
    Ok(JobDto {
        id: found.id,
        kind: found.kind,
        status: found.status,
        total: found.total,
        processed: found.processed,
        succeeded: found.succeeded,
        failed: found.failed,
        created_at: found.created_at,
        started_at: found.started_at,
        finished_at: found.finished_at,
        attempts: found.attempts,
        last_error: found.last_error,
        failures,
        more_failures: (found.failed - listed).max(0),
    })
}

/// Queues a dead job again: no failed attempts, due now; its last error stays until it
/// completes. The caller wakes this node's runner.
///
/// # Errors
/// 404 outside the scope, 409 `not_retryable` for a job that is not dead (it is on its way,
/// or finished).
pub async fn retry(db: &impl ConnectionTrait, scope: &Scope, id: Uuid) -> Result<JobDto, ApiError> {
    let found = job::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    let retried = job::Entity::scoped_update(scope)
        .col_expr(job::Column::Status, Expr::value("queued"))
        .col_expr(job::Column::Attempts, Expr::value(0))
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .filter(job::Column::Id.eq(found.id))
        .filter(job::Column::Status.eq("dead"))
        .exec(db)
        .await?;
    if retried.rows_affected == 0 {
        return Err(ApiError::conflict(
            ErrorCode::NotRetryable,
            "only a dead job can be retried",
        ));
    }
    get(db, scope, found.id).await
}

/// The principal a job acts as: its creator, with the scopes and reach of the request that
/// created it, provided the user is still active or the key still valid.
///
/// # Errors
/// 403 `actor_revoked` when the creator may no longer act; fails when the database does.
#[allow(clippy::disallowed_methods)] // the creator's scope, rebuilt once the creator is re-checked
pub async fn principal_of(
    state: &AppState,
    found: &job::Model,
    stored: &StoredRequest,
) -> Result<Principal, ApiError> {
    let revoked = || {
        ApiError::forbidden(
            ErrorCode::ActorRevoked,
            "the job's creator may no longer act",
        )
    };
    let facts = state
        .tenant_facts(found.actor_tenant_id)
        .await?
        .ok_or_else(revoked)?;
    let own = Scope::for_tenant_work(found.actor_tenant_id, Why::JobCreatorCheck);
    let actor_id = found.actor_id.ok_or_else(revoked)?;
    let actor = match found.actor_type.as_str() {
        "user" => {
            let row = user::Entity::scoped_by_id(&own, actor_id)
                .one(&state.db)
                .await?
                .filter(|u| u.status == "active")
                .ok_or_else(revoked)?;
            let role: Role = stored
                .role
                .as_deref()
                .unwrap_or_default()
                .parse()
                .map_err(|_| revoked())?;
            Actor::User {
                id: row.id,
                role,
                email: stored.actor_email.clone(),
                name: stored.actor_name.clone(),
            }
        }
        "api_key" => {
            let now = state.clock.now();
            let row = api_key::Entity::scoped_by_id(&own, actor_id)
                .one(&state.db)
                .await?
                .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now))
                .ok_or_else(revoked)?;
            Actor::ApiKey {
                id: row.id,
                name: stored.actor_name.clone(),
            }
        }
        _ => return Err(revoked()),
    };
    let reach = if stored.reach == "own" {
        Reach::Own
    } else {
        Reach::Subtree
    };
    Ok(Principal {
        actor,
        tenant_id: found.actor_tenant_id,
        tenant_kind: facts.kind,
        tenant_slug: facts.slug,
        scopes: stored.scopes.clone(),
        scope: Scope::for_caller(Caller::JobCreator, found.actor_tenant_id, facts.path, reach),
        claims: None,
    })
}
