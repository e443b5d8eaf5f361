//! The rules of linked tickets.
//!
//! Opening a linked ticket is one transaction: the origin is claimed (a ticket is linked at most
//! once), the linked ticket is numbered in its tenant and receives the public conversation so far
//! with its files, and both histories record it. Afterwards the linked ticket reports back: its
//! public replies arrive on the origin as private notes carrying the replies' files (the origin's
//! agents decide what the requester hears), and its status becomes the origin's and climbs on
//! through every origin above that is itself a linked ticket. What changed on the origins is
//! returned, so the handlers can announce it after the commit. The other tenant is reached only
//! through a scope of that one tenant ([`Scope::for_tenant_work`]), never through the caller's.
//! A copied file is a row of the other tenant sharing the stored bytes, never a way into the
//! first tenant's rows.
use super::dto::{EscalateTicket, RouteTicket};
use crate::attachments::service as attachments;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use crate::tickets::domain::{TicketPriority, TicketStatus};
use crate::tickets::service::{self as tickets, activity, unmerged};
use crate::tickets::writer::{NewTicket, insert_numbered};
use chrono::Utc;
use entity::{contact, tenant, ticket, ticket_activity, ticket_message};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::{Value, json};
use tenants::{Role, Scope, Scoped, TenantKind, Why};
use uuid::Uuid;

/// Most messages copied to a linked ticket.
const MAX_COPIED: u64 = 500;

/// Which way a ticket is handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// Up to the parent tenant.
    Escalation,
    /// Down to a client organisation.
    Routing,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            LinkKind::Escalation => "escalation",
            LinkKind::Routing => "routing",
        }
    }
}

fn check_note(note: Option<String>) -> Result<Option<String>, ApiError> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.len() > 64 * 1024) {
        return Err(ApiError::invalid("note", "must be at most 64 KiB"));
    }
    Ok(note)
}

fn agents_only(principal: &Principal) -> Result<(), ApiError> {
    if principal.role() == Some(Role::ClientAdmin) {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "client staff read tickets but do not hand them on",
        ));
    }
    Ok(())
}

/// Escalates a ticket to the parent of the caller's tenant, which gets a linked ticket.
///
/// # Errors
/// 404 outside the scope, 409 for a merged or already linked ticket, 422 when the caller's
/// tenant has no parent.
pub async fn escalate(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    body: EscalateTicket,
) -> Result<ticket::Model, ApiError> {
    agents_only(principal)?;
    let note = check_note(body.note)?;
    let origin = unmerged(tickets::get(&state.db, &principal.scope, id).await?)?;
    let own = tenant::Entity::scoped_by_id(&principal.scope, principal.tenant_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let Some(parent_id) = own.parent_id else {
        return Err(ApiError::invalid(
            "ticket",
            "the platform has no parent tenant to escalate to",
        ));
    };
    // The parent lies outside the caller's scope: it is read only to build the scope of the
    // linked ticket, which is what the kernel's tree lookups are for.
    let parent = tenants::tree::tenant_by_id(&state.db, parent_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    open_linked(
        state,
        principal,
        origin,
        &parent,
        LinkKind::Escalation,
        note,
        body.priority,
    )
    .await
}

/// Routes a ticket down to a client tenant directly below the ticket's tenant, whose own agents
/// get a linked ticket.
///
/// # Errors
/// 404 outside the scope, 409 for a merged or already linked ticket, 422 for a target that is
/// not a client directly below the ticket's tenant.
pub async fn route(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    body: RouteTicket,
) -> Result<ticket::Model, ApiError> {
    agents_only(principal)?;
    let note = check_note(body.note)?;
    let origin = unmerged(tickets::get(&state.db, &principal.scope, id).await?)?;
    let target = tenant::Entity::scoped_by_id(&principal.scope, body.tenant_id)
        .one(&state.db)
        .await?
        .filter(|t| t.parent_id == Some(origin.tenant_id) && t.kind == TenantKind::Client.as_str())
        .ok_or_else(|| {
            ApiError::invalid(
                "tenant_id",
                "no client tenant directly below this ticket's tenant",
            )
        })?;
    open_linked(
        state,
        principal,
        origin,
        &target,
        LinkKind::Routing,
        note,
        body.priority,
    )
    .await
}

/// The contact of `target` that stands for the tenant `stands_for` (the requester of its
/// linked tickets), created on first use.
async fn stand_in(
    txn: &DatabaseTransaction,
    target: &Scope,
    stands_for: &tenant::Model,
) -> Result<contact::Model, ApiError> {
    let existing = contact::Entity::scoped(target)
        .filter(contact::Column::StandsForTenantId.eq(stands_for.id))
        .one(txn)
        .await?;
    if let Some(found) = existing {
        return Ok(found);
    }
    let now = Utc::now();
    Ok(contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(target.tenant_id()),
        name: Set(stands_for.name.clone()),
        email: Set(None),
        phone: Set(None),
        whatsapp_id: Set(None),
        telegram_id: Set(None),
        locale: Set(Some(stands_for.default_locale.clone())),
        time_zone: Set(Some(stands_for.time_zone.clone())),
        company_id: Set(None),
        stands_for_tenant_id: Set(Some(stands_for.id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?)
}

#[allow(clippy::too_many_arguments)]
async fn open_linked(
    state: &AppState,
    principal: &Principal,
    origin: ticket::Model,
    target: &tenant::Model,
    kind: LinkKind,
    note: Option<String>,
    priority: Option<TicketPriority>,
) -> Result<ticket::Model, ApiError> {
    if origin.linked_ticket_id.is_some() {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyLinked,
            "this ticket was already handed to another tenant; follow the linked ticket",
        ));
    }
    let scope = &principal.scope;
    let db = &state.db;
    let origin_tenant = tenant::Entity::scoped_by_id(scope, origin.tenant_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;
    let public = ticket_message::Entity::scoped(scope)
        .filter(ticket_message::Column::TicketId.eq(origin.id))
        .filter(ticket_message::Column::Kind.ne("note"))
        .order_by_asc(ticket_message::Column::Id)
        .limit(MAX_COPIED)
        .all(db)
        .await?;
    let target_scope = Scope::for_tenant_work(target.id, Why::LinkedTicketOpen);
    let now = Utc::now();
    let linked_id = Uuid::now_v7();

    let txn = db.begin().await?;
    // Claim the origin first: of two simultaneous hand-offs, one wins and the other writes nothing.
    let claimed = ticket::Entity::scoped_update(scope)
        .col_expr(ticket::Column::LinkedTicketId, Expr::value(linked_id))
        .col_expr(ticket::Column::LinkedTenantId, Expr::value(target.id))
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(origin.id))
        .filter(ticket::Column::LinkedTicketId.is_null())
        .filter(ticket::Column::MergedIntoId.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyLinked,
            "this ticket was handed on or merged at the same moment; reload it",
        ));
    }
    let requester = stand_in(&txn, &target_scope, &origin_tenant).await?;
    let mut linked = ticket::Model {
        id: linked_id,
        tenant_id: target.id,
        number: 0,
        subject: origin.subject.clone(),
        description: origin.description.clone(),
        status: TicketStatus::Open.as_str().to_owned(),
        priority: priority.map_or_else(|| origin.priority.clone(), |p| p.as_str().to_owned()),
        ticket_type: origin.ticket_type.clone(),
        tags: origin.tags.clone(),
        source: origin.source.clone(),
        requester_id: requester.id,
        company_id: None,
        group_id: None,
        assignee_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
        first_responded_at: None,
        resolved_at: None,
        closed_at: None,
        merged_into_id: None,
        search_text: String::new(),
        custom_fields: "{}".to_owned(),
        origin_ticket_id: Some(origin.id),
        origin_tenant_id: Some(origin.tenant_id),
        link_kind: Some(kind.as_str().to_owned()),
        linked_ticket_id: None,
        linked_tenant_id: None,
    };
    linked.search_text = tickets::search_text(&linked.subject, &linked.description);
    let new = NewTicket {
        ticket: linked,
        // The other tenant learns which tenant handed the ticket on, not which of its people.
        actor: (kind.as_str(), None),
        scope: target_scope.clone(),
    };
    let linked = insert_numbered(&txn, &[&new])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("linked ticket not written")))?;
    let mut copied: Vec<(Uuid, Uuid)> = Vec::with_capacity(public.len());
    let mut copies: Vec<ticket_message::ActiveModel> = Vec::with_capacity(public.len() + 1);
    for m in public {
        let copy = Uuid::now_v7();
        copied.push((m.id, copy));
        copies.push(copied_message(
            copy,
            &linked,
            requester.id,
            m.body_text,
            m.body_html,
            m.created_at,
        ));
    }
    if let Some(note) = note {
        let (html, text) = crate::tickets::html::render_body(&note)?;
        copies.push(copied_message(
            Uuid::now_v7(),
            &linked,
            requester.id,
            text,
            html,
            now,
        ));
    }
    if !copies.is_empty() {
        sea_orm::Insert::many(copies)
            .exec_without_returning(&txn)
            .await?;
    }
    // The files travel with the messages that carry them.
    attachments::copy_to(&txn, scope, &linked, &copied).await?;
    let field = match kind {
        LinkKind::Escalation => "escalated",
        LinkKind::Routing => "routed",
    };
    activity(
        principal,
        &origin,
        field,
        None,
        Some(json!({"ticket_id": linked.id, "number": linked.number, "tenant_id": target.id})),
    )
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tickets::get(db, scope, origin.id).await
}

fn copied_message(
    id: Uuid,
    linked: &ticket::Model,
    requester: Uuid,
    text: String,
    html: String,
    at: chrono::DateTime<Utc>,
) -> ticket_message::ActiveModel {
    ticket_message::ActiveModel {
        id: Set(id),
        tenant_id: Set(linked.tenant_id),
        ticket_id: Set(linked.id),
        kind: Set("incoming".to_owned()),
        author_user_id: Set(None),
        author_contact_id: Set(Some(requester)),
        body_text: Set(text),
        body_html: Set(html),
        created_at: Set(at),
    }
}

fn system_activity(
    origin: &ticket::Model,
    field: &str,
    old: Option<Value>,
    new: Option<Value>,
) -> ticket_activity::ActiveModel {
    ticket_activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(origin.tenant_id),
        ticket_id: Set(origin.id),
        actor_type: Set("linked_ticket".to_owned()),
        actor_id: Set(None),
        field: Set(field.to_owned()),
        old_value: Set(old),
        new_value: Set(new),
        created_at: Set(Utc::now()),
    }
}

/// The origin of a linked ticket, reached through a scope of the origin's tenant alone; `None`
/// for a ticket that is not linked, or whose origin was merged away.
async fn origin_of(
    txn: &impl ConnectionTrait,
    linked: &ticket::Model,
) -> Result<Option<(Scope, ticket::Model)>, ApiError> {
    let (Some(origin_id), Some(origin_tenant)) = (linked.origin_ticket_id, linked.origin_tenant_id)
    else {
        return Ok(None);
    };
    let scope = Scope::for_tenant_work(origin_tenant, Why::LinkedTicketReport);
    let origin = ticket::Entity::scoped_by_id(&scope, origin_id)
        .filter(ticket::Column::MergedIntoId.is_null())
        .one(txn)
        .await?;
    Ok(origin.map(|origin| (scope, origin)))
}

/// Carries a public reply written on a linked ticket back to its origin as a private note, in
/// the caller's transaction, with copies of the files the reply carries (link them to the reply
/// first). The note stays there: a note is private, so it travels no further even when the
/// origin is itself a linked ticket.
///
/// Returns the origin as updated, to announce once the transaction commits; `None` for a ticket
/// that is not linked or whose origin was merged away.
///
/// # Errors
/// Fails when the database does.
pub async fn reply_flows_back(
    txn: &DatabaseTransaction,
    linked: &ticket::Model,
    message: &ticket_message::Model,
) -> Result<Option<ticket::Model>, ApiError> {
    let Some((scope, origin)) = origin_of(txn, linked).await? else {
        return Ok(None);
    };
    let from = tenant::Entity::scoped_by_id(
        &Scope::for_tenant_work(linked.tenant_id, Why::LinkedTicketReport),
        linked.tenant_id,
    )
    .one(txn)
    .await?
    .map_or_else(String::new, |t| t.name);
    let now = Utc::now();
    let note = ticket_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(origin.tenant_id),
        ticket_id: Set(origin.id),
        kind: Set("note".to_owned()),
        author_user_id: Set(None),
        author_contact_id: Set(None),
        body_text: Set(format!(
            "{from} replied on the linked ticket #{}:\n\n{}",
            linked.number, message.body_text
        )),
        body_html: Set(format!(
            "<p>{} replied on the linked ticket #{}:</p>{}",
            crate::tickets::html::escape(&from),
            linked.number,
            message.body_html
        )),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    attachments::copy_to(
        txn,
        &Scope::for_tenant_work(linked.tenant_id, Why::LinkedTicketReport),
        &origin,
        &[(message.id, note.id)],
    )
    .await?;
    let updated = bump(txn, &scope, &origin, None).await?;
    system_activity(
        &origin,
        "linked_reply",
        None,
        Some(json!({"message_id": note.id, "linked_ticket_id": linked.id})),
    )
    .insert(txn)
    .await?;
    Ok(Some(updated))
}

/// Most origins one status change climbs through. A chain is client, partner, platform (two
/// origins above the platform's ticket); the bound only keeps a chain that loops back on itself
/// from running on.
const MAX_HOPS: usize = 8;

/// Gives a linked ticket's new status to its origin, in the caller's transaction, and on up the
/// chain while that origin is itself a linked ticket: a client's ticket escalated to its partner
/// and on to the platform follows the platform's status, each origin recording its own `status`
/// change. The climb stops at a ticket that is not linked, at an origin whose origin was merged
/// away, at an origin already in that status (it does not change, so nothing above it does
/// either) or after [`MAX_HOPS`] origins.
///
/// Returns the origins it changed, nearest first and as updated, to announce once the
/// transaction commits.
///
/// # Errors
/// Fails when the database does.
pub async fn status_flows_back(
    txn: &DatabaseTransaction,
    linked: &ticket::Model,
    status: TicketStatus,
) -> Result<Vec<ticket::Model>, ApiError> {
    let mut changed: Vec<ticket::Model> = Vec::new();
    for _ in 0..MAX_HOPS {
        let below = changed.last().unwrap_or(linked);
        let Some((scope, origin)) = origin_of(txn, below).await? else {
            break;
        };
        if origin.status == status.as_str() {
            break;
        }
        let updated = bump(txn, &scope, &origin, Some(status)).await?;
        system_activity(
            &origin,
            "status",
            Some(json!(origin.status)),
            Some(json!(status.as_str())),
        )
        .insert(txn)
        .await?;
        changed.push(updated);
    }
    Ok(changed)
}

/// Records a change on an origin (a new version, and the new status with its timestamp) and
/// returns the origin as it now is.
async fn bump(
    txn: &DatabaseTransaction,
    scope: &Scope,
    origin: &ticket::Model,
    status: Option<TicketStatus>,
) -> Result<ticket::Model, ApiError> {
    let now = Utc::now();
    let mut update = ticket::Entity::scoped_update(scope)
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(origin.id));
    if let Some(status) = status {
        update = update.col_expr(ticket::Column::Status, Expr::value(status.as_str()));
        if let Some(column) = tickets::status_stamp(status) {
            update = update.col_expr(column, Expr::value(now));
        }
    }
    update
        .exec_with_returning(txn)
        .await?
        .pop()
        .ok_or(ApiError::NotFound("ticket"))
}
