//! The rules of user management; every query goes through the caller's scope.
use super::dto::{CreateUser, UpdateUser};
use crate::auth::password::validate_password;
use crate::auth::principal::Principal;
use crate::auth::service::{end_sessions, random_token, token_hash};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use chrono::Utc;
use entity::{password_reset, tenant, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tenants::{Role, Scoped, TenantKind};
use uuid::Uuid;

/// Checks an e-mail address loosely (one `@`, a dotted domain, no spaces or control
/// characters) and normalises it.
///
/// # Errors
/// 422 naming `email`.
pub fn normalise_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(ApiError::invalid("email", "must be an e-mail address"))
    }
}

/// A display name: 1-200 characters once trimmed (the same rule as tenant names).
fn check_name(name: &str) -> Result<String, ApiError> {
    tenants::provisioning::validate_name(name)?;
    Ok(name.trim().to_owned())
}

/// Whether `principal` may give `role` to a user of a tenant of `kind`.
fn check_role(principal: &Principal, role: Role, kind: TenantKind) -> Result<(), ApiError> {
    if !role.fits(kind) {
        return Err(ApiError::invalid(
            "role",
            format!("`{role}` does not exist in a {kind} tenant"),
        ));
    }
    if role == Role::PlatformAdmin && principal.role() != Some(Role::PlatformAdmin) {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "only a platform admin can make another platform admin",
        ));
    }
    Ok(())
}

async fn tenant_in_scope(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<tenant::Model, ApiError> {
    tenant::Entity::scoped_by_id(&principal.scope, id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}

/// Creates a user in a tenant of the caller's scope.
///
/// # Errors
/// 404 for a tenant outside the scope, 409 for an e-mail taken in that tenant, 422 for bad
/// fields or a role that does not fit the tenant.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateUser,
) -> Result<user::Model, ApiError> {
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let target = tenant_in_scope(state, principal, tenant_id).await?;
    let kind: TenantKind = target
        .kind
        .parse()
        .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))?;
    let role: Role = body.role.into();
    check_role(principal, role, kind)?;
    insert_user(
        state,
        target.id,
        &body.email,
        &body.name,
        role,
        body.password,
    )
    .await
}

/// Validates and stores a new user of `tenant_id` (the caller has checked the tenant and role).
///
/// # Errors
/// 409 for an e-mail taken in that tenant, 422 for bad fields.
pub async fn insert_user(
    state: &AppState,
    tenant_id: Uuid,
    email: &str,
    name: &str,
    role: Role,
    password: secrecy::SecretString,
) -> Result<user::Model, ApiError> {
    let email = normalise_email(email)?;
    let name = check_name(name)?;
    validate_password("password", &password, &[&email, &name])?;
    let hash = state.hasher.hash(password).await?;
    let now = state.clock.now();
    let created = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant_id),
        email: Set(email),
        name: Set(name),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(hash),
        status: Set("active".into()),
        deactivated_at: Set(None),
        availability: Set("on_shift".into()),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::EmailTaken,
            "this tenant already has a user with this e-mail",
        ),
        _ => err.into(),
    })?;
    Ok(created)
}

/// One page of users in the scope, optionally of one tenant.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    tenant_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Vec<user::Model>, ApiError> {
    let mut query = user::Entity::scoped(&principal.scope)
        .order_by_asc(user::Column::Id)
        .limit(page.limit + 1);
    if let Some(tenant_id) = tenant_id {
        query = query.filter(user::Column::TenantId.eq(tenant_id));
    }
    if let Some(after) = page.after {
        query = query.filter(user::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// Pairs each user with the ids of the groups it belongs to (one query for all of them).
///
/// # Errors
/// Fails when the database does.
pub async fn with_groups(
    db: &impl ConnectionTrait,
    scope: &tenants::Scope,
    users: Vec<user::Model>,
) -> Result<Vec<(user::Model, Vec<Uuid>)>, ApiError> {
    let mut groups =
        crate::groups::service::groups_of(db, scope, users.iter().map(|u| u.id).collect()).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let ids = groups.remove(&u.id).unwrap_or_default();
            (u, ids)
        })
        .collect())
}

/// A user in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<user::Model, ApiError> {
    user::Entity::scoped_by_id(&principal.scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// Renames, changes the role of, deactivates or reactivates a user. A role change or a
/// deactivation ends the user's sessions at their next request.
///
/// # Errors
/// 404 outside the scope, 403 for changing one's own role or status, 422 for bad fields.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    body: UpdateUser,
) -> Result<user::Model, ApiError> {
    let found = get(&state.db, principal, id).await?;
    let is_self = principal.user_id().ok() == Some(found.id);
    let mut active: user::ActiveModel = found.clone().into();
    let mut end = false;
    if let Some(name) = body.name {
        active.name = Set(check_name(&name)?);
    }
    if let Some(role) = body.role {
        let role: Role = role.into();
        if role.as_str() != found.role {
            if is_self {
                return Err(ApiError::forbidden(
                    ErrorCode::Forbidden,
                    "you cannot change your own role",
                ));
            }
            let target = tenant_in_scope(state, principal, found.tenant_id).await?;
            let kind: TenantKind = target
                .kind
                .parse()
                .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))?;
            check_role(principal, role, kind)?;
            active.role = Set(role.as_str().to_owned());
            end = true;
        }
    }
    if let Some(want_active) = body.active {
        let is_active = found.status == "active";
        if want_active != is_active {
            if is_self {
                return Err(ApiError::forbidden(
                    ErrorCode::Forbidden,
                    "you cannot deactivate yourself",
                ));
            }
            active.status = Set(if want_active { "active" } else { "deactivated" }.into());
            active.deactivated_at = Set((!want_active).then(|| state.clock.now()));
            end = end || !want_active;
        }
    }
    active.updated_at = Set(state.clock.now());
    let updated = active.update(&state.db).await?;
    if end {
        end_sessions(state, updated.id).await?;
    }
    Ok(updated)
}

/// Issues a one-time password-reset token for a user in the scope (valid for a day by default).
///
/// # Errors
/// 404 outside the scope, 409 for a deactivated user.
pub async fn issue_reset(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(String, chrono::DateTime<Utc>), ApiError> {
    let found = get(&state.db, principal, id).await?;
    if found.status != "active" {
        return Err(ApiError::conflict(
            ErrorCode::UserDeactivated,
            "reactivate the user before resetting the password",
        ));
    }
    let token = random_token();
    let now = state.clock.now();
    let expires_at = now
        + chrono::Duration::seconds(
            i64::try_from(state.settings.auth.reset_ttl_secs).unwrap_or(86_400),
        );
    password_reset::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(found.tenant_id),
        user_id: Set(found.id),
        token_hash: Set(token_hash(&token)),
        created_by: Set(principal.actor_id()),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    Ok((token, expires_at))
}
