//! HTTP endpoints of reports.
use super::dto::{CountQuery, TicketCounts};
use super::service;
use crate::auth::principal::{Authorized, ReportsRead};
use crate::error::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the report endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ticket_counts);
}

/// Counts tickets created in a period by company, channel, tag or local day: "how many did our
/// students send today". A client organisation's staff see their own numbers only.
#[utoipa::path(
    tag = "reports",
    params(CountQuery),
    responses(
        (status = 200, description = "The counts", body = TicketCounts),
        (status = 400, description = "Malformed query or a parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the reports:read permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad period or time zone", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["reports:read"]), ("api_key" = ["reports:read"]))
)]
#[get("/reports/ticket-counts")]
async fn ticket_counts(
    state: web::Data<AppState>,
    auth: Authorized<ReportsRead>,
    query: Query<CountQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut principal = auth.0.clone();
    principal.scope = state.with_support_reach(&principal.scope).await?;
    let counts =
        service::ticket_counts(&state.db, &principal, query.into_inner(), state.clock.now())
            .await?;
    Ok(HttpResponse::Ok().json(counts))
}
