//! The rules of tickets; every query goes through the caller's scope, and every change is
//! written together with its history in one transaction.
use super::change::{self, Actor, Edit, Guard, NewTicket, Post};
use super::criteria::TicketCriteria;
use super::domain::{MessageKind, TicketPriority, TicketSource, TicketStatus};
use super::dto::{CreateTicket, UpdateTicket};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::conditional::IfMatch;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{company, group, tenant, ticket, ticket_activity, ticket_message, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde_json::Value;
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

/// Checks that a group may hold tickets of the tenant at `ticket_path`: the group is in the
/// scope and belongs to that tenant or one of its ancestors.
pub(crate) async fn check_group(
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
    let now = state.clock.now();
    let requester = match (body.requester_id, requester_fields) {
        (Some(id), _) => check_requester(db, own, tenant_id, id).await?,
        (None, Some(fields)) => {
            crate::contacts::service::find_or_create(db, own, fields, now).await?
        }
        (None, None) => return Err(ApiError::invalid("requester", "missing")),
    };
    let status = body.status.unwrap_or(TicketStatus::Open);
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
    state
        .ticket_writer
        .write(NewTicket {
            ticket,
            actor: Actor::of(principal),
            scope: own.clone(),
            assign_scope: scope.clone(),
        })
        .await
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
    now: DateTime<Utc>,
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
    let txn = crate::backend::begin(db).await?;
    super::change::merge(
        &txn,
        scope,
        Actor::of(principal),
        &primary,
        &secondaries,
        now,
    )
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
    filter: &TicketCriteria,
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
    let txn = crate::backend::begin(db).await?;
    super::criteria::plan_with_patterns(&txn).await?;
    let rows = query.all(&txn).await?;
    txn.commit().await?;
    Ok(rows)
}

/// Applies a partial edit through [`super::change::edit`]. With `if_match` a ticket whose
/// [`etag`] it does not match is refused with 412; without it, an edit that races another is
/// refused with 409. Every changed field is recorded in the history and the event log; a move
/// to another group without a chosen assignee lets the group's mode pick one.
///
/// # Errors
/// 404 outside the scope, 412/409 as above, 422 for bad fields or references.
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    if_match: Option<&IfMatch>,
    body: UpdateTicket,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let scope = &principal.scope;
    let reassign = body.group_id.is_some() && body.assignee_id.is_none();
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
    let mut edit = Edit::of(&found);
    if let Some(subject) = body.subject {
        edit.subject(check_subject(&subject)?);
    }
    if let Some(description) = body.description {
        edit.description(check_description(&description)?);
    }
    if let Some(status) = body.status {
        edit.status(status);
    }
    if let Some(priority) = body.priority {
        edit.priority(priority);
    }
    if let Some(ticket_type) = body.ticket_type {
        edit.ticket_type(check_type(ticket_type)?);
    }
    if let Some(tags) = body.tags {
        edit.tags(Value::from(check_tags(tags)?));
    }
    if let Some(requester_id) = body.requester_id.filter(|id| *id != found.requester_id) {
        edit.requester(
            check_requester(db, scope, found.tenant_id, requester_id)
                .await?
                .id,
        );
    }
    if let Some(company_id) = body.company_id {
        edit.company(match company_id {
            Some(id) => Some(check_company(db, scope, found.tenant_id, id).await?),
            None => None,
        });
    }
    if let Some(group_id) = body.group_id {
        edit.group(match group_id {
            Some(id) => Some(check_group(db, scope, &owner.path, id).await?),
            None => None,
        });
    }
    if let Some(assignee_id) = body.assignee_id {
        edit.assignee(match assignee_id {
            Some(id) => Some(check_assignee(db, scope, &owner.path, id).await?),
            None => None,
        });
    }
    if let Some(values) = body.custom_fields {
        let current: serde_json::Map<String, Value> =
            serde_json::from_str(&found.custom_fields).unwrap_or_default();
        let fields = crate::ticket_fields::service::definitions(db, scope, found.tenant_id).await?;
        let updated =
            crate::ticket_fields::service::apply(&fields, current.clone(), values, false)?;
        edit.custom_fields(current, updated);
    }
    if edit.is_empty() {
        return Ok(found);
    }
    let txn = crate::backend::begin(db).await?;
    let written = change::edit(
        &txn,
        scope,
        Actor::of(principal),
        edit,
        Guard::Version,
        reassign,
        now,
    )
    .await?;
    let Some(written) = written else {
        return Err(ApiError::conflict(
            ErrorCode::EditConflict,
            "someone else changed the ticket at the same time; reload and retry",
        ));
    };
    txn.commit().await?;
    Ok(written)
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
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let me = principal.user_id()?;
    if force && !may_take_over(principal.role()) {
        return Err(ApiError::forbidden(
            ErrorCode::ForceNotAllowed,
            "only supervisors and administrators take over a colleague's ticket",
        ));
    }
    let found = unmerged(get(db, &principal.scope, id).await?)?;
    match found.assignee_id {
        Some(current) if current == me => return Ok(found),
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
        now,
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

/// Adds a public reply (`note = false`) or a private note to a ticket, with uploaded files of
/// the ticket, through [`super::change::post`]: a first reply sets `first_responded_at`, a
/// reply on a linked ticket reaches its origin as a note, any other reply is queued for
/// delivery.
///
/// # Errors
/// 404 outside the scope, 403 for callers that are not agents, 422 for an empty body or for
/// attachments that cannot be linked (naming `attachment_ids`).
pub async fn add_message(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    note: bool,
    body: &str,
    attachment_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<ticket_message::Model, ApiError> {
    if principal.role() == Some(tenants::Role::ClientAdmin) {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "client staff read tickets but do not answer them",
        ));
    }
    let (html, text) = super::html::render_body(body)?;
    let scope = &principal.scope;
    let found = unmerged(get(db, scope, id).await?)?;
    let kind = if note {
        MessageKind::Note
    } else {
        MessageKind::Reply
    };
    let message = ticket_message::Model {
        id: Uuid::now_v7(),
        tenant_id: found.tenant_id,
        ticket_id: found.id,
        kind: kind.as_str().to_owned(),
        author_user_id: principal.user_id().ok(),
        author_contact_id: None,
        body_text: text,
        body_html: html,
        created_at: now,
    };
    let post = Post {
        ticket: found,
        message: message.clone(),
        attachments: attachment_ids.to_vec(),
        extra: None,
    };
    let txn = crate::backend::begin(db).await?;
    change::post(&txn, scope, Actor::of(principal), &[post], now).await?;
    txn.commit().await?;
    Ok(message)
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

/// A ticket's entries in the event log, oldest first (at most 1,000).
///
/// # Errors
/// 404 outside the scope, 403 for client staff.
pub async fn events(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<Vec<entity::ticket_event::Model>, ApiError> {
    if principal.role() == Some(tenants::Role::ClientAdmin) {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "client staff read a ticket's history, not its event log",
        ));
    }
    let scope = &principal.scope;
    let found = get(db, scope, id).await?;
    Ok(entity::ticket_event::Entity::scoped(scope)
        .filter(entity::ticket_event::Column::TicketId.eq(found.id))
        .order_by_asc(entity::ticket_event::Column::Seq)
        .limit(1000)
        .all(db)
        .await?)
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
