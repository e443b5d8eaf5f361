//! HTTP endpoints of tickets and their conversation.
use super::criteria::TicketCriteria;
use super::dto::{
    ActivityDto, CreateMessage, CreateTicket, EventDto, MergeTickets, MessageDto, TakeQuery,
    TicketDto, UpdateTicket,
};
use super::service;
use crate::auth::principal::{Authorized, TicketsRead, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::http::conditional::IfMatch;
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the ticket endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_ticket)
        .service(list_tickets)
        .service(get_ticket)
        .service(update_ticket)
        .service(add_reply)
        .service(add_note)
        .service(merge_tickets)
        .service(take_ticket)
        .service(get_conversation)
        .service(get_activities)
        .service(get_events);
}

pub(crate) fn ticket_response(
    mut response: actix_web::HttpResponseBuilder,
    ticket: entity::ticket::Model,
) -> HttpResponse {
    response
        .insert_header((header::ETAG, service::etag(&ticket)))
        .json(TicketDto::from(ticket))
}

/// Creates a ticket; the requester is found by id or by any identifier, or created.
#[utoipa::path(
    tag = "tickets",
    request_body = CreateTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = TicketDto, headers(("ETag" = String, description = "The ticket's version"), ("Location" = String, description = "The new ticket"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:write permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or references", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets")]
async fn create_ticket(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    body: web::Json<CreateTicket>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &auth, body.into_inner()).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/api/v1/tickets/{}", created.id)));
    Ok(ticket_response(response, created))
}

/// Lists tickets in the caller's scope, newest first, with filters.
#[utoipa::path(
    tag = "tickets",
    params(PageQuery, TicketCriteria),
    responses(
        (status = 200, description = "One page", body = Page<TicketDto>),
        (status = 400, description = "Bad cursor, a malformed filter or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter value", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/tickets")]
async fn list_tickets(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    query: ListQuery<TicketCriteria>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let scope = state.with_support_reach(&auth.scope).await?;
    let rows = service::list(&state.db, &state.word_sample, &scope, &filter, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        TicketDto::from,
    ))
}

/// One ticket, with its version as `ETag`.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = TicketDto, headers(("ETag" = String, description = "The ticket's version"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/tickets/{id}")]
async fn get_ticket(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state.db, &auth.scope, id.into_inner()).await?;
    Ok(ticket_response(HttpResponse::Ok(), found))
}

/// Edits a ticket's fields (status, priority, type, tags, requester, company, group, assignee).
#[utoipa::path(
    tag = "tickets",
    params(
        ("id" = Uuid, Path, description = "Ticket id"),
        ("If-Match" = Option<String>, Header, description = "`*` or the ETags read before editing, e.g. `\"3\"` or `\"3\", \"4\"` (RFC 9110, strong comparison); a ticket whose version is none of them answers 412"),
    ),
    request_body = UpdateTicket,
    responses(
        (status = 200, description = "Updated", body = TicketDto, headers(("ETag" = String, description = "The new version"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else at the same moment", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or references", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[patch("/tickets/{id}")]
async fn update_ticket(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTicket>,
) -> Result<HttpResponse, ApiError> {
    let expected = IfMatch::from_request(&req)?;
    let edited = service::update(
        &state.db,
        &auth,
        id.into_inner(),
        expected.as_ref(),
        body.into_inner(),
        state.clock.now(),
    )
    .await?;
    Ok(ticket_response(HttpResponse::Ok(), edited))
}

/// Adds a public reply to the requester.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = CreateMessage,
    responses(
        (status = 201, description = "Added", body = MessageDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Client staff do not answer tickets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or oversized body, or one with no text left once unsafe markup is removed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/{id}/replies")]
async fn add_reply(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<CreateMessage>,
) -> Result<HttpResponse, ApiError> {
    let posted = service::add_message(
        &state.db,
        &auth,
        id.into_inner(),
        false,
        &body.body,
        &body.attachment_ids,
        state.clock.now(),
    )
    .await?;
    let mut created = [MessageDto::from(posted)];
    crate::attachments::service::fill(&state.db, &auth.scope, &mut created).await?;
    crate::outbox::service::fill(&state.db, &auth.scope, &mut created).await?;
    let [created] = created;
    Ok(HttpResponse::Created().json(created))
}

/// Adds a private note, visible to agents only.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = CreateMessage,
    responses(
        (status = 201, description = "Added", body = MessageDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Client staff do not write notes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or oversized body, or one with no text left once unsafe markup is removed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/{id}/notes")]
async fn add_note(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<CreateMessage>,
) -> Result<HttpResponse, ApiError> {
    let posted = service::add_message(
        &state.db,
        &auth,
        id.into_inner(),
        true,
        &body.body,
        &body.attachment_ids,
        state.clock.now(),
    )
    .await?;
    let mut created = [MessageDto::from(posted)];
    crate::attachments::service::fill(&state.db, &auth.scope, &mut created).await?;
    let [created] = created;
    Ok(HttpResponse::Created().json(created))
}

/// The conversation of a ticket, oldest first (client staff do not see private notes).
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The conversation", body = Vec<MessageDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/tickets/{id}/conversation")]
async fn get_conversation(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let messages = service::conversation(&state.db, &auth, id.into_inner()).await?;
    let mut messages: Vec<MessageDto> = messages.into_iter().map(MessageDto::from).collect();
    crate::attachments::service::fill(&state.db, &auth.scope, &mut messages).await?;
    crate::outbox::service::fill(&state.db, &auth.scope, &mut messages).await?;
    Ok(HttpResponse::Ok().json(messages))
}

/// The history of a ticket: every change with who made it and when, oldest first.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The history", body = Vec<ActivityDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/tickets/{id}/activities")]
async fn get_activities(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let history = service::activities(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(
        history
            .into_iter()
            .map(ActivityDto::from)
            .collect::<Vec<_>>(),
    ))
}

/// The ticket's entries in the event log, oldest first: what consumers (the event stream,
/// and later delivery, SLA clocks, automations, surveys, webhooks) read about it. For agents
/// and integrators; client staff read the history instead.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket's events", body = Vec<EventDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Client staff, or credentials without tickets:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/tickets/{id}/events")]
async fn get_events(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let events = service::events(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(events.into_iter().map(EventDto::from).collect::<Vec<_>>()))
}

/// Merges other tickets of the same tenant into this one (e.g. the same student writing three
/// times about one exam): their conversation moves here and they are closed with a link.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The primary ticket")),
    request_body = MergeTickets,
    responses(
        (status = 200, description = "The primary ticket after the merge", body = TicketDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A ticket is not in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A ticket is already merged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Self-merge, another tenant's ticket, or too many", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/tickets/{id}/merge")]
async fn merge_tickets(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<MergeTickets>,
) -> Result<HttpResponse, ApiError> {
    let primary = service::merge(
        &state.db,
        &auth,
        id.into_inner(),
        body.into_inner().secondary_ids,
        state.clock.now(),
    )
    .await?;
    Ok(ticket_response(HttpResponse::Ok(), primary))
}

/// Assigns the ticket to the calling agent. A ticket assigned to a colleague answers 409
/// unless a supervisor or administrator sends `force=true`; taking one's own ticket again
/// answers it unchanged.
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Ticket id"), TakeQuery),
    responses(
        (status = 200, description = "Now assigned to the caller", body = TicketDto, headers(("ETag" = String, description = "The ticket's version"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a signed-in agent, or `force` from an agent (`force_not_allowed`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Assigned to a colleague (`already_assigned`, naming the assignee), merged (`ticket_merged`), or changed at the same moment (`edit_conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The caller cannot work this ticket's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]))
)]
#[post("/tickets/{id}/take")]
async fn take_ticket(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    query: web::Query<TakeQuery>,
) -> Result<HttpResponse, ApiError> {
    let force = query.force.unwrap_or(false);
    let taken = service::take(&state.db, &auth, id.into_inner(), force, state.clock.now()).await?;
    Ok(ticket_response(HttpResponse::Ok(), taken))
}
