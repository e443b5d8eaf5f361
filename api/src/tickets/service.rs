//! The rules of tickets; every query goes through the caller's scope, and every change is
//! written together with its history in one transaction.
use super::domain::{TicketPriority, TicketSource, TicketStatus};
use super::dto::{CreateTicket, TicketFilter, UpdateTicket};
use super::writer::NewTicket;
use crate::auth::principal::{Actor, Principal};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::conditional::IfMatch;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{company, group, tenant, ticket, ticket_activity, ticket_message, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};
use serde_json::{Value, json};
use tenants::{Scope, Scoped};
use uuid::Uuid;

/// Most tags on one ticket.
pub const MAX_TAGS: usize = 20;

fn check_subject(subject: &str) -> Result<String, ApiError> {
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 300 {
        return Err(ApiError::invalid("subject", "must be 1-300 characters"));
    }
    Ok(subject.to_owned())
}

fn check_description(description: &str) -> Result<String, ApiError> {
    if description.len() > 64 * 1024 {
        return Err(ApiError::invalid("description", "must be at most 64 KiB"));
    }
    Ok(description.trim().to_owned())
}

fn check_type(ticket_type: Option<String>) -> Result<Option<String>, ApiError> {
    let ticket_type = ticket_type
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    if ticket_type.as_ref().is_some_and(|t| t.chars().count() > 64) {
        return Err(ApiError::invalid(
            "ticket_type",
            "must be at most 64 characters",
        ));
    }
    Ok(ticket_type)
}

/// The lower-cased text that word search matches, from a ticket's subject and description.
pub fn search_text(subject: &str, description: &str) -> String {
    format!("{}\n{}", subject.to_lowercase(), description.to_lowercase())
}

/// Normalises tags: trimmed, lower-cased, unique, at most [`MAX_TAGS`] of 1-64 characters.
///
/// # Errors
/// 422 naming `tags`.
pub fn check_tags(tags: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 64 || tag.contains(',') {
            return Err(ApiError::invalid(
                "tags",
                "each tag is 1-64 characters without commas",
            ));
        }
        if !clean.contains(&tag) {
            clean.push(tag);
        }
    }
    if clean.len() > MAX_TAGS {
        return Err(ApiError::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(clean)
}

/// The ticket's version as a strong entity tag, for `ETag` and `If-Match`.
pub fn etag(ticket: &ticket::Model) -> String {
    format!("\"{}\"", ticket.version)
}

/// Who is acting, as the history records it: actor type and id.
pub fn actor(principal: &Principal) -> (&'static str, Option<Uuid>) {
    match &principal.actor {
        Actor::User { id, .. } => ("user", Some(*id)),
        Actor::ApiKey { id, .. } => ("api_key", Some(*id)),
        Actor::Operator => ("operator", None),
    }
}

/// A history row of `found` for `field`, written by `principal`.
pub fn activity(
    principal: &Principal,
    found: &ticket::Model,
    field: &str,
    old: Option<Value>,
    new: Option<Value>,
) -> ticket_activity::ActiveModel {
    let (actor_type, actor_id) = actor(principal);
    ticket_activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(found.tenant_id),
        ticket_id: Set(found.id),
        actor_type: Set(actor_type.to_owned()),
        actor_id: Set(actor_id),
        field: Set(field.to_owned()),
        old_value: Set(old),
        new_value: Set(new),
        created_at: Set(Utc::now()),
    }
}

/// Checks that a group may hold tickets of the tenant at `ticket_path`: the group is in the
/// scope and belongs to that tenant or one of its ancestors.
async fn check_group(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ticket_path: &str,
    id: Uuid,
) -> Result<Uuid, ApiError> {
    let found = group::Entity::scoped_by_id(scope, id).one(db).await?;
    let owner = match &found {
        Some(g) => {
            tenant::Entity::scoped_by_id(scope, g.tenant_id)
                .one(db)
                .await?
        }
        None => None,
    };
    match (found, owner) {
        (Some(g), Some(owner)) if ticket_path.starts_with(&owner.path) => Ok(g.id),
        _ => Err(ApiError::invalid(
            "group_id",
            "no such group for this ticket's tenant",
        )),
    }
}

/// Checks that a user may be assigned tickets of the tenant at `ticket_path`: an active user in
/// the scope, of that tenant or an ancestor (a partner's agents work their clients' tickets).
async fn check_assignee(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ticket_path: &str,
    id: Uuid,
) -> Result<Uuid, ApiError> {
    let found = user::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .filter(|u| u.status == "active" && u.role != "client_admin");
    let owner = match &found {
        Some(u) => {
            tenant::Entity::scoped_by_id(scope, u.tenant_id)
                .one(db)
                .await?
        }
        None => None,
    };
    match (found, owner) {
        (Some(u), Some(owner)) if ticket_path.starts_with(&owner.path) => Ok(u.id),
        _ => Err(ApiError::invalid(
            "assignee_id",
            "no such active agent for this ticket's tenant",
        )),
    }
}

async fn check_company(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Uuid, ApiError> {
    company::Entity::scoped_by_id(scope, id)
        .filter(company::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| ApiError::invalid("company_id", "no such company in this ticket's tenant"))
}

async fn check_requester(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<entity::contact::Model, ApiError> {
    entity::contact::Entity::scoped_by_id(scope, id)
        .filter(entity::contact::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or_else(|| ApiError::invalid("requester_id", "no such contact in this ticket's tenant"))
}

/// The timestamp a ticket entering `status` records, if any (`resolved_at`, `closed_at`).
pub fn status_stamp(status: TicketStatus) -> Option<ticket::Column> {
    match status {
        TicketStatus::Resolved => Some(ticket::Column::ResolvedAt),
        TicketStatus::Closed => Some(ticket::Column::ClosedAt),
        TicketStatus::Open | TicketStatus::Pending | TicketStatus::OnHold => None,
    }
}

fn status_timestamps(active: &mut ticket::ActiveModel, status: TicketStatus, now: DateTime<Utc>) {
    if let Some(column) = status_stamp(status) {
        active.set(column, Some(now).into());
    }
}

/// Creates a ticket: checks every field and reference, finds or creates the requester, then
/// hands the ticket to the tenant's batching writer, which numbers it and records its creation.
///
/// # Errors
/// 404 for a tenant outside the scope, 422 for bad fields or references.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateTicket,
) -> Result<ticket::Model, ApiError> {
    let db = &state.db;
    let subject = check_subject(&body.subject)?;
    let description = check_description(&body.description)?;
    let ticket_type = check_type(body.ticket_type)?;
    let tags = check_tags(body.tags)?;
    let requester_fields = match (body.requester_id, body.requester) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "requester",
                "give requester_id or requester, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "requester",
                "give requester_id or the requester's e-mail, phone or messenger id",
            ));
        }
        (None, Some(fields)) => Some(crate::contacts::service::check(fields)?),
        (Some(_), None) => None,
    };
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    // A tenant's path never changes, so the per-node cache answers the scope check. The
    // ticket's own rows (company, fields, requester, number) are that one tenant's, so their
    // queries go through the scope narrowed to it; a group or agent may belong to an ancestor
    // (a partner's agents work its clients' tickets) and is checked in the caller's scope.
    let owner = state
        .tenant_facts(tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let scope = &principal.scope;
    let own = &scope
        .narrowed_to(tenant_id, &owner.path, owner.kind)
        .ok_or(ApiError::NotFound("tenant"))?;
    let company_id = match body.company_id {
        Some(id) => Some(check_company(db, own, tenant_id, id).await?),
        None => None,
    };
    let group_id = match body.group_id {
        Some(id) => Some(check_group(db, scope, &owner.path, id).await?),
        None => None,
    };
    let assignee_id = match body.assignee_id {
        Some(id) => Some(check_assignee(db, scope, &owner.path, id).await?),
        None => None,
    };
    let fields = state
        .field_definitions
        .get_or_load(tenant_id, || async {
            Ok(
                crate::ticket_fields::service::definitions(db, own, tenant_id)
                    .await?
                    .into(),
            )
        })
        .await?;
    let custom_fields = crate::ticket_fields::service::apply(
        &fields,
        Default::default(),
        body.custom_fields.unwrap_or_default(),
        true,
    )?;
    // Every check has passed: only now may a new requester be stored.
    let requester = match (body.requester_id, requester_fields) {
        (Some(id), _) => check_requester(db, own, tenant_id, id).await?,
        (None, Some(fields)) => {
            crate::contacts::service::find_or_create(db, own, tenant_id, fields, Utc::now()).await?
        }
        (None, None) => return Err(ApiError::invalid("requester", "missing")),
    };
    let status = body.status.unwrap_or(TicketStatus::Open);
    let now = Utc::now();
    let mut ticket = ticket::Model {
        id: Uuid::now_v7(),
        tenant_id,
        number: 0,
        subject,
        description,
        status: status.as_str().to_owned(),
        priority: body
            .priority
            .unwrap_or(TicketPriority::Medium)
            .as_str()
            .to_owned(),
        ticket_type,
        tags: Value::from(tags),
        source: body.source.unwrap_or(TicketSource::Api).as_str().to_owned(),
        requester_id: requester.id,
        company_id: company_id.or(requester.company_id),
        group_id,
        assignee_id,
        version: 1,
        created_at: now,
        updated_at: now,
        first_responded_at: None,
        resolved_at: (status == TicketStatus::Resolved).then_some(now),
        closed_at: (status == TicketStatus::Closed).then_some(now),
        merged_into_id: None,
        search_text: String::new(),
        custom_fields: Value::Object(custom_fields).to_string(),
        origin_ticket_id: None,
        origin_tenant_id: None,
        link_kind: None,
        linked_ticket_id: None,
        linked_tenant_id: None,
    };
    ticket.search_text = search_text(&ticket.subject, &ticket.description);
    let written = state
        .ticket_writer
        .write(NewTicket {
            ticket,
            actor: actor(principal),
            scope: own.clone(),
        })
        .await?;
    Ok(crate::assignment::service::assign_created(db, scope, written).await)
}

pub(crate) fn unmerged(found: ticket::Model) -> Result<ticket::Model, ApiError> {
    match found.merged_into_id {
        Some(primary) => Err(ApiError::conflict(
            ErrorCode::TicketMerged,
            format!("this ticket was merged into {primary}; work on that ticket instead"),
        )),
        None => Ok(found),
    }
}

/// Merges secondary tickets into a primary one of the same tenant: their conversation moves to
/// the primary, they are closed and point at it, and both sides record it in their history.
///
/// # Errors
/// 404 for tickets outside the scope, 409 for tickets already merged, 422 for a primary among
/// the secondaries, tickets of another tenant or more than 50 secondaries.
pub async fn merge(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    secondary_ids: Vec<Uuid>,
) -> Result<ticket::Model, ApiError> {
    let scope = &principal.scope;
    let mut secondary_ids = secondary_ids;
    secondary_ids.sort();
    secondary_ids.dedup();
    if secondary_ids.is_empty() || secondary_ids.len() > 50 {
        return Err(ApiError::invalid(
            "secondary_ids",
            "give 1 to 50 tickets to merge",
        ));
    }
    if secondary_ids.contains(&id) {
        return Err(ApiError::invalid(
            "secondary_ids",
            "a ticket cannot be merged into itself",
        ));
    }
    let primary = unmerged(get(db, scope, id).await?)?;
    let secondaries = ticket::Entity::scoped(scope)
        .filter(ticket::Column::Id.is_in(secondary_ids.clone()))
        .all(db)
        .await?;
    if secondaries.len() != secondary_ids.len() {
        return Err(ApiError::NotFound("ticket"));
    }
    if secondaries.iter().any(|t| t.tenant_id != primary.tenant_id) {
        return Err(ApiError::invalid(
            "secondary_ids",
            "only tickets of the primary's tenant can be merged",
        ));
    }
    let secondaries = secondaries
        .into_iter()
        .map(unmerged)
        .collect::<Result<Vec<_>, _>>()?;
    let now = Utc::now();
    let txn = db.begin().await?;
    ticket_message::Entity::scoped_update(scope)
        .col_expr(ticket_message::Column::TicketId, Expr::value(primary.id))
        .filter(ticket_message::Column::TicketId.is_in(secondary_ids.clone()))
        .exec(&txn)
        .await?;
    crate::attachments::service::move_to(&txn, scope, &secondary_ids, primary.id).await?;
    for secondary in &secondaries {
        let closed = ticket::Entity::scoped_update(scope)
            .col_expr(
                ticket::Column::Status,
                Expr::value(TicketStatus::Closed.as_str()),
            )
            .col_expr(ticket::Column::ClosedAt, Expr::value(now))
            .col_expr(ticket::Column::MergedIntoId, Expr::value(primary.id))
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(secondary.id))
            .filter(ticket::Column::MergedIntoId.is_null())
            .exec(&txn)
            .await?;
        if closed.rows_affected == 0 {
            return Err(ApiError::conflict(
                ErrorCode::TicketMerged,
                "a ticket was merged elsewhere at the same moment; reload and retry",
            ));
        }
        let merged_into = json!({"ticket_id": primary.id, "number": primary.number});
        activity(
            principal,
            secondary,
            "merged_into",
            Some(json!(secondary.status)),
            Some(merged_into),
        )
        .insert(&txn)
        .await?;
    }
    let merged: Vec<Value> = secondaries
        .iter()
        .map(|t| json!({"ticket_id": t.id, "number": t.number}))
        .collect();
    activity(
        principal,
        &primary,
        "merged",
        None,
        Some(Value::from(merged)),
    )
    .insert(&txn)
    .await?;
    ticket::Entity::scoped_update(scope)
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(primary.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    get(db, scope, id).await
}

/// A ticket in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<ticket::Model, ApiError> {
    ticket::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("ticket"))
}

/// One page of tickets in the scope matching the filter, newest first.
///
/// # Errors
/// 422 for a bad filter value (see [`super::criteria::condition`]).
pub async fn list(
    db: &(impl ConnectionTrait + TransactionTrait),
    words: &super::word_sample::WordSample,
    scope: &Scope,
    filter: &TicketFilter,
    page: PageRequest,
) -> Result<Vec<ticket::Model>, ApiError> {
    let mut query = ticket::Entity::scoped(scope)
        .order_by_desc(ticket::Column::Id)
        .limit(page.limit + 1);
    let backend = db.get_database_backend();
    let searched = match filter.q.as_deref() {
        Some(q) => super::criteria::search_words(q)?,
        None => Vec::new(),
    };
    let counts = words.counts(db, scope, &searched).await;
    let mut all = super::criteria::condition(filter, backend, &counts)?;
    if let Some(after) = page.after {
        all = all.add(ticket::Column::Id.lt(after));
    }
    query = query.filter(all);
    if !super::criteria::plans_per_pattern(filter, backend) {
        return Ok(query.all(db).await?);
    }
    let txn = db.begin().await?;
    super::criteria::plan_with_patterns(&txn).await?;
    let rows = query.all(&txn).await?;
    txn.commit().await?;
    Ok(rows)
}

/// An edited ticket, and the origin tickets in other tenants whose status followed it (a linked
/// ticket's status climbs through every origin above it), so the handler can announce each
/// after the commit.
#[derive(Debug)]
pub struct Edited {
    /// The ticket as it now is.
    pub ticket: ticket::Model,
    /// The origins whose status changed with it, nearest first, as they now are.
    pub origins: Vec<ticket::Model>,
}

/// Applies a partial edit. With `if_match` a ticket whose [`etag`] it does not match is
/// refused with 412; without it, an edit that races another is refused with 409. Every changed
/// field is recorded in the history.
///
/// # Errors
/// 404 outside the scope, 412/409 as above, 422 for bad fields or references.
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    if_match: Option<&IfMatch>,
    body: UpdateTicket,
) -> Result<Edited, ApiError> {
    let scope = &principal.scope;
    // A move to another group without a chosen assignee lets the group's mode pick one.
    let regrouped = body.group_id.is_some() && body.assignee_id.is_none();
    let found = unmerged(get(db, scope, id).await?)?;
    if if_match.is_some_and(|condition| !condition.matches(&etag(&found))) {
        return Err(ApiError::PreconditionFailed(
            "the ticket changed since you read it; reload and retry".into(),
        ));
    }
    let owner = tenant::Entity::scoped_by_id(scope, found.tenant_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    let mut changes: Vec<(&'static str, Value, Value)> = Vec::new();
    let mut active: ticket::ActiveModel = found.clone().into();
    let now = Utc::now();

    let mut searchable = (found.subject.clone(), found.description.clone());
    if let Some(subject) = body.subject {
        let subject = check_subject(&subject)?;
        if subject != found.subject {
            changes.push(("subject", json!(found.subject), json!(subject)));
            searchable.0.clone_from(&subject);
            active.subject = Set(subject);
        }
    }
    if let Some(description) = body.description {
        let description = check_description(&description)?;
        if description != found.description {
            changes.push(("description", json!(found.description), json!(description)));
            searchable.1.clone_from(&description);
            active.description = Set(description);
        }
    }
    let new_status = body.status.filter(|s| s.as_str() != found.status);
    if let Some(status) = new_status {
        changes.push(("status", json!(found.status), json!(status.as_str())));
        active.status = Set(status.as_str().to_owned());
        status_timestamps(&mut active, status, now);
    }
    if let Some(priority) = body.priority.filter(|p| p.as_str() != found.priority) {
        changes.push(("priority", json!(found.priority), json!(priority.as_str())));
        active.priority = Set(priority.as_str().to_owned());
    }
    if let Some(ticket_type) = body.ticket_type {
        let ticket_type = check_type(ticket_type)?;
        if ticket_type != found.ticket_type {
            changes.push(("ticket_type", json!(found.ticket_type), json!(ticket_type)));
            active.ticket_type = Set(ticket_type);
        }
    }
    if let Some(tags) = body.tags {
        let tags = Value::from(check_tags(tags)?);
        if tags != found.tags {
            changes.push(("tags", found.tags.clone(), tags.clone()));
            active.tags = Set(tags);
        }
    }
    if let Some(requester_id) = body.requester_id.filter(|id| *id != found.requester_id) {
        let requester = check_requester(db, scope, found.tenant_id, requester_id).await?;
        changes.push((
            "requester_id",
            json!(found.requester_id),
            json!(requester.id),
        ));
        active.requester_id = Set(requester.id);
    }
    if let Some(company_id) = body.company_id {
        let company_id = match company_id {
            Some(id) => Some(check_company(db, scope, found.tenant_id, id).await?),
            None => None,
        };
        if company_id != found.company_id {
            changes.push(("company_id", json!(found.company_id), json!(company_id)));
            active.company_id = Set(company_id);
        }
    }
    if let Some(group_id) = body.group_id {
        let group_id = match group_id {
            Some(id) => Some(check_group(db, scope, &owner.path, id).await?),
            None => None,
        };
        if group_id != found.group_id {
            changes.push(("group_id", json!(found.group_id), json!(group_id)));
            active.group_id = Set(group_id);
        }
    }
    if let Some(assignee_id) = body.assignee_id {
        let assignee_id = match assignee_id {
            Some(id) => Some(check_assignee(db, scope, &owner.path, id).await?),
            None => None,
        };
        if assignee_id != found.assignee_id {
            changes.push(("assignee_id", json!(found.assignee_id), json!(assignee_id)));
            active.assignee_id = Set(assignee_id);
        }
    }
    if let Some(values) = body.custom_fields {
        let current: serde_json::Map<String, Value> =
            serde_json::from_str(&found.custom_fields).unwrap_or_default();
        let fields = crate::ticket_fields::service::definitions(db, scope, found.tenant_id).await?;
        let updated =
            crate::ticket_fields::service::apply(&fields, current.clone(), values, false)?;
        if updated != current {
            changes.push((
                "custom_fields",
                Value::Object(current),
                Value::Object(updated.clone()),
            ));
            active.custom_fields = Set(Value::Object(updated).to_string());
        }
    }
    if changes.is_empty() {
        return Ok(Edited {
            ticket: found,
            origins: Vec::new(),
        });
    }
    if searchable != (found.subject.clone(), found.description.clone()) {
        active.search_text = Set(search_text(&searchable.0, &searchable.1));
    }
    active.version = Set(found.version + 1);
    active.updated_at = Set(now);

    let txn = db.begin().await?;
    let written = ticket::Entity::scoped_update(scope)
        .set(active)
        .filter(ticket::Column::Id.eq(found.id))
        .filter(ticket::Column::Version.eq(found.version))
        .exec(&txn)
        .await?;
    if written.rows_affected == 0 {
        return Err(ApiError::conflict(
            ErrorCode::EditConflict,
            "someone else changed the ticket at the same time; reload and retry",
        ));
    }
    for (field, old, new) in changes {
        activity(principal, &found, field, Some(old), Some(new))
            .insert(&txn)
            .await?;
    }
    let origins = match new_status {
        Some(status) => {
            crate::escalations::service::status_flows_back(&txn, &found, status).await?
        }
        None => Vec::new(),
    };
    txn.commit().await?;
    let mut updated = get(db, scope, id).await?;
    if regrouped && updated.group_id != found.group_id {
        updated = crate::assignment::service::assign_regrouped(db, scope, updated).await;
    }
    Ok(Edited {
        ticket: updated,
        origins,
    })
}

/// Assigns a ticket to the calling agent. A ticket a colleague holds is taken over only with
/// `force`, which supervisors and administrators may use; taking one's own ticket again changes
/// nothing.
///
/// # Errors
/// As [`update`]; 403 for API keys and for agents asking to force, 409 `already_assigned`
/// naming the colleague, 409 `edit_conflict` when the ticket changed while it was taken, 422 for
/// callers who cannot work the ticket's tenant.
pub async fn take(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    force: bool,
) -> Result<Edited, ApiError> {
    let me = principal.user_id()?;
    if force && !may_take_over(principal.role()) {
        return Err(ApiError::forbidden(
            ErrorCode::ForceNotAllowed,
            "only supervisors and administrators take over a colleague's ticket",
        ));
    }
    let found = unmerged(get(db, &principal.scope, id).await?)?;
    match found.assignee_id {
        Some(current) if current == me => {
            return Ok(Edited {
                ticket: found,
                origins: Vec::new(),
            });
        }
        Some(current) if !force => {
            return Err(ApiError::conflict(
                ErrorCode::AlreadyAssigned,
                format!(
                    "the ticket is assigned to {current}; a supervisor may take it over with force=true"
                ),
            ));
        }
        _ => {}
    }
    // The version read above: a colleague taking it in between makes this a conflict rather
    // than a silent takeover.
    let taken = update(
        db,
        principal,
        id,
        Some(&IfMatch::Tags(vec![etag(&found)])),
        UpdateTicket {
            assignee_id: Some(Some(me)),
            ..UpdateTicket::default()
        },
    )
    .await;
    match taken {
        Err(ApiError::PreconditionFailed(_)) => Err(ApiError::conflict(
            ErrorCode::EditConflict,
            "someone else changed the ticket at the same time; reload and retry",
        )),
        other => other,
    }
}

/// Whether a role may take a ticket away from the colleague it is assigned to.
fn may_take_over(role: Option<tenants::Role>) -> bool {
    matches!(
        role,
        Some(tenants::Role::PlatformAdmin | tenants::Role::TenantAdmin | tenants::Role::Supervisor)
    )
}

/// A new reply or note, and the origin tickets it reached in other tenants (a linked ticket's
/// public reply arrives on its origin as a note), so the handler can announce each after the
/// commit.
#[derive(Debug)]
pub struct Posted {
    /// The reply or note.
    pub message: ticket_message::Model,
    /// The origins that received it as a note, as they now are.
    pub origins: Vec<ticket::Model>,
}

/// Adds a public reply (`note = false`) or a private note to a ticket; a first reply sets
/// `first_responded_at`.
///
/// # Errors
/// 404 outside the scope, 403 for callers that are not agents, 422 for an empty body.
pub async fn add_message(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    note: bool,
    body: &str,
) -> Result<Posted, ApiError> {
    add_message_with_attachments(db, principal, id, note, body, &[]).await
}

/// [`add_message`] that also links uploaded attachments of the ticket to the new message, in
/// the same transaction.
///
/// # Errors
/// As [`add_message`]; 422 naming `attachment_ids` for attachments that cannot be linked.
pub async fn add_message_with_attachments(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    note: bool,
    body: &str,
    attachment_ids: &[Uuid],
) -> Result<Posted, ApiError> {
    if principal.role() == Some(tenants::Role::ClientAdmin) {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "client staff read tickets but do not answer them",
        ));
    }
    let (html, text) = super::html::render_body(body)?;
    let scope = &principal.scope;
    let found = unmerged(get(db, scope, id).await?)?;
    let now = Utc::now();
    let kind = if note { "note" } else { "reply" };
    let txn = db.begin().await?;
    let mut bump = ticket::Entity::scoped_update(scope)
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(found.id));
    if !note && found.first_responded_at.is_none() {
        bump = bump.col_expr(ticket::Column::FirstRespondedAt, Expr::value(now));
    }
    bump.exec(&txn).await?;
    let message = ticket_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(found.tenant_id),
        ticket_id: Set(found.id),
        kind: Set(kind.to_owned()),
        author_user_id: Set(principal.user_id().ok()),
        author_contact_id: Set(None),
        body_text: Set(text),
        body_html: Set(html),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    activity(
        principal,
        &found,
        kind,
        None,
        Some(json!({"message_id": message.id})),
    )
    .insert(&txn)
    .await?;
    // Linked before the reply flows back, so the note it becomes on the origin carries its files.
    crate::attachments::service::link(&txn, scope, &found, message.id, attachment_ids).await?;
    let mut origins = Vec::new();
    if !note {
        if found.origin_ticket_id.is_some() {
            // A linked ticket's requester is the tenant that handed it on: the answer goes back
            // to that ticket, not out through a channel.
            origins.extend(
                crate::escalations::service::reply_flows_back(&txn, &found, &message).await?,
            );
        } else {
            crate::outbox::service::reply(&found, &message)
                .insert(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(Posted { message, origins })
}

/// A ticket's conversation, oldest first; private notes only for agents and integrators.
///
/// # Errors
/// 404 outside the scope.
pub async fn conversation(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<Vec<ticket_message::Model>, ApiError> {
    let found = get(db, &principal.scope, id).await?;
    let mut query = ticket_message::Entity::scoped(&principal.scope)
        .filter(ticket_message::Column::TicketId.eq(found.id))
        .order_by_asc(ticket_message::Column::Id)
        .limit(1000);
    if principal.role() == Some(tenants::Role::ClientAdmin) {
        query = query.filter(ticket_message::Column::Kind.ne("note"));
    }
    Ok(query.all(db).await?)
}

/// History entries client staff may read: what a requester could learn from the ticket
/// itself. Notes, hand-offs to other tenants (with their ticket numbers), answers arriving from
/// a linked ticket and the internal routing to groups and agents stay with the support staff.
const PUBLIC_ACTIVITY_FIELDS: &[&str] = &[
    "created",
    "reply",
    "status",
    "priority",
    "ticket_type",
    "subject",
    "description",
    "tags",
    "requester_id",
    "company_id",
    "custom_fields",
    "merged",
    "merged_into",
];

/// Entries whose author is public, because the conversation names the same author.
const AUTHORED_IN_PUBLIC: &[&str] = &["reply"];

/// A ticket's history, oldest first. Client staff read only its public facts: the entries of
/// [`PUBLIC_ACTIVITY_FIELDS`]; who made a change is `support` with no id (the support side:
/// an agent, an integration or a linked ticket), except for the authors the conversation shows
/// anyway.
///
/// # Errors
/// 404 outside the scope.
pub async fn activities(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<Vec<ticket_activity::Model>, ApiError> {
    let scope = &principal.scope;
    let found = get(db, scope, id).await?;
    let mut query = ticket_activity::Entity::scoped(scope)
        .filter(ticket_activity::Column::TicketId.eq(found.id))
        .order_by_asc(ticket_activity::Column::Id)
        .limit(1000);
    let client_staff = principal.role() == Some(tenants::Role::ClientAdmin);
    if client_staff {
        query = query
            .filter(ticket_activity::Column::Field.is_in(PUBLIC_ACTIVITY_FIELDS.iter().copied()));
    }
    let mut history = query.all(db).await?;
    if client_staff {
        history.iter_mut().for_each(public_facts_only);
    }
    Ok(history)
}

/// Strips from a public entry who on the support side made it.
fn public_facts_only(entry: &mut ticket_activity::Model) {
    if !AUTHORED_IN_PUBLIC.contains(&entry.field.as_str()) {
        entry.actor_id = None;
        if entry.actor_type != "automation" {
            entry.actor_type = "support".to_owned();
        }
    }
}
