//! Picks an agent for a ticket by its group's assignment mode; the ticket's write path records
//! it.
//!
//! Concurrency: the transaction's first statement is a no-op update of the group row. On
//! PostgreSQL that takes the row's lock, so assignments in one group queue behind each other
//! and each one reads the cursor (`last_assigned_user_id`) and the members' loads after the
//! previous one committed; on SQLite the same statement takes the database's write lock, which
//! serialises them the same way. Two tickets created at once therefore never both go to the
//! same agent while round robin has another member to give the next one to.
use crate::error::ApiError;
use crate::groups::dto::AssignmentMode;
use chrono::{DateTime, Utc};
use entity::{business_calendar, group, group_member, tenant, ticket, user};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use tenants::{Role, Scope, Scoped};
use uuid::Uuid;

/// Ticket states that still need an agent.
pub const OPEN_STATES: [&str; 3] = ["open", "pending", "on_hold"];

/// The agent the ticket's group gives it to now, or `None` when it stays as it is: no group, a
/// manual group, a closed calendar, no candidate on shift, or (for a ticket moved into the
/// group, `regrouped`) an assignee who is already a member. Runs in the caller's transaction
/// (the ticket's write path, [`crate::tickets::change`]), which it makes queue behind other
/// assignments of the group and in which it moves the group's round-robin cursor; the caller
/// writes the assignment.
///
/// # Errors
/// Fails when the database does.
pub async fn pick(
    txn: &DatabaseTransaction,
    scope: &Scope,
    found: &ticket::Model,
    regrouped: bool,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, ApiError> {
    let Some(group_id) = found.group_id else {
        return Ok(None);
    };
    if !OPEN_STATES.contains(&found.status.as_str()) || found.merged_into_id.is_some() {
        return Ok(None);
    }
    let Some(group) = group::Entity::scoped_by_id(scope, group_id)
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let mode = AssignmentMode::parse(&group.assignment_mode);
    if mode == AssignmentMode::Manual {
        return Ok(None);
    }
    if let Some(calendar_id) = group.calendar_id {
        let calendar = business_calendar::Entity::scoped_by_id(scope, calendar_id)
            .one(txn)
            .await?;
        if let Some(calendar) = calendar
            && !crate::calendars::service::is_open(&calendar, now)?
        {
            return Ok(None);
        }
    }
    // Queue behind any other assignment in this group (see the module's note).
    group::Entity::scoped_update(scope)
        .col_expr(
            group::Column::LastAssignedUserId,
            Expr::col(group::Column::LastAssignedUserId),
        )
        .filter(group::Column::Id.eq(group.id))
        .exec(txn)
        .await?;
    let Some(group) = group::Entity::scoped_by_id(scope, group.id)
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let members: Vec<Uuid> = group_member::Entity::scoped(scope)
        .filter(group_member::Column::GroupId.eq(group.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    if regrouped && found.assignee_id.is_some_and(|a| members.contains(&a)) {
        return Ok(None);
    }
    let candidates = on_shift_for(txn, scope, found, members).await?;
    let pick = match mode {
        AssignmentMode::Manual => None,
        AssignmentMode::RoundRobin => next_after(&candidates, group.last_assigned_user_id),
        AssignmentMode::LeastOpen => least_loaded(txn, scope, &candidates).await?,
    };
    let Some(pick) = pick.filter(|p| found.assignee_id != Some(*p)) else {
        return Ok(None);
    };
    group::Entity::scoped_update(scope)
        .col_expr(group::Column::LastAssignedUserId, Expr::value(pick))
        .filter(group::Column::Id.eq(group.id))
        .exec(txn)
        .await?;
    Ok(Some(pick))
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
