//! The rules of the tenant endpoints; every query goes through the caller's scope.
use super::dto::{CreateTenant, PutBranding, UpdateTenant};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use entity::{tenant, tenant_branding};
use sea_orm::{ActiveModelTrait, ColumnTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set};
use tenants::branding::{self, EffectiveBranding};
use tenants::provisioning::{self, NewTenant};
use tenants::{Scope, Scoped, ScopedInsert, TenantStatus};
use uuid::Uuid;

/// Creates a partner, client or dedicated client below a tenant in the scope.
///
/// # Errors
/// 404 for a parent outside the scope, 403 for a shape the tree forbids, 409 for a taken slug,
/// 422 for bad fields.
pub async fn create(
    state: &AppState,
    scope: &Scope,
    body: CreateTenant,
) -> Result<tenant::Model, ApiError> {
    let new = NewTenant {
        kind: body.kind.into(),
        dedicated: body.dedicated,
        slug: body.slug,
        name: body.name,
        region: body.region,
        locales: body.locales,
        default_locale: body.default_locale,
        time_zone: body.time_zone,
    };
    let created =
        provisioning::create_child(&state.db, scope, body.parent_id, new, state.clock.now())
            .await?;
    // The parent's support now reaches one more client.
    if let Some(parent_id) = created.parent_id {
        state.announce_stale(parent_id).await;
    }
    Ok(created)
}

/// One page of the tenants in the scope, in creation order.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    state: &AppState,
    scope: &Scope,
    page: PageRequest,
) -> Result<Vec<tenant::Model>, ApiError> {
    let mut query = tenant::Entity::scoped(scope)
        .order_by_asc(tenant::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(tenant::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// A tenant in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(state: &AppState, scope: &Scope, id: Uuid) -> Result<tenant::Model, ApiError> {
    tenant::Entity::scoped_by_id(scope, id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}

/// Changes a tenant's name, region, locales or time zone.
///
/// # Errors
/// 404 outside the scope, 422 for bad fields.
pub async fn update(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    body: UpdateTenant,
) -> Result<tenant::Model, ApiError> {
    let found = get(state, scope, id).await?;
    let mut locales: Vec<String> =
        serde_json::from_value(found.locales.clone()).unwrap_or_default();
    let mut active: tenant::ActiveModel = found.clone().into();
    if let Some(name) = body.name {
        provisioning::validate_name(&name)?;
        active.name = Set(name.trim().to_owned());
    }
    if let Some(region) = body.region {
        active.region = Set(Some(region));
    }
    if let Some(new_locales) = body.locales {
        provisioning::validate_locales(&new_locales)?;
        locales = new_locales;
        active.locales = Set(serde_json::Value::from(locales.clone()));
    }
    let default_locale = body
        .default_locale
        .unwrap_or_else(|| found.default_locale.clone());
    if !locales.contains(&default_locale) {
        return Err(ApiError::invalid(
            "default_locale",
            "must be one of `locales`",
        ));
    }
    active.default_locale = Set(default_locale);
    if let Some(zone) = body.time_zone {
        provisioning::validate_time_zone(&zone)?;
        active.time_zone = Set(zone);
    }
    if let Some(intake) = body.intake_group_id {
        let intake = match intake {
            Some(group_id) => Some(check_intake_group(state, scope, &found, group_id).await?),
            None => None,
        };
        active.intake_group_id = Set(intake);
    }
    active.updated_at = Set(state.clock.now());
    Ok(active.update(&state.db).await?)
}

/// A group in the scope that may hold tickets of `tenant`: its own or an ancestor's.
async fn check_intake_group(
    state: &AppState,
    scope: &Scope,
    tenant: &tenant::Model,
    group_id: Uuid,
) -> Result<Uuid, ApiError> {
    let group = entity::group::Entity::scoped_by_id(scope, group_id)
        .one(&state.db)
        .await?;
    let owner = match &group {
        Some(g) => {
            tenant::Entity::scoped_by_id(scope, g.tenant_id)
                .one(&state.db)
                .await?
        }
        None => None,
    };
    match (group, owner) {
        (Some(g), Some(owner)) if tenant.path.starts_with(&owner.path) => Ok(g.id),
        _ => Err(ApiError::invalid(
            "intake_group_id",
            "no such group of this tenant or one above it",
        )),
    }
}

/// Suspends or reactivates a tenant strictly below the caller's. Suspension ends the sessions
/// of the tenant's and its descendants' users at their next request; no data is touched.
///
/// # Errors
/// 404 outside the scope, 403 for the caller's own tenant.
pub async fn set_status(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    status: TenantStatus,
) -> Result<tenant::Model, ApiError> {
    let updated = provisioning::set_status(&state.db, scope, id, status, state.clock.now()).await?;
    if status == TenantStatus::Suspended {
        let subtree = tenants::tree::subtree_ids(&state.db, &updated.path).await?;
        state.revocations.revoke_tenants(&subtree);
        tracing::info!(tenant = %updated.id, affected = subtree.len(), "tenant suspended");
    }
    Ok(updated)
}

/// The effective branding of a tenant in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn branding(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
) -> Result<EffectiveBranding, ApiError> {
    let found = get(state, scope, id).await?;
    Ok(branding::effective(&state.db, &found.path).await?)
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Replaces a tenant's own branding and answers the effective result.
///
/// # Errors
/// 404 outside the scope, 422 for malformed values, 409 for a portal domain already in use.
pub async fn put_branding(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    body: PutBranding,
) -> Result<EffectiveBranding, ApiError> {
    let found = get(state, scope, id).await?;
    let body = PutBranding {
        display_name: clean(body.display_name),
        logo_url: clean(body.logo_url),
        primary_color: clean(body.primary_color),
        accent_color: clean(body.accent_color),
        email_sender_name: clean(body.email_sender_name),
        email_signature: body.email_signature.filter(|s| !s.trim().is_empty()),
        portal_domain: clean(body.portal_domain).map(|d| d.to_lowercase()),
    };
    for (field, value, max) in [
        ("display_name", &body.display_name, 200),
        ("email_sender_name", &body.email_sender_name, 200),
        ("email_signature", &body.email_signature, 4000),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::invalid(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    if let Some(url) = &body.logo_url {
        branding::validate_url("logo_url", url)?;
    }
    if let Some(color) = &body.primary_color {
        branding::validate_color("primary_color", color)?;
    }
    if let Some(color) = &body.accent_color {
        branding::validate_color("accent_color", color)?;
    }
    if let Some(domain) = &body.portal_domain {
        branding::validate_domain("portal_domain", domain)?;
    }
    let existing = tenant_branding::Entity::scoped_by_id(scope, found.id)
        .one(&state.db)
        .await?;
    let row = tenant_branding::ActiveModel {
        tenant_id: NotSet,
        display_name: Set(body.display_name),
        logo_url: Set(body.logo_url),
        primary_color: Set(body.primary_color),
        accent_color: Set(body.accent_color),
        email_sender_name: Set(body.email_sender_name),
        email_signature: Set(body.email_signature),
        portal_domain: Set(body.portal_domain),
        updated_at: Set(state.clock.now()),
    }
    .owned_by_tenant(scope, &found)?;
    let result = if existing.is_some() {
        row.update(&state.db).await
    } else {
        row.insert(&state.db).await
    };
    result.map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::PortalDomainTaken,
            "another tenant already uses this portal domain",
        ),
        _ => err.into(),
    })?;
    Ok(branding::effective(&state.db, &found.path).await?)
}
