//! HTTP endpoints of saved views.
use super::dto::{CreateView, UpdateView, ViewDto};
use super::service;
use crate::auth::principal::{Authorized, TicketsRead};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::Query;
use crate::state::AppState;
use crate::tickets::dto::TicketDto;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the saved-view endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_view)
        .service(list_views)
        .service(get_view)
        .service(update_view)
        .service(delete_view)
        .service(view_tickets);
}

/// Saves a ticket filter under a name for the calling agent.
#[utoipa::path(
    tag = "views",
    request_body = CreateView,
    responses(
        (status = 201, description = "Saved", body = ViewDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a signed-in user, or sharing without being an admin or supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]))
)]
#[post("/views")]
async fn create_view(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    body: web::Json<CreateView>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state.db, &auth, body.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/views/{}", created.id)))
        .json(ViewDto::from(created)))
}

/// The caller's views and those shared in their tenant.
#[utoipa::path(
    tag = "views",
    params(PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<ViewDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a signed-in user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]))
)]
#[get("/views")]
async fn list_views(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let rows = service::list(&state.db, &auth, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        ViewDto::from,
    ))
}

/// One view.
#[utoipa::path(
    tag = "views",
    params(("id" = Uuid, Path, description = "View id")),
    responses(
        (status = 200, description = "The view", body = ViewDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found, another agent's private view or another tenant's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]))
)]
#[get("/views/{id}")]
async fn get_view(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ViewDto::from(
        service::get(&state.db, &auth, id.into_inner()).await?,
    )))
}

/// Changes a view (its owner, or an admin or supervisor for a shared one).
#[utoipa::path(
    tag = "views",
    params(("id" = Uuid, Path, description = "View id")),
    request_body = UpdateView,
    responses(
        (status = 200, description = "Updated", body = ViewDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change or share it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in what the caller sees", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]))
)]
#[patch("/views/{id}")]
async fn update_view(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateView>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ViewDto::from(
        service::update(
            &state.db,
            &auth,
            id.into_inner(),
            body.into_inner(),
            state.clock.now(),
        )
        .await?,
    )))
}

/// Deletes a view.
#[utoipa::path(
    tag = "views",
    params(("id" = Uuid, Path, description = "View id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to delete it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in what the caller sees", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]))
)]
#[delete("/views/{id}")]
async fn delete_view(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The tickets a view selects: the ticket list with the view's filters, in the caller's scope.
#[utoipa::path(
    tag = "views",
    params(("id" = Uuid, Path, description = "View id"), PageQuery),
    responses(
        (status = 200, description = "One page", body = Page<TicketDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in what the caller sees", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The stored filters are no longer valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]))
)]
#[get("/views/{id}/tickets")]
async fn view_tickets(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = page.parse()?;
    let mut principal = auth.0.clone();
    principal.scope = state.with_support_reach(&principal.scope).await?;
    let rows = service::tickets(
        &state.db,
        &state.word_sample,
        &principal,
        id.into_inner(),
        page,
    )
    .await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        TicketDto::from,
    ))
}
