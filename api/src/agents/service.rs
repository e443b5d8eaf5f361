//! The rules of availability and hand-offs; every query goes through the caller's scope.
use super::dto::{Availability, HandedOver, HandoffReport};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::tickets::change::{self, Actor, Edit, Guard, Post};
use crate::tickets::domain::MessageKind;
use chrono::{DateTime, Utc};
use entity::{group, group_member, tenant, ticket, ticket_message, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;
use tenants::{Role, Scoped};
use uuid::Uuid;

/// Ticket states that still need an agent.
const OPEN_STATES: [&str; 3] = ["open", "pending", "on_hold"];

/// The agent, if the caller may manage its shift: the agent itself, a supervisor or an admin.
async fn managed_agent(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<user::Model, ApiError> {
    let agent = user::Entity::scoped_by_id(&principal.scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("agent"))?;
    let is_self = principal.user_id().ok() == Some(agent.id);
    if !(is_self || principal.has("admin") || principal.role() == Some(Role::Supervisor)) {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "only the agent, a supervisor or an admin manages a shift",
        ));
    }
    Ok(agent)
}

/// Sets an agent's availability. Going off shift also hands the agent's unfinished tickets of
/// groups with `auto_handoff` to colleagues on shift, in the same transaction; the report says
/// what moved.
///
/// # Errors
/// 404 outside the scope, 403 for other agents.
pub async fn set_availability(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    availability: Availability,
    now: DateTime<Utc>,
) -> Result<(user::Model, Option<HandoffReport>), ApiError> {
    let agent = managed_agent(db, principal, id).await?;
    let plan = match availability {
        Availability::OffShift => Some(plan(db, principal, &agent, true).await?),
        Availability::OnShift | Availability::Away => None,
    };
    let txn = crate::backend::begin(db).await?;
    let mut active: user::ActiveModel = agent.clone().into();
    active.availability = Set(availability.as_str().to_owned());
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    let report = match plan {
        Some(plan) => Some(HandoffReport {
            moved: apply(&txn, principal, &agent, plan.moves, now).await?,
            kept: plan.kept,
        }),
        None => None,
    };
    txn.commit().await?;
    Ok((updated, report))
}

/// Moves an agent's unfinished tickets to colleagues on shift: for each ticket, the members of
/// its group (or, without a group, of the agent's groups) who are active, on shift and may work
/// the ticket's tenant; the one with the fewest unfinished tickets takes it. Each moved ticket
/// gets a private note and a history entry; the requester sees nothing.
///
/// # Errors
/// 404 outside the scope, 403 for other agents.
pub async fn handoff(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<HandoffReport, ApiError> {
    let agent = managed_agent(db, principal, id).await?;
    let plan = plan(db, principal, &agent, false).await?;
    let txn = crate::backend::begin(db).await?;
    let moved = apply(&txn, principal, &agent, plan.moves, now).await?;
    txn.commit().await?;
    Ok(HandoffReport {
        moved,
        kept: plan.kept,
    })
}

/// Who takes which of an agent's tickets, decided before anything is written.
struct Plan {
    moves: Vec<(ticket::Model, user::Model)>,
    kept: Vec<Uuid>,
}

/// Plans a hand-off of the agent's unfinished tickets (only those of groups with
/// `auto_handoff` when `only_auto_handoff`).
async fn plan(
    db: &DatabaseConnection,
    principal: &Principal,
    agent: &user::Model,
    only_auto_handoff: bool,
) -> Result<Plan, ApiError> {
    let scope = &principal.scope;
    let mut tickets = ticket::Entity::scoped(scope)
        .filter(ticket::Column::AssigneeId.eq(agent.id))
        .filter(ticket::Column::Status.is_in(OPEN_STATES))
        .filter(ticket::Column::MergedIntoId.is_null())
        .order_by_asc(ticket::Column::Id)
        .all(db)
        .await?;
    if only_auto_handoff {
        let mut group_ids: Vec<Uuid> = tickets.iter().filter_map(|t| t.group_id).collect();
        group_ids.sort();
        group_ids.dedup();
        let auto: Vec<Uuid> = group::Entity::scoped(scope)
            .filter(group::Column::Id.is_in(group_ids))
            .filter(group::Column::AutoHandoff.eq(true))
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.id)
            .collect();
        tickets.retain(|t| t.group_id.is_some_and(|g| auto.contains(&g)));
    }
    let own_groups: Vec<Uuid> = group_member::Entity::scoped(scope)
        .filter(group_member::Column::UserId.eq(agent.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    let mut load: HashMap<Uuid, u64> = HashMap::new();
    let mut paths: HashMap<Uuid, String> = HashMap::new();
    let mut moves: Vec<(ticket::Model, user::Model)> = Vec::new();
    let mut kept = Vec::new();
    for t in tickets {
        let groups = match t.group_id {
            Some(group) => vec![group],
            None => own_groups.clone(),
        };
        let members: Vec<Uuid> = group_member::Entity::scoped(scope)
            .filter(group_member::Column::GroupId.is_in(groups))
            .filter(group_member::Column::UserId.ne(agent.id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let candidates = user::Entity::scoped(scope)
            .filter(user::Column::Id.is_in(members))
            .filter(user::Column::Status.eq("active"))
            .filter(user::Column::Availability.eq(Availability::OnShift.as_str()))
            .filter(user::Column::Role.ne(Role::ClientAdmin.as_str()))
            .all(db)
            .await?;
        let ticket_path = tenant_path(db, principal, &mut paths, t.tenant_id).await?;
        let mut best: Option<(u64, user::Model)> = None;
        for candidate in candidates {
            let candidate_path =
                tenant_path(db, principal, &mut paths, candidate.tenant_id).await?;
            if !ticket_path.starts_with(&candidate_path) {
                continue;
            }
            let open = match load.get(&candidate.id) {
                Some(open) => *open,
                None => {
                    let open = ticket::Entity::scoped(scope)
                        .filter(ticket::Column::AssigneeId.eq(candidate.id))
                        .filter(ticket::Column::Status.is_in(OPEN_STATES))
                        .count(db)
                        .await?;
                    load.insert(candidate.id, open);
                    open
                }
            };
            if best.as_ref().is_none_or(|(fewest, _)| open < *fewest) {
                best = Some((open, candidate));
            }
        }
        match best {
            Some((_, colleague)) => {
                *load.entry(colleague.id).or_default() += 1;
                moves.push((t, colleague));
            }
            None => kept.push(t.id),
        }
    }

    Ok(Plan { moves, kept })
}

/// Writes a planned hand-off: reassigns each ticket still held by the agent, with a history
/// entry and a private note.
async fn apply(
    txn: &DatabaseTransaction,
    principal: &Principal,
    agent: &user::Model,
    moves: Vec<(ticket::Model, user::Model)>,
    now: DateTime<Utc>,
) -> Result<Vec<HandedOver>, ApiError> {
    let scope = &principal.scope;
    let actor = Actor::of(principal);
    let mut moved = Vec::new();
    for (t, colleague) in moves {
        let mut edit = Edit::of(&t);
        edit.assignee(Some(colleague.id));
        let written = change::edit(
            txn,
            scope,
            actor,
            edit,
            Guard::AssignedTo(agent.id),
            false,
            now,
        )
        .await?;
        let Some(written) = written else {
            // Reassigned by someone else since the plan was made: not ours to move any more.
            continue;
        };
        let note = format!(
            "Handed over from {} to {} at the end of a shift.",
            agent.name, colleague.name
        );
        let message = ticket_message::Model {
            id: Uuid::now_v7(),
            tenant_id: t.tenant_id,
            ticket_id: t.id,
            kind: MessageKind::Note.as_str().into(),
            author_user_id: principal.user_id().ok(),
            author_contact_id: None,
            body_html: format!("<p>{}</p>", crate::tickets::html::escape(&note)),
            body_text: note,
            created_at: now,
        };
        let post = Post {
            ticket: written,
            message,
            attachments: Vec::new(),
            extra: None,
        };
        change::post(txn, scope, actor, &[post], now).await?;
        moved.push(HandedOver {
            ticket_id: t.id,
            number: t.number,
            assignee_id: colleague.id,
        });
    }
    Ok(moved)
}

async fn tenant_path(
    db: &DatabaseConnection,
    principal: &Principal,
    cache: &mut HashMap<Uuid, String>,
    id: Uuid,
) -> Result<String, ApiError> {
    if let Some(path) = cache.get(&id) {
        return Ok(path.clone());
    }
    let found = tenant::Entity::scoped_by_id(&principal.scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    cache.insert(id, found.path.clone());
    Ok(found.path)
}
