//! What a request leaves in the log. Every log line of a request carries its root span's
//! fields, so the span holds only bounded, credential-free values: the method from a closed
//! set, the route template, the target truncated to [`MAX_TARGET_BYTES`] with the values of
//! credential query parameters replaced by `[redacted]`, a truncated user agent. A request
//! ends with one event only when something went wrong: ERROR for a 5xx, DEBUG for a 4xx
//! (a client's mistake is not an operator's problem, and a fuzzer or a scanner must not be
//! able to fill the disk with WARN lines).
use crate::http::metrics::method_label;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceRequest;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// Longest request target (path and query) written to the log, in bytes.
pub const MAX_TARGET_BYTES: usize = 256;

/// Longest user agent or error message written to the log, in bytes.
pub const MAX_TEXT_BYTES: usize = 256;

/// What replaces the value of a credential query parameter.
pub const REDACTED: &str = "[redacted]";

/// Query parameter names whose values are credentials wherever they appear.
const CREDENTIAL_PARAMETERS: [&str; 18] = [
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "password",
    "passwd",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "key",
    "code",
    "signature",
    "sig",
    "auth",
    "authorization",
    "session",
    "jwt",
];

/// Whether a query parameter's value must not be logged: a known credential name, or a name
/// that says it holds one (`reset_token`, `x-api-key`, `hmac_signature`…).
pub fn is_credential_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    CREDENTIAL_PARAMETERS.contains(&name.as_str())
        || [
            "token",
            "secret",
            "password",
            "signature",
            "api_key",
            "apikey",
        ]
        .iter()
        .any(|part| name.contains(part))
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn truncate_on_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` cut to `max` bytes, saying how much was left out.
pub fn bounded(text: &str, max: usize) -> String {
    let kept = truncate_on_char_boundary(text, max);
    if kept.len() == text.len() {
        kept.to_owned()
    } else {
        format!("{kept}…[{} more bytes]", text.len() - kept.len())
    }
}

/// The query with the value of every credential parameter replaced by [`REDACTED`]; the names
/// and the other values stay as sent.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_credential_parameter(&decode_name(name)) => {
                format!("{name}={REDACTED}")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A parameter name as the server reads it (`access%5Ftoken` and `access_token` are one name).
fn decode_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', high, low]) => hex(*high).zip(hex(*low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                decoded.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            None => {
                decoded.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// The request target as logged: path and query, credentials redacted, then cut to
/// [`MAX_TARGET_BYTES`].
pub fn loggable_target(path: &str, query: &str) -> String {
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", redact_query(query))
    };
    bounded(&target, MAX_TARGET_BYTES)
}

/// The tracing-actix-web root span of this service (see the module comment).
pub struct RequestLog;

impl RootSpanBuilder for RequestLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The field values are computed only when the span is enabled (tracing's macros are
        // lazy), so a node logging at WARN pays nothing for them.
        tracing::info_span!(
            "HTTP request",
            http.method = method_label(request.method()),
            http.route = %request
                .match_pattern()
                .unwrap_or_else(|| crate::http::metrics::UNMATCHED.to_owned()),
            http.target = %loggable_target(request.path(), request.query_string()),
            http.client_ip = %request
                .peer_addr()
                .map(|addr| addr.ip().to_string())
                .unwrap_or_default(),
            http.user_agent = %request
                .headers()
                .get(actix_web::http::header::USER_AGENT)
                .map(|value| bounded(&String::from_utf8_lossy(value.as_bytes()), MAX_TEXT_BYTES))
                .unwrap_or_default(),
            http.status_code = tracing::field::Empty,
            request_id = %request
                .extensions()
                .get::<RequestId>()
                .map(ToString::to_string)
                .unwrap_or_default(),
            exception.message = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        if span.is_disabled() {
            return;
        }
        let (status, error) = match outcome {
            Ok(response) => (
                response.status(),
                response
                    .response()
                    .error()
                    .map(|err| bounded(&err.to_string(), MAX_TEXT_BYTES)),
            ),
            Err(err) => (
                err.as_response_error().status_code(),
                Some(bounded(&err.to_string(), MAX_TEXT_BYTES)),
            ),
        };
        span.record("http.status_code", status.as_u16());
        if let Some(message) = &error {
            span.record("exception.message", message.as_str());
        }
        span.in_scope(|| match level_for(status) {
            Some(tracing::Level::ERROR) => {
                tracing::error!(status = status.as_u16(), "request failed")
            }
            Some(_) => tracing::debug!(status = status.as_u16(), "request refused"),
            None => {}
        });
    }
}

/// The level of the event ending a request with `status`; `None` for success.
pub fn level_for(status: StatusCode) -> Option<tracing::Level> {
    if status.is_server_error() {
        Some(tracing::Level::ERROR)
    } else if status.is_client_error() {
        Some(tracing::Level::DEBUG)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_values_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_query("status=open&access_token=eyJabc.def&limit=5"),
            "status=open&access_token=[redacted]&limit=5"
        );
        assert_eq!(
            redact_query("Access%5FToken=x&API-KEY=y&reset_token=z&q=token"),
            "Access%5FToken=[redacted]&API-KEY=[redacted]&reset_token=[redacted]&q=token"
        );
        assert_eq!(redact_query("password=hunter2"), "password=[redacted]");
        assert_eq!(redact_query("flag&code="), "flag&code=[redacted]");
    }

    #[test]
    fn long_targets_are_cut_on_a_character_boundary() {
        let path = format!("/api/v1/{}", "é".repeat(4000));
        let logged = loggable_target(&path, "");
        let kept = logged.split('…').next().unwrap();
        assert!(kept.len() <= MAX_TARGET_BYTES);
        assert!(logged.len() < MAX_TARGET_BYTES + 40, "{}", logged.len());
        assert!(logged.ends_with(&format!("[{} more bytes]", path.len() - kept.len())));
        assert_eq!(truncate_on_char_boundary("aé", 2), "a");
        assert_eq!(loggable_target("/health", ""), "/health");
    }

    #[test]
    fn redaction_happens_before_truncation() {
        let query = format!("pad={}&access_token=secret-value", "x".repeat(240));
        let logged = loggable_target("/api/v1/events", &query);
        assert!(!logged.contains("secret"), "{logged}");
    }

    #[test]
    fn client_errors_are_debug_and_server_errors_error() {
        assert_eq!(
            level_for(StatusCode::NOT_FOUND),
            Some(tracing::Level::DEBUG)
        );
        assert_eq!(
            level_for(StatusCode::INTERNAL_SERVER_ERROR),
            Some(tracing::Level::ERROR)
        );
        assert_eq!(level_for(StatusCode::OK), None);
    }
}
