//! HTTP endpoints that hand a ticket to another tenant.
use super::dto::{EscalateTicket, RouteTicket};
use super::service;
use crate::auth::principal::{Authorized, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::tickets::dto::TicketDto;
use crate::tickets::routes::ticket_response;
use actix_web::{HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the escalation endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(escalate_ticket).service(route_ticket);
}

/// Escalates a ticket to the parent tenant (a partner's or client's agent hands it up): a linked
/// ticket with the conversation so far appears in the parent's queue; the parent's public
/// replies come back here as private notes and its status becomes this ticket's. The parent sees
/// nothing else of this tenant's data.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = EscalateTicket,
    responses(
        (status = 200, description = "The ticket, now linked to the parent's ticket", body = TicketDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Client staff do not hand tickets on", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Merged, or already handed to another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No parent tenant, or a bad note", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/{id}/escalate")]
async fn escalate_ticket(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<EscalateTicket>,
) -> Result<HttpResponse, ApiError> {
    let origin = service::escalate(&state, &auth, id.into_inner(), body.into_inner()).await?;
    Ok(ticket_response(HttpResponse::Ok(), origin))
}

/// Routes a ticket down to a client organisation directly below the ticket's tenant (a content
/// question for the exam's organisers): the client's own agents get a linked ticket; their
/// public replies come back here as private notes and their status becomes this ticket's.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = RouteTicket,
    responses(
        (status = 200, description = "The ticket, now linked to the client's ticket", body = TicketDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Client staff do not hand tickets on", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Merged, or already handed to another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a client directly below the ticket's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/{id}/route")]
async fn route_ticket(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<RouteTicket>,
) -> Result<HttpResponse, ApiError> {
    let origin = service::route(&state, &auth, id.into_inner(), body.into_inner()).await?;
    Ok(ticket_response(HttpResponse::Ok(), origin))
}
