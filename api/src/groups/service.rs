//! The rules of groups and memberships; every query goes through the caller's scope.
use super::dto::{CreateGroup, UpdateGroup};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use entity::{group, group_member, tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use std::collections::HashMap;
use tenants::{Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// A display name: 1-200 characters once trimmed (the same rule as tenant names).
fn check_name(name: &str) -> Result<String, ApiError> {
    tenants::provisioning::validate_name(name)?;
    Ok(name.trim().to_owned())
}

fn name_taken(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::GroupNameTaken,
            "this tenant already has a group with this name",
        ),
        _ => err.into(),
    }
}

/// Creates a group in a tenant of the caller's scope.
///
/// # Errors
/// 404 for a tenant outside the scope, 409 for a taken name, 422 for bad fields.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateGroup,
) -> Result<group::Model, ApiError> {
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let owner = tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let name = check_name(&body.name)?;
    let calendar_id = match body.calendar_id {
        Some(id) => Some(
            crate::calendars::service::check_for_tenant(&state.db, &principal.scope, owner.id, id)
                .await?,
        ),
        None => None,
    };
    let now = state.clock.now();
    group::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: NotSet,
        name: Set(name),
        kind: Set(body.kind.as_str().to_owned()),
        description: Set(body.description.filter(|d| !d.trim().is_empty())),
        calendar_id: Set(calendar_id),
        assignment_mode: Set(body.assignment_mode.unwrap_or_default().as_str().to_owned()),
        auto_handoff: Set(body.auto_handoff.unwrap_or(false)),
        last_assigned_user_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .owned_by_tenant(&principal.scope, &owner)?
    .insert(&state.db)
    .await
    .map_err(name_taken)
}

/// One page of groups in the scope, optionally of one tenant.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    state: &AppState,
    scope: &Scope,
    tenant_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Vec<group::Model>, ApiError> {
    let mut query = group::Entity::scoped(scope)
        .order_by_asc(group::Column::Id)
        .limit(page.limit + 1);
    if let Some(tenant_id) = tenant_id {
        query = query.filter(group::Column::TenantId.eq(tenant_id));
    }
    if let Some(after) = page.after {
        query = query.filter(group::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// A group in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(state: &AppState, scope: &Scope, id: Uuid) -> Result<group::Model, ApiError> {
    group::Entity::scoped_by_id(scope, id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("group"))
}

/// Renames or re-kinds a group, or changes its calendar, assignment mode or hand-off.
///
/// # Errors
/// 404 outside the scope, 409 for a taken name, 422 for bad fields.
pub async fn update(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    body: UpdateGroup,
) -> Result<group::Model, ApiError> {
    let found = get(state, scope, id).await?;
    let tenant_id = found.tenant_id;
    let mut active: group::ActiveModel = found.into();
    if let Some(name) = body.name {
        active.name = Set(check_name(&name)?);
    }
    if let Some(kind) = body.kind {
        active.kind = Set(kind.as_str().to_owned());
    }
    if let Some(description) = body.description {
        active.description = Set(Some(description).filter(|d| !d.trim().is_empty()));
    }
    if let Some(calendar_id) = body.calendar_id {
        let calendar_id = match calendar_id {
            Some(id) => Some(
                crate::calendars::service::check_for_tenant(&state.db, scope, tenant_id, id)
                    .await?,
            ),
            None => None,
        };
        active.calendar_id = Set(calendar_id);
    }
    if let Some(mode) = body.assignment_mode {
        active.assignment_mode = Set(mode.as_str().to_owned());
    }
    if let Some(auto_handoff) = body.auto_handoff {
        active.auto_handoff = Set(auto_handoff);
    }
    active.updated_at = Set(state.clock.now());
    active.update(&state.db).await.map_err(name_taken)
}

/// Deletes a group; its memberships go with it.
///
/// # Errors
/// 404 outside the scope.
pub async fn delete(state: &AppState, scope: &Scope, id: Uuid) -> Result<(), ApiError> {
    let found = get(state, scope, id).await?;
    let txn = crate::backend::begin(&state.db).await?;
    group_member::Entity::scoped_delete(scope)
        .filter(group_member::Column::GroupId.eq(found.id))
        .exec(&txn)
        .await?;
    group::Entity::scoped_delete(scope)
        .filter(group::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The member ids of each of these groups.
///
/// # Errors
/// Fails when the database does.
pub async fn members_of(
    db: &impl ConnectionTrait,
    scope: &Scope,
    group_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<Uuid>>, ApiError> {
    let rows = group_member::Entity::scoped(scope)
        .filter(group_member::Column::GroupId.is_in(group_ids))
        .order_by_asc(group_member::Column::UserId)
        .all(db)
        .await?;
    let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        members.entry(row.group_id).or_default().push(row.user_id);
    }
    Ok(members)
}

/// The group ids of each of these users.
///
/// # Errors
/// Fails when the database does.
pub async fn groups_of(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<Uuid>>, ApiError> {
    let rows = group_member::Entity::scoped(scope)
        .filter(group_member::Column::UserId.is_in(user_ids))
        .order_by_asc(group_member::Column::GroupId)
        .all(db)
        .await?;
    let mut groups: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        groups.entry(row.user_id).or_default().push(row.group_id);
    }
    Ok(groups)
}

/// Replaces a user's memberships with exactly these groups, all of the user's own tenant.
///
/// # Errors
/// 404 for a user outside the scope, 422 naming a group that is not the user's tenant's.
pub async fn set_memberships(
    state: &AppState,
    scope: &Scope,
    user_id: Uuid,
    group_ids: Vec<Uuid>,
) -> Result<Vec<Uuid>, ApiError> {
    let user = entity::user::Entity::scoped_by_id(scope, user_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let mut wanted = group_ids;
    wanted.sort();
    wanted.dedup();
    if wanted.len() > 100 {
        return Err(ApiError::invalid("group_ids", "at most 100 groups"));
    }
    let found = group::Entity::scoped(scope)
        .filter(group::Column::Id.is_in(wanted.clone()))
        .filter(group::Column::TenantId.eq(user.tenant_id))
        .all(&state.db)
        .await?;
    if let Some(missing) = wanted.iter().find(|id| !found.iter().any(|g| g.id == **id)) {
        return Err(ApiError::invalid(
            "group_ids",
            format!("{missing} is not a group of the user's tenant"),
        ));
    }
    let txn = crate::backend::begin(&state.db).await?;
    group_member::Entity::scoped_delete(scope)
        .filter(group_member::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let now = state.clock.now();
    for group_id in &wanted {
        group_member::ActiveModel {
            tenant_id: Set(user.tenant_id),
            group_id: Set(*group_id),
            user_id: Set(user.id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(wanted)
}
