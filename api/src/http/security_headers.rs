//! Browser-facing protections on every response: no MIME sniffing, no framing, no referrer,
//! a content security policy (a strict one for the API, one the offline Swagger UI can run
//! under for `/docs/`), and no caching of what `/api/v1` answers, since its answers carry
//! personal data.
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The policy of API answers: JSON and downloads never need to load or run anything.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of the Swagger UI under `/docs/`: its scripts, styles and the document come from
/// this server (the page has no inline script); the UI sets inline styles and uses `data:`
/// images; nothing may frame it.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Middleware: adds the headers; a header a handler set on purpose (e.g. the attachment
/// download's `Cache-Control`) is kept.
///
/// # Errors
/// Passes the inner service's errors through, with the headers added to the response they
/// become.
pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path().to_owned();
    match next.call(req).await {
        Ok(mut response) => {
            apply(&path, response.headers_mut());
            Ok(response)
        }
        Err(mut err) => {
            err.add_response_mapper(move |mut response| {
                apply(&path, response.headers_mut());
                response
            });
            Err(err)
        }
    }
}

/// Sets the headers a response to `path` gets, leaving those already present.
pub fn apply(path: &str, headers: &mut HeaderMap) {
    let docs = path == "/docs" || path.starts_with("/docs/");
    let csp = if docs { DOCS_CSP } else { API_CSP };
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, csp),
    ];
    for (name, value) in defaults {
        set_unless_present(headers, name, value);
    }
    if path == "/api/v1" || path.starts_with("/api/v1/") {
        set_unless_present(headers, header::CACHE_CONTROL, "no-store");
    }
}

fn set_unless_present(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_answers_are_not_stored_unless_a_handler_said_otherwise() {
        let mut headers = HeaderMap::new();
        apply("/api/v1/me", &mut headers);
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(
            headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            API_CSP
        );

        let mut download = HeaderMap::new();
        download.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        apply("/api/v1/attachments/x/content", &mut download);
        assert_eq!(
            download.get(header::CACHE_CONTROL).unwrap(),
            "private, no-store"
        );

        let mut docs = HeaderMap::new();
        apply("/docs/", &mut docs);
        assert_eq!(docs.get(header::CONTENT_SECURITY_POLICY).unwrap(), DOCS_CSP);
        assert!(docs.get(header::CACHE_CONTROL).is_none());
        assert_eq!(docs.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    }
}
