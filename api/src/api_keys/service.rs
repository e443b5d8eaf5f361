//! The rules of API keys; every query goes through the caller's scope.
use super::dto::CreateApiKey;
use crate::auth::principal::{API_KEY_PREFIX, Principal, hash_api_key};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use entity::{api_key, tenant};
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::{ActiveModelTrait, ColumnTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set};
use tenants::model::SCOPES;
use tenants::{Scoped, ScopedInsert};
use uuid::Uuid;

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Creates a key for a tenant in the caller's scope; returns the record and the full key.
///
/// # Errors
/// 404 for a tenant outside the scope, 422 for an unknown scope, an empty name or a past expiry,
/// 403 when a key would hold more than its creator.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateApiKey,
) -> Result<(api_key::Model, String), ApiError> {
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid("name", "must be 1-200 characters"));
    }
    if body.scopes.is_empty() {
        return Err(ApiError::invalid("scopes", "name at least one scope"));
    }
    let mut scopes = Vec::new();
    for scope in body.scopes {
        if !SCOPES.contains(&scope.as_str()) {
            return Err(ApiError::invalid(
                "scopes",
                format!("unknown scope `{scope}`; known: {}", SCOPES.join(", ")),
            ));
        }
        if !principal.has(&scope) {
            return Err(ApiError::forbidden(
                ErrorCode::InsufficientScope,
                format!("you cannot grant `{scope}`, which you do not hold"),
            ));
        }
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if body.expires_at.is_some_and(|at| at <= state.clock.now()) {
        return Err(ApiError::invalid("expires_at", "must be in the future"));
    }
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let target = tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let prefix = random_text(12);
    let secret = format!("{API_KEY_PREFIX}{prefix}_{}", random_text(40));
    let created = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: NotSet,
        name: Set(name),
        prefix: Set(prefix),
        key_hash: Set(hash_api_key(&secret)),
        scopes: Set(serde_json::Value::from(scopes)),
        created_by: Set(principal.user_id().ok()),
        created_at: Set(state.clock.now()),
        last_used_at: Set(None),
        expires_at: Set(body.expires_at),
        revoked_at: Set(None),
    }
    .owned_by_tenant(&principal.scope, &target)?
    .insert(&state.db)
    .await?;
    Ok((created, secret))
}

/// One page of keys in the scope.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    page: PageRequest,
) -> Result<Vec<api_key::Model>, ApiError> {
    let mut query = api_key::Entity::scoped(&principal.scope)
        .order_by_asc(api_key::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(api_key::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// A key in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<api_key::Model, ApiError> {
    api_key::Entity::scoped_by_id(&principal.scope, id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("API key"))
}

/// Revokes a key in the scope; it is refused from the next request on. Revoking twice is fine.
///
/// # Errors
/// 404 outside the scope.
pub async fn revoke(state: &AppState, principal: &Principal, id: Uuid) -> Result<(), ApiError> {
    let found = get(state, principal, id).await?;
    if found.revoked_at.is_none() {
        let mut active: api_key::ActiveModel = found.into();
        active.revoked_at = Set(Some(state.clock.now()));
        active.update(&state.db).await?;
    }
    Ok(())
}
