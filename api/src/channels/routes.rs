//! HTTP endpoints of channels.
use super::dto::{ChannelDto, ChannelFilter, CreateChannel, UpdateChannel};
use super::service;
use crate::auth::principal::{Admin, Authorized, TicketsRead};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the channel endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_channel)
        .service(list_channels)
        .service(get_channel)
        .service(update_channel)
        .service(delete_channel);
}

fn dto(model: entity::channel::Model) -> Result<ChannelDto, ApiError> {
    ChannelDto::new(model).map_err(ApiError::Internal)
}

/// Creates a channel (an e-mail address, a WhatsApp number, a Telegram bot, a web form or an
/// API entry) of the caller's tenant or a client tenant it works for. Secrets are write-only.
#[utoipa::path(
    tag = "channels",
    request_body = CreateChannel,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = ChannelDto, headers(("Location" = String, description = "The new channel"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found among those whose tickets the caller works", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken in this tenant, or the address already receives for another channel", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, settings of another kind, or a secret the kind does not keep", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/channels")]
async fn create_channel(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    body: web::Json<CreateChannel>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/channels/{}", created.id)))
        .json(dto(created)?))
}

/// Lists the channels of the caller's tenant and the client tenants it works for.
#[utoipa::path(
    tag = "channels",
    params(PageQuery, ChannelFilter),
    responses(
        (status = 200, description = "One page", body = Page<ChannelDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:read permission", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter of the wrong type", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/channels")]
async fn list_channels(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    query: ListQuery<ChannelFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let rows = service::list(&state, &auth.scope, &filter, page).await?;
    let rows = rows.into_iter().map(dto).collect::<Result<Vec<_>, _>>()?;
    Ok(pagination::respond(&req, page, rows, |c| c.id, |c| c))
}

/// One channel in the caller's scope.
#[utoipa::path(
    tag = "channels",
    params(("id" = Uuid, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel", body = ChannelDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:read permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/channels/{id}")]
async fn get_channel(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(dto(found)?))
}

/// Changes a channel: name, enabled, what arriving tickets get, its settings or its secrets.
#[utoipa::path(
    tag = "channels",
    params(("id" = Uuid, Path, description = "Channel id")),
    request_body = UpdateChannel,
    responses(
        (status = 200, description = "Updated", body = ChannelDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken in this tenant, or the address already receives for another channel", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, settings of another kind, or a secret the kind does not keep", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[patch("/channels/{id}")]
async fn update_channel(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateChannel>,
) -> Result<HttpResponse, ApiError> {
    let updated = service::update(&state, &auth.scope, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(dto(updated)?))
}

/// Deletes a channel.
#[utoipa::path(
    tag = "channels",
    params(("id" = Uuid, Path, description = "Channel id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[delete("/channels/{id}")]
async fn delete_channel(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
