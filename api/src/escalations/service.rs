//! The rules of linked tickets.
//!
//! Opening a linked ticket is one transaction, written by [`change::hand_on`]: the origin is
//! claimed (a ticket is linked at most once), the linked ticket is numbered in its tenant, goes
//! to the tenant's intake group (`intake_group_id`) and through that group's automatic
//! assignment, and receives the public conversation so far with its files; both histories and
//! both tenants' event streams record it. Afterwards the linked ticket reports back through the
//! same write path, a moment after each change, by the flow-back reader of the event log
//! ([`crate::events::consumer`], [`change::flow_back`]): its public replies arrive on the origin as private notes carrying the
//! replies' files (the origin's agents decide what the requester hears), and its status becomes
//! the origin's and climbs on through every origin above that is itself a linked ticket. The
//! other tenant is reached only through a scope of that one tenant
//! ([`Scope::for_tenant_work`]), never through the caller's. A copied file is a row of the other tenant sharing the stored bytes, never a way
//! into the first tenant's rows.
use super::dto::{EscalateTicket, RouteTicket};
use crate::attachments::service as attachments;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use crate::tickets::change::{self, Actor, NewTicket};
use crate::tickets::domain::{LinkKind, TicketPriority, TicketStatus};
use crate::tickets::service::{self as tickets, unmerged};
use chrono::Utc;
use entity::{contact, tenant, ticket, ticket_message};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tenants::{Role, Scope, Scoped, TenantKind, Why};
use uuid::Uuid;

/// Most messages copied to a linked ticket.
const MAX_COPIED: u64 = 500;

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
    now: chrono::DateTime<Utc>,
) -> Result<contact::Model, ApiError> {
    let existing = contact::Entity::scoped(target)
        .filter(contact::Column::StandsForTenantId.eq(stands_for.id))
        .one(txn)
        .await?;
    if let Some(found) = existing {
        return Ok(found);
    }
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
    let now = state.clock.now();
    let linked_id = Uuid::now_v7();

    let txn = crate::backend::begin(db).await?;
    let requester = stand_in(&txn, &target_scope, &origin_tenant, now).await?;
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
        group_id: target.intake_group_id,
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
        actor: Actor::hand_off(kind),
        scope: target_scope.clone(),
        assign_scope: target_scope.clone(),
    };
    let mut copied: Vec<(Uuid, Uuid)> = Vec::with_capacity(public.len());
    let mut copies: Vec<ticket_message::ActiveModel> = Vec::with_capacity(public.len() + 1);
    for m in public {
        let copy = Uuid::now_v7();
        copied.push((m.id, copy));
        copies.push(copied_message(
            copy,
            &new.ticket,
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
            &new.ticket,
            requester.id,
            text,
            html,
            now,
        ));
    }
    let linked = change::hand_on(
        &txn,
        scope,
        Actor::of(principal),
        &origin,
        &new,
        copies,
        now,
    )
    .await?;
    // The files travel with the messages that carry them.
    attachments::copy_to(&txn, scope, &linked, &copied).await?;
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
