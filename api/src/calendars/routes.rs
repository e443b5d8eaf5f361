//! HTTP endpoints of business-hours calendars.
use super::dto::{CalendarDto, CalendarFilter, CreateCalendar, OpenDto, OpenQuery, UpdateCalendar};
use super::service;
use crate::auth::principal::{Authorized, TicketsRead, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::{ListQuery, Query};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the calendar endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_calendar)
        .service(list_calendars)
        .service(get_calendar)
        .service(calendar_open)
        .service(update_calendar)
        .service(delete_calendar);
}

/// Creates a business-hours calendar (admins and supervisors).
#[utoipa::path(
    tag = "calendars",
    request_body = CreateCalendar,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = CalendarDto, headers(("Location" = String, description = "The new calendar"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["admin"]))
)]
#[post("/calendars")]
async fn create_calendar(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    body: web::Json<CreateCalendar>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let created = service::create(&state.db, &auth, body.into_inner(), now).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/calendars/{}", created.id),
        ))
        .json(service::to_dto(created, now)?))
}

/// Lists calendars of the caller's tenant and the tenants below it.
#[utoipa::path(
    tag = "calendars",
    params(PageQuery, CalendarFilter),
    responses(
        (status = 200, description = "One page", body = Page<CalendarDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:read permission", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/calendars")]
async fn list_calendars(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    query: ListQuery<CalendarFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let now = state.clock.now();
    let rows = service::list(&state.db, &auth.scope, filter.tenant_id, page)
        .await?
        .into_iter()
        .map(|row| service::to_dto(row, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        |row| row,
    ))
}

/// One calendar in the caller's scope, with whether it is open now.
#[utoipa::path(
    tag = "calendars",
    params(("id" = Uuid, Path, description = "Calendar id")),
    responses(
        (status = 200, description = "The calendar", body = CalendarDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/calendars/{id}")]
async fn get_calendar(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state.db, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(service::to_dto(found, state.clock.now())?))
}

/// Whether a calendar is open at an instant (now by default) and when it opens next.
#[utoipa::path(
    tag = "calendars",
    params(("id" = Uuid, Path, description = "Calendar id"), OpenQuery),
    responses(
        (status = 200, description = "Open or not", body = OpenDto),
        (status = 400, description = "`at` is not an RFC 3339 instant, or a parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/calendars/{id}/open")]
async fn calendar_open(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
    query: Query<OpenQuery>,
) -> Result<HttpResponse, ApiError> {
    let open = service::open_at(
        &state.db,
        &auth.scope,
        id.into_inner(),
        query.at,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(open))
}

/// Changes a calendar's name, zone, intervals or holidays (admins and supervisors).
#[utoipa::path(
    tag = "calendars",
    params(("id" = Uuid, Path, description = "Calendar id")),
    request_body = UpdateCalendar,
    responses(
        (status = 200, description = "Updated", body = CalendarDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["admin"]))
)]
#[patch("/calendars/{id}")]
async fn update_calendar(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateCalendar>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let updated =
        service::update(&state.db, &auth, id.into_inner(), body.into_inner(), now).await?;
    Ok(HttpResponse::Ok().json(service::to_dto(updated, now)?))
}

/// Deletes a calendar that no group uses (admins and supervisors).
#[utoipa::path(
    tag = "calendars",
    params(("id" = Uuid, Path, description = "Calendar id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or a supervisor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A group still works by it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["admin"]))
)]
#[delete("/calendars/{id}")]
async fn delete_calendar(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
