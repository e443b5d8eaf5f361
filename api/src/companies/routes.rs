//! HTTP endpoints of companies.
use super::dto::{CompanyDto, CompanyFilter, CreateCompany, UpdateCompany};
use super::service;
use crate::auth::principal::{Authorized, TicketsRead, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the company endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_company)
        .service(list_companies)
        .service(get_company)
        .service(update_company)
        .service(delete_company);
}

/// Creates a client organisation.
#[utoipa::path(
    tag = "companies",
    request_body = CreateCompany,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = CompanyDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:write permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/companies")]
async fn create_company(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    body: web::Json<CreateCompany>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/companies/{}", created.id),
        ))
        .json(CompanyDto::from(created)))
}

/// Lists client organisations in the caller's scope.
#[utoipa::path(
    tag = "companies",
    params(PageQuery, CompanyFilter),
    responses(
        (status = 200, description = "One page", body = Page<CompanyDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/companies")]
async fn list_companies(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    query: ListQuery<CompanyFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let rows = service::list(&state, &auth.scope, filter.tenant_id, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        CompanyDto::from,
    ))
}

/// One client organisation.
#[utoipa::path(
    tag = "companies",
    params(("id" = Uuid, Path, description = "Company id")),
    responses(
        (status = 200, description = "The company", body = CompanyDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/companies/{id}")]
async fn get_company(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CompanyDto::from(
        service::get(&state.db, &auth.scope, id.into_inner()).await?,
    )))
}

/// Changes a client organisation.
#[utoipa::path(
    tag = "companies",
    params(("id" = Uuid, Path, description = "Company id")),
    request_body = UpdateCompany,
    responses(
        (status = 200, description = "Updated", body = CompanyDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[patch("/companies/{id}")]
async fn update_company(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateCompany>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(CompanyDto::from(
        service::update(&state, &auth.scope, id.into_inner(), body.into_inner()).await?,
    )))
}

/// Deletes a client organisation; its contacts and tickets stay.
#[utoipa::path(
    tag = "companies",
    params(("id" = Uuid, Path, description = "Company id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[delete("/companies/{id}")]
async fn delete_company(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
