//! HTTP endpoints of the outbox: what administrators see of deliveries, and the retry of a
//! dead one.
use super::dto::{OutboxDto, OutboxFilter};
use super::service;
use crate::auth::principal::{Admin, Authorized};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the outbox endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_outbox).service(retry_delivery);
}

/// Lists the outbox in the caller's scope, oldest first: every message on its way out with its
/// status, attempts and last error. `status=dead` shows what gave up and waits for an admin.
#[utoipa::path(
    tag = "outbox",
    params(PageQuery, OutboxFilter),
    responses(
        (status = 200, description = "One page", body = Page<OutboxDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or status", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[get("/outbox")]
async fn list_outbox(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    req: HttpRequest,
    query: ListQuery<OutboxFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let rows = service::list(&state.db, &auth, filter.status, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        OutboxDto::from,
    ))
}

/// Queues a dead or failed delivery again, due now, with a fresh count of attempts.
#[utoipa::path(
    tag = "outbox",
    params(("id" = Uuid, Path, description = "Outbox row id")),
    responses(
        (status = 200, description = "Queued again", body = OutboxDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not dead or failed, or without an address (`not_retryable`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/outbox/{id}/retry")]
async fn retry_delivery(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let retried = service::retry(&state.db, &auth, id.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(OutboxDto::from(retried)))
}
