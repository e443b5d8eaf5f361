//! Picks an agent for a ticket by its group's assignment mode and records it.
//!
//! Concurrency: the transaction's first statement is a no-op update of the group row. On
//! PostgreSQL that takes the row's lock, so assignments in one group queue behind each other
//! and each one reads the cursor (`last_assigned_user_id`) and the members' loads after the
//! previous one committed; on SQLite the same statement takes the database's write lock, which
//! serialises them the same way. Two tickets created at once therefore never both go to the
//! same agent while round robin has another member to give the next one to.
use crate::error::ApiError;
use crate::groups::dto::AssignmentMode;
use chrono::Utc;
use entity::{business_calendar, group, group_member, tenant, ticket, ticket_activity, user};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::json;
use std::collections::HashMap;
use tenants::{Role, Scope, Scoped};
use uuid::Uuid;

/// Ticket states that still need an agent.
pub const OPEN_STATES: [&str; 3] = ["open", "pending", "on_hold"];

/// After a ticket was created without an assignee: gives it to an agent if its group asks for
/// it. The ticket is already stored, so a failure here is logged and the ticket stays
/// unassigned rather than failing a request whose retry would create it twice.
pub async fn assign_created(
    db: &DatabaseConnection,
    scope: &Scope,
    created: ticket::Model,
) -> ticket::Model {
    if created.assignee_id.is_some() {
        return created;
    }
    assign_logged(db, scope, created, false).await
}

/// After a ticket moved to another group by an edit that named no assignee: gives it to an
/// agent of the new group if the group asks for it and its assignee is not a member. Like
/// [`assign_created`], it never fails the edit that already committed.
pub async fn assign_regrouped(
    db: &DatabaseConnection,
    scope: &Scope,
    moved: ticket::Model,
) -> ticket::Model {
    assign_logged(db, scope, moved, true).await
}

async fn assign_logged(
    db: &DatabaseConnection,
    scope: &Scope,
    found: ticket::Model,
    regrouped: bool,
) -> ticket::Model {
    match assign(db, scope, &found, regrouped).await {
        Ok(Some(assigned)) => assigned,
        Ok(None) => found,
        Err(err) => {
            tracing::warn!(error = ?err, ticket_id = %found.id, "automatic assignment failed");
            found
        }
    }
}

/// The ticket as assigned, or `None` when it stays as it is.
///
/// # Errors
/// Fails when the database does.
pub async fn assign(
    db: &DatabaseConnection,
    scope: &Scope,
    found: &ticket::Model,
    regrouped: bool,
) -> Result<Option<ticket::Model>, ApiError> {
    let Some(group_id) = found.group_id else {
        return Ok(None);
    };
    if !OPEN_STATES.contains(&found.status.as_str()) || found.merged_into_id.is_some() {
        return Ok(None);
    }
    let Some(group) = group::Entity::scoped_by_id(scope, group_id).one(db).await? else {
        return Ok(None);
    };
    let mode = AssignmentMode::parse(&group.assignment_mode);
    if mode == AssignmentMode::Manual {
        return Ok(None);
    }
    if let Some(calendar_id) = group.calendar_id {
        let calendar = business_calendar::Entity::scoped_by_id(scope, calendar_id)
            .one(db)
            .await?;
        if let Some(calendar) = calendar
            && !crate::calendars::service::is_open(&calendar, Utc::now())?
        {
            return Ok(None);
        }
    }

    let txn = db.begin().await?;
    // Queue behind any other assignment in this group (see the module's note).
    group::Entity::scoped_update(scope)
        .col_expr(
            group::Column::LastAssignedUserId,
            Expr::col(group::Column::LastAssignedUserId),
        )
        .filter(group::Column::Id.eq(group.id))
        .exec(&txn)
        .await?;
    let Some(group) = group::Entity::scoped_by_id(scope, group.id)
        .one(&txn)
        .await?
    else {
        return Ok(None);
    };
    let members: Vec<Uuid> = group_member::Entity::scoped(scope)
        .filter(group_member::Column::GroupId.eq(group.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    if regrouped && found.assignee_id.is_some_and(|a| members.contains(&a)) {
        return Ok(None);
    }
    let candidates = on_shift_for(&txn, scope, found, members).await?;
    let pick = match mode {
        AssignmentMode::Manual => None,
        AssignmentMode::RoundRobin => next_after(&candidates, group.last_assigned_user_id),
        AssignmentMode::LeastOpen => least_loaded(&txn, scope, &candidates).await?,
    };
    let Some(pick) = pick else {
        return Ok(None);
    };
    if found.assignee_id == Some(pick) {
        return Ok(None);
    }

    let now = Utc::now();
    let written = ticket::Entity::scoped_update(scope)
        .col_expr(ticket::Column::AssigneeId, Expr::value(pick))
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(found.id))
        .filter(ticket::Column::Version.eq(found.version))
        .exec(&txn)
        .await?;
    if written.rows_affected == 0 {
        // Someone edited the ticket meanwhile; their edit wins and nothing is assigned.
        return Ok(None);
    }
    group::Entity::scoped_update(scope)
        .col_expr(group::Column::LastAssignedUserId, Expr::value(pick))
        .filter(group::Column::Id.eq(group.id))
        .exec(&txn)
        .await?;
    ticket_activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(found.tenant_id),
        ticket_id: Set(found.id),
        actor_type: Set("automation".to_owned()),
        actor_id: Set(None),
        field: Set("assignee_id".to_owned()),
        old_value: Set(Some(json!(found.assignee_id))),
        new_value: Set(Some(json!(pick))),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let mut assigned = found.clone();
    assigned.assignee_id = Some(pick);
    assigned.version += 1;
    assigned.updated_at = now;
    Ok(Some(assigned))
}

/// The members who can take the ticket now, by user id: active agents on shift whose tenant
/// is the ticket's or one above it.
async fn on_shift_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    found: &ticket::Model,
    members: Vec<Uuid>,
) -> Result<Vec<Uuid>, ApiError> {
    let agents = user::Entity::scoped(scope)
        .filter(user::Column::Id.is_in(members))
        .filter(user::Column::Status.eq("active"))
        .filter(user::Column::Availability.eq("on_shift"))
        .filter(user::Column::Role.ne(Role::ClientAdmin.as_str()))
        .all(db)
        .await?;
    let mut tenant_ids: Vec<Uuid> = agents.iter().map(|a| a.tenant_id).collect();
    tenant_ids.push(found.tenant_id);
    tenant_ids.sort();
    tenant_ids.dedup();
    let paths: HashMap<Uuid, String> = tenant::Entity::scoped(scope)
        .filter(tenant::Column::Id.is_in(tenant_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.path))
        .collect();
    let Some(ticket_path) = paths.get(&found.tenant_id) else {
        return Ok(Vec::new());
    };
    let mut ids: Vec<Uuid> = agents
        .into_iter()
        .filter(|a| {
            paths
                .get(&a.tenant_id)
                .is_some_and(|path| ticket_path.starts_with(path.as_str()))
        })
        .map(|a| a.id)
        .collect();
    ids.sort();
    Ok(ids)
}

/// Round robin: the first candidate after the last one assigned, wrapping around.
fn next_after(candidates: &[Uuid], last: Option<Uuid>) -> Option<Uuid> {
    last.and_then(|last| candidates.iter().find(|c| **c > last))
        .or_else(|| candidates.first())
        .copied()
}

/// Least open: the candidate with the fewest unfinished tickets, the lowest id on a tie.
async fn least_loaded(
    db: &impl ConnectionTrait,
    scope: &Scope,
    candidates: &[Uuid],
) -> Result<Option<Uuid>, ApiError> {
    let counted: Vec<(Option<Uuid>, i64)> = ticket::Entity::scoped(scope)
        .select_only()
        .column(ticket::Column::AssigneeId)
        .column_as(Expr::col(ticket::Column::Id).count(), "open")
        .filter(ticket::Column::AssigneeId.is_in(candidates.to_vec()))
        .filter(ticket::Column::Status.is_in(OPEN_STATES))
        .group_by(ticket::Column::AssigneeId)
        .order_by_asc(ticket::Column::AssigneeId)
        .into_tuple()
        .all(db)
        .await?;
    let load: HashMap<Uuid, i64> = counted
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect();
    // `candidates` is sorted, and `min_by_key` keeps the first of equals: the lowest id.
    Ok(candidates
        .iter()
        .min_by_key(|c| load.get(*c).copied().unwrap_or(0))
        .copied())
}

#[cfg(test)]
mod tests {
    use super::next_after;
    use uuid::Uuid;

    #[test]
    fn round_robin_takes_the_next_member_and_wraps_around() {
        let [a, b, c] = [1u128, 2, 3].map(Uuid::from_u128);
        let members = [a, b, c];
        assert_eq!(next_after(&members, None), Some(a));
        assert_eq!(next_after(&members, Some(a)), Some(b));
        assert_eq!(next_after(&members, Some(c)), Some(a));
        // The last one assigned went off shift: the next one after it still follows.
        assert_eq!(next_after(&[a, c], Some(b)), Some(c));
        assert_eq!(next_after(&[], Some(b)), None);
    }
}
