//! The rules of companies; every query goes through the caller's scope.
use super::dto::{CompanyTier, CreateCompany, UpdateCompany};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::state::AppState;
use entity::{company, tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use tenants::{Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// A display name: 1-200 characters once trimmed (the same rule as tenant names).
fn check_name(name: &str) -> Result<String, ApiError> {
    tenants::provisioning::validate_name(name)?;
    Ok(name.trim().to_owned())
}

/// Normalises e-mail domains (lower case, no `@`), refusing malformed ones.
///
/// # Errors
/// 422 naming `domains`.
pub fn check_domains(domains: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut clean = Vec::new();
    for domain in domains {
        let domain = domain.trim().trim_start_matches('@').to_lowercase();
        if tenants::branding::validate_domain("domains", &domain).is_err() {
            return Err(ApiError::invalid(
                "domains",
                format!("`{domain}` is not a domain such as uni.example"),
            ));
        }
        if !clean.contains(&domain) {
            clean.push(domain);
        }
    }
    if clean.len() > 50 {
        return Err(ApiError::invalid("domains", "at most 50 domains"));
    }
    Ok(clean)
}

fn taken(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::CompanyNameTaken,
            "this tenant already has a company with this name",
        ),
        _ => err.into(),
    }
}

/// Creates a company in a tenant of the caller's scope.
///
/// # Errors
/// 404 for a tenant outside the scope, 409 for a taken name, 422 for bad fields.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateCompany,
) -> Result<company::Model, ApiError> {
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let owner = tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    // A company is support data: the tenant must be one whose tickets the caller works.
    let own = principal
        .scope
        .narrowed_to_tenant(&owner)
        .ok_or(ApiError::NotFound("tenant"))?;
    let now = state.clock.now();
    company::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(check_name(&body.name)?),
        domains: Set(serde_json::Value::from(check_domains(body.domains)?)),
        tier: Set(body
            .tier
            .unwrap_or(CompanyTier::Standard)
            .as_str()
            .to_owned()),
        notes: Set(body.notes.filter(|n| !n.trim().is_empty())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .owned_by(&own)?
    .insert(&state.db)
    .await
    .map_err(taken)
}

/// One page of companies in the scope.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    state: &AppState,
    scope: &Scope,
    tenant_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Vec<company::Model>, ApiError> {
    let mut query = company::Entity::scoped(scope)
        .order_by_asc(company::Column::Id)
        .limit(page.limit + 1);
    if let Some(tenant_id) = tenant_id {
        query = query.filter(company::Column::TenantId.eq(tenant_id));
    }
    if let Some(after) = page.after {
        query = query.filter(company::Column::Id.gt(after));
    }
    Ok(query.all(&state.db).await?)
}

/// A company in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<company::Model, ApiError> {
    company::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("company"))
}

/// The company of `tenant_id` that owns the domain of `email`, if any.
///
/// # Errors
/// Fails when the database does.
pub async fn by_email_domain(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
    email: &str,
) -> Result<Option<company::Model>, ApiError> {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    // Domains are few per tenant; the JSON list is matched here so both databases agree.
    let companies = company::Entity::scoped(scope)
        .filter(company::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?;
    Ok(companies.into_iter().find(|c| {
        serde_json::from_value::<Vec<String>>(c.domains.clone())
            .unwrap_or_default()
            .iter()
            .any(|d| d == domain)
    }))
}

/// Changes a company.
///
/// # Errors
/// 404 outside the scope, 409 for a taken name, 422 for bad fields.
pub async fn update(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    body: UpdateCompany,
) -> Result<company::Model, ApiError> {
    let found = get(&state.db, scope, id).await?;
    let mut active: company::ActiveModel = found.into();
    if let Some(name) = body.name {
        active.name = Set(check_name(&name)?);
    }
    if let Some(domains) = body.domains {
        active.domains = Set(serde_json::Value::from(check_domains(domains)?));
    }
    if let Some(tier) = body.tier {
        active.tier = Set(tier.as_str().to_owned());
    }
    if let Some(notes) = body.notes {
        active.notes = Set(notes.filter(|n| !n.trim().is_empty()));
    }
    active.updated_at = Set(state.clock.now());
    active.update(&state.db).await.map_err(taken)
}

/// Deletes a company; its contacts and tickets stay, without a company.
///
/// # Errors
/// 404 outside the scope.
pub async fn delete(state: &AppState, scope: &Scope, id: Uuid) -> Result<(), ApiError> {
    let found = get(&state.db, scope, id).await?;
    company::Entity::scoped_delete(scope)
        .filter(company::Column::Id.eq(found.id))
        .exec(&state.db)
        .await?;
    Ok(())
}
