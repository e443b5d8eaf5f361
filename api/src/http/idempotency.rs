//! `Idempotency-Key` on POST: the first response to a key is kept for 24 hours and replayed for
//! a retry with the same body; the same key with another body is refused, and a retry while the
//! first attempt still runs gets a 409. Records live in the shared cache, so a retry may reach
//! any API node.
use crate::auth::principal::{Actor, authenticate};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a completed response is replayed.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How long an unfinished attempt holds its key (a crashed attempt frees it after this).
const PENDING_TTL: Duration = Duration::from_secs(60);

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    Pending {
        fingerprint: String,
    },
    Done {
        fingerprint: String,
        status: u16,
        content_type: Option<String>,
        location: Option<String>,
        body: String,
    },
}

fn applies(req: &ServiceRequest) -> bool {
    req.method() == Method::POST
        && req.path().starts_with("/api/v1/")
        && !req.path().starts_with("/api/v1/auth/")
        && req.headers().contains_key("idempotency-key")
}

/// Middleware: makes POST requests carrying `Idempotency-Key` safe to retry.
///
/// # Errors
/// Passes the inner service's errors through.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !applies(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Without valid credentials the handler answers 401 itself; nothing to remember.
    let Ok(principal) = authenticate(req.request()).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if key.is_empty() || key.len() > 255 {
        let err = ApiError::invalid("Idempotency-Key", "must be 1 to 255 visible characters");
        return Ok(req.into_response(err.error_response()));
    }
    // The body is kept to fingerprint it and hand it on: JSON up to the JSON limit, an upload
    // up to the upload limit (plus room for the multipart framing).
    let limit = body_limit(&req, &state.settings);
    let body = match super::body::read_whole(&mut req, limit).await {
        Ok(body) => body,
        Err(err) => return Ok(req.into_response(err.error_response())),
    };
    let fingerprint = {
        let mut hasher = Sha256::new();
        hasher.update(req.path().as_bytes());
        hasher.update([0]);
        hasher.update(&body);
        hex::encode(hasher.finalize())
    };
    let owner = match &principal.actor {
        Actor::User { id, .. } => format!("user:{}", id.simple()),
        Actor::ApiKey { id, .. } => format!("key:{}", id.simple()),
        Actor::Operator => "operator".into(),
    };
    let record_key = format!(
        "idem:{owner}:{}",
        hex::encode(Sha256::digest(key.as_bytes()))
    );

    let pending = serde_json::to_vec(&Record::Pending {
        fingerprint: fingerprint.clone(),
    })
    .map_err(ApiError::from_serde)?;
    let claimed = state
        .cache
        .set_if_absent(&record_key, &pending, PENDING_TTL)
        .await
        .map_err(ApiError::from)?;
    if !claimed {
        let existing = state.cache.get(&record_key).await.map_err(ApiError::from)?;
        let response =
            match existing.and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok()) {
                Some(
                    Record::Done {
                        fingerprint: seen, ..
                    }
                    | Record::Pending { fingerprint: seen },
                ) if seen != fingerprint => ApiError::Validation {
                    code: ErrorCode::IdempotencyKeyReused,
                    detail: "this Idempotency-Key was already used with a different request body"
                        .into(),
                    errors: Vec::new(),
                }
                .error_response(),
                Some(Record::Done {
                    status,
                    content_type,
                    location,
                    body,
                    ..
                }) => replay(status, content_type, location, &body),
                _ => ApiError::conflict(
                    ErrorCode::IdempotencyKeyInUse,
                    "a request with this Idempotency-Key is still being processed",
                )
                .error_response(),
            };
        return Ok(req.into_response(response));
    }

    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    req.set_payload(payload.into());
    let response = next.call(req).await?;
    let (request, response) = response.into_parts();
    let status = response.status();
    let content_type = header_text(&response, header::CONTENT_TYPE);
    let location = header_text(&response, header::LOCATION);
    let (response, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("reading the response body")))?;

    // The work is done: a record that cannot be written (Redis went away meanwhile) never
    // turns its answer into a failure. A retry then finds the pending claim until it expires.
    if status.is_server_error() {
        // Let a retry do the work again.
        if let Err(err) = state.cache.delete(&record_key).await {
            tracing::warn!(error = %err, "could not release an Idempotency-Key");
        }
    } else {
        let done = Record::Done {
            fingerprint,
            status: status.as_u16(),
            content_type,
            location,
            body: STANDARD.encode(&bytes),
        };
        let done = serde_json::to_vec(&done).map_err(ApiError::from_serde)?;
        if let Err(err) = state.cache.set(&record_key, &done, RETENTION).await {
            tracing::warn!(error = %err, "could not record an Idempotency-Key's answer");
        }
    }
    let response = response.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(request, response))
}

/// The largest body a request may carry: uploads (`multipart/form-data`) are bounded by the
/// attachment limits, everything else by the JSON limit.
fn body_limit(req: &ServiceRequest, settings: &crate::config::Settings) -> usize {
    /// Room for part headers and boundaries around the files.
    const FRAMING: usize = 64 * 1024;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if multipart {
        settings
            .attachments
            .max_upload_bytes
            .saturating_add(FRAMING)
    } else {
        settings.http.max_body_bytes
    }
}

fn header_text(
    response: &HttpResponse<impl MessageBody>,
    name: header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn replay(
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    body: &str,
) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(content_type) = content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    response.insert_header(("idempotent-replayed", "true"));
    response.body(STANDARD.decode(body).unwrap_or_default())
}

impl ApiError {
    /// Wraps a serialisation failure as an internal error.
    pub fn from_serde(err: serde_json::Error) -> Self {
        ApiError::Internal(err.into())
    }
}
