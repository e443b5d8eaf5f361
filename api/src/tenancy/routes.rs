//! HTTP endpoints of the tenant tree.
use super::dto::{BrandingDto, CreateTenant, PutBranding, TenantDto, UpdateTenant};
use super::service;
use crate::auth::principal::{Admin, Authorized, TenantsRead};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::Query;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use tenants::TenantStatus;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the tenant endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_tenant)
        .service(list_tenants)
        .service(get_tenant)
        .service(update_tenant)
        .service(suspend_tenant)
        .service(activate_tenant)
        .service(get_branding)
        .service(put_branding);
}

/// Creates a partner (below the platform), a client (below a partner) or a dedicated client
/// (below the platform, `dedicated: true`).
#[utoipa::path(
    tag = "tenants",
    request_body = CreateTenant,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = TenantDto, headers(("Location" = String, description = "The new tenant"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed here (tree shape, role, suspended parent)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Parent not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/tenants")]
async fn create_tenant(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    body: web::Json<CreateTenant>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &auth.scope, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/tenants/{}", created.id)))
        .json(TenantDto::from(created)))
}

/// Lists the caller's tenant and every tenant below it (a client admin sees only its own).
#[utoipa::path(
    tag = "tenants",
    params(PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<TenantDto>, headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"))),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tenants:read"]), ("api_key" = ["tenants:read"]))
)]
#[get("/tenants")]
async fn list_tenants(
    state: web::Data<AppState>,
    auth: Authorized<TenantsRead>,
    req: HttpRequest,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    let rows = service::list(&state, &auth.scope, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        TenantDto::from,
    ))
}

/// One tenant in the caller's scope.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "The tenant", body = TenantDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tenants:read"]), ("api_key" = ["tenants:read"]))
)]
#[get("/tenants/{id}")]
async fn get_tenant(
    state: web::Data<AppState>,
    auth: Authorized<TenantsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TenantDto::from(found)))
}

/// Changes a tenant's name, region, locales or time zone.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    request_body = UpdateTenant,
    responses(
        (status = 200, description = "Updated", body = TenantDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[patch("/tenants/{id}")]
async fn update_tenant(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTenant>,
) -> Result<HttpResponse, ApiError> {
    let updated = service::update(&state, &auth.scope, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TenantDto::from(updated)))
}

/// Suspends a tenant below the caller's: its and its descendants' users and keys are refused
/// from their next request on; no data is lost.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "Suspended", body = TenantDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Own tenant, or needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/tenants/{id}/suspend")]
async fn suspend_tenant(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let updated = service::set_status(
        &state,
        &auth.scope,
        id.into_inner(),
        TenantStatus::Suspended,
    )
    .await?;
    Ok(HttpResponse::Ok().json(TenantDto::from(updated)))
}

/// Reactivates a suspended tenant below the caller's.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "Active again", body = TenantDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Own tenant, or needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/tenants/{id}/activate")]
async fn activate_tenant(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let updated =
        service::set_status(&state, &auth.scope, id.into_inner(), TenantStatus::Active).await?;
    Ok(HttpResponse::Ok().json(TenantDto::from(updated)))
}

/// The branding in force for a tenant: each field with the tenant it is inherited from.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "Effective branding", body = BrandingDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tenants:read"]), ("api_key" = ["tenants:read"]))
)]
#[get("/tenants/{id}/branding")]
async fn get_branding(
    state: web::Data<AppState>,
    auth: Authorized<TenantsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let effective = service::branding(&state, &auth.scope, id).await?;
    Ok(HttpResponse::Ok().json(BrandingDto::new(id, effective)))
}

/// Replaces a tenant's own branding; fields left out are inherited.
#[utoipa::path(
    tag = "tenants",
    params(("id" = Uuid, Path, description = "Tenant id")),
    request_body = PutBranding,
    responses(
        (status = 200, description = "Effective branding after the change", body = BrandingDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Portal domain taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid colour, URL or domain", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[put("/tenants/{id}/branding")]
async fn put_branding(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
    body: web::Json<PutBranding>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let effective = service::put_branding(&state, &auth.scope, id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(BrandingDto::new(id, effective)))
}
