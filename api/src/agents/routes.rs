//! HTTP endpoints of agents' shifts.
use super::dto::{AvailabilityDto, HandoffReport, SetAvailability};
use super::service;
use crate::auth::principal::{Authorized, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::users::dto::UserDto;
use actix_web::{HttpResponse, post, put, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the agent endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(set_availability).service(handoff);
}

/// Sets an agent's availability (the agent itself, a supervisor or an admin). Going off shift
/// hands the agent's unfinished tickets of groups with `auto_handoff` to colleagues on shift,
/// each with a private note; `handoff` in the response says what moved.
#[utoipa::path(
    tag = "agents",
    params(("id" = Uuid, Path, description = "The agent's user id")),
    request_body = SetAvailability,
    responses(
        (status = 200, description = "The agent, and what an automatic hand-off moved", body = AvailabilityDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another agent's shift", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[put("/agents/{id}/availability")]
async fn set_availability(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<SetAvailability>,
) -> Result<HttpResponse, ApiError> {
    let (agent, report) = service::set_availability(
        &state.db,
        &auth,
        id.into_inner(),
        body.availability,
        state.clock.now(),
    )
    .await?;
    let mut rows = crate::users::service::with_groups(&state.db, &auth.scope, vec![agent]).await?;
    let (agent, groups) = rows.pop().ok_or(ApiError::NotFound("agent"))?;
    Ok(HttpResponse::Ok().json(AvailabilityDto {
        agent: UserDto::new(agent, groups),
        handoff: report,
    }))
}

/// Hands an agent's unfinished tickets to colleagues on shift in the same groups, with a private
/// note on each; the requesters see nothing.
#[utoipa::path(
    tag = "agents",
    params(("id" = Uuid, Path, description = "The agent's user id")),
    responses(
        (status = 200, description = "What moved and what stayed", body = HandoffReport),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another agent's shift", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/agents/{id}/handoff")]
async fn handoff(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let report = service::handoff(&state.db, &auth, id.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(report))
}
