//! Rate limits: fixed one-minute windows counted in the shared cache, so every API node sees
//! the same counts (while Redis is down, each node counts on its own: see
//! [`crate::cache::Cache::hit`]); the `RateLimit-*` headers tell the caller where it stands.
use crate::cache::WindowCount;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};

/// Where the caller stands in its current window; copied into the response headers.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitInfo {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in the window.
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset_in: u64,
}

impl RateLimitInfo {
    /// The standing after counting `window`.
    pub fn new(limit: u64, window: WindowCount) -> Self {
        Self {
            limit,
            remaining: limit.saturating_sub(window.count),
            reset_in: window.reset_in,
        }
    }
}

/// The client address used for per-IP limits.
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for && let Some(ip) = req.connection_info().realip_remote_addr() {
        return ip.to_owned();
    }
    req.peer_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Counts one request of `bucket` from the caller's IP and refuses it past `limit` a minute.
///
/// # Errors
/// 429 with `Retry-After` when over the limit.
pub async fn limit_by_ip(
    state: &AppState,
    req: &HttpRequest,
    bucket: &str,
    limit: u64,
) -> Result<(), ApiError> {
    let ip = client_ip(req, state.settings.http.trust_forwarded_for);
    let window = state.cache.hit(&format!("rl:{bucket}:{ip}"), 60).await?;
    req.extensions_mut()
        .insert(RateLimitInfo::new(limit, window));
    if window.count > limit {
        return Err(ApiError::RateLimited {
            retry_after: window.reset_in,
            limit,
        });
    }
    Ok(())
}

/// Middleware: writes `RateLimit-Limit/Remaining/Reset` on responses whose request was counted.
///
/// # Errors
/// Passes the inner service's errors through.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let info = response
        .request()
        .extensions()
        .get::<RateLimitInfo>()
        .copied();
    if let Some(info) = info {
        let headers = response.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", info.limit),
            ("ratelimit-remaining", info.remaining),
            ("ratelimit-reset", info.reset_in),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    Ok(response)
}
