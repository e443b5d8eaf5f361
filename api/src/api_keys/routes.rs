//! HTTP endpoints of API keys.
use super::dto::{ApiKeyDto, CreateApiKey, CreatedApiKey};
use super::service;
use crate::auth::principal::{Admin, Authorized};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::Query;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the API key endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(get_api_key)
        .service(revoke_api_key);
}

/// Creates an API key; the full key is in this response only.
#[utoipa::path(
    tag = "api-keys",
    request_body = CreateApiKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created; `secret` is shown once", body = CreatedApiKey),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name, scope or expiry", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/api-keys")]
async fn create_api_key(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    body: web::Json<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let (created, secret) = service::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/api-keys/{}", created.id)))
        .insert_header(("cache-control", "no-store"))
        .json(CreatedApiKey {
            key: ApiKeyDto::from(created),
            secret,
        }))
}

/// Lists API keys of the caller's tenant and the tenants below it.
#[utoipa::path(
    tag = "api-keys",
    params(PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<ApiKeyDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[get("/api-keys")]
async fn list_api_keys(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    req: HttpRequest,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    let rows = service::list(&state, &auth, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        ApiKeyDto::from,
    ))
}

/// One API key in the caller's scope.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 200, description = "The key", body = ApiKeyDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[get("/api-keys/{id}")]
async fn get_api_key(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ApiKeyDto::from(found)))
}

/// Revokes an API key; it is refused from the next request on.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[delete("/api-keys/{id}")]
async fn revoke_api_key(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::revoke(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
