//! HTTP endpoints of bulk jobs.
use super::dto::{BulkRequest, JobAccepted, JobDto};
use super::service;
use crate::auth::principal::{Admin, Authorized, TicketsRead, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the job endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(bulk_tickets)
        .service(get_job)
        .service(retry_job);
}

/// Changes many tickets and/or replies to each of them, as a background job. The tickets are
/// named by id or by a filter (the keys of `GET /tickets`), at most `jobs.max_tickets` of them.
/// The reply's body may use `{{requester.name}}`, `{{requester.email}}`, `{{ticket.number}}`
/// and `{{ticket.subject}}`; public replies enter the outbox for the ticket's channel. Ids
/// outside the caller's scope are reported as failed items (`not_found`). With an
/// `Idempotency-Key`, a retry gets the same `202` and job id back instead of a second job.
#[utoipa::path(
    tag = "jobs",
    request_body = BulkRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response (and job) is replayed")),
    responses(
        (status = 202, description = "Accepted; the job runs in the background", body = JobAccepted, headers(("Location" = String, description = "The job"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:write permission; client staff cannot reply", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request, unknown placeholder, or too many tickets (`too_many_tickets`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/bulk")]
async fn bulk_tickets(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    body: web::Json<BulkRequest>,
) -> Result<HttpResponse, ApiError> {
    let job = service::accept(&state, &auth, body.into_inner()).await?;
    state.job_wakeup.notify_one();
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/jobs/{}", job.id)))
        .json(JobAccepted {
            job_id: job.id,
            status: job.status,
            total: job.total,
        }))
}

/// A job's progress and the tickets it could not handle.
#[utoipa::path(
    tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/jobs/{id}")]
async fn get_job(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = service::get(&state.db, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(job))
}

/// Queues a dead job again: its attempts start from zero and the runner takes it at once,
/// working the items it had not finished (its last error stays until it completes).
#[utoipa::path(
    tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "Queued again", body = JobDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not dead (`not_retryable`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/jobs/{id}/retry")]
async fn retry_job(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = service::retry(&state.db, &auth.scope, id.into_inner()).await?;
    state.job_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(job))
}
