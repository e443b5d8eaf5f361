//! HTTP endpoints through which messages arrive from outside: raw mail posted by a relay.
use super::dto::{InboundOutcome, InboundResult};
use super::service;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Largest raw message accepted, in bytes.
pub const MAX_MAIL_BYTES: usize = 10 * 1024 * 1024;

/// Registers the inbound endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(inbound_email);
}

/// The bearer credential of the request, if any.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Reads the body, refusing it past [`MAX_MAIL_BYTES`].
async fn read_mail(mut payload: web::Payload) -> Result<BytesMut, ApiError> {
    let mut raw = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                ErrorCode::MalformedBody,
                "the request body could not be read",
            )
        })?;
        if raw.len() + chunk.len() > MAX_MAIL_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_MAIL_BYTES,
            });
        }
        raw.extend_from_slice(&chunk);
    }
    Ok(raw)
}

/// Receives one raw RFC 5322 message for an e-mail channel, as relays (Mailgun, Postmark, SES,
/// a local MTA's pipe) deliver it, authenticated by the channel's `inbound_secret` as a bearer
/// token. The mail opens a ticket, joins the ticket it answers, or is acknowledged and dropped
/// (a second delivery, an auto-reply, a bounce, list mail).
#[utoipa::path(
    tag = "inbound",
    params(("id" = Uuid, Path, description = "E-mail channel id")),
    request_body(content = String, content_type = "message/rfc822", description = "The raw message, at most 10 MiB"),
    responses(
        (status = 201, description = "Stored: it opened a ticket or joined one", body = InboundOutcome),
        (status = 200, description = "Acknowledged, nothing stored: a second delivery, an auto-reply, a bounce or list mail", body = InboundOutcome),
        (status = 400, description = "The body could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The channel's inbound secret is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No enabled e-mail channel with this id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `message/rfc822`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a message, or no usable sender", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Another delivery of the same mail is being stored: retry later", body = Problem, content_type = "application/problem+json"),
    ),
    security(("channel_secret" = []))
)]
#[post("/channels/{id}/inbound/email")]
async fn inbound_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let is_mail = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("message/rfc822"))
        });
    if !is_mail {
        return Err(ApiError::UnsupportedMediaType);
    }
    let raw = read_mail(payload).await?;
    let outcome: InboundOutcome =
        service::receive_email(&state, id.into_inner(), bearer(&req), &raw)
            .await?
            .into();
    Ok(match outcome.result {
        InboundResult::Opened | InboundResult::Joined => HttpResponse::Created().json(outcome),
        InboundResult::Duplicate | InboundResult::Ignored => HttpResponse::Ok().json(outcome),
    })
}
