//! Cross-origin access for browser clients (the customer portal, an integrator's web app):
//! closed unless a deployment names its origins in `http.cors_allowed_origins`. Requests from
//! any other origin still reach the API (a server or a same-origin page may send `Origin`),
//! but their answers carry no `Access-Control-Allow-Origin`, so a browser keeps them from the
//! page; a preflight from such an origin is refused.
use actix_cors::Cors;
use actix_web::http::{Method, Uri, header};

/// Request headers a browser client may send.
const ALLOWED_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-api-key",
    "x-request-id",
];

/// Response headers a browser client may read: versions, pages, limits, new resources.
const EXPOSED_HEADERS: [&str; 8] = [
    "etag",
    "link",
    "location",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-request-id",
];

/// How long a browser may reuse a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 600;

/// Checks that every configured origin is a bare `scheme://host[:port]`.
///
/// # Errors
/// Names the first origin that is not one (a wildcard, a path, a missing scheme).
pub fn check_origins(origins: &[String]) -> anyhow::Result<()> {
    for origin in origins {
        let uri: Uri = origin
            .parse()
            .map_err(|_| anyhow::anyhow!("http.cors_allowed_origins: {origin:?} is not a URL"))?;
        let bare = uri.scheme().is_some()
            && uri.host().is_some()
            && uri.path_and_query().is_none_or(|p| p.as_str() == "/")
            && !origin.ends_with('/');
        if !bare {
            anyhow::bail!(
                "http.cors_allowed_origins: {origin:?} must be scheme://host[:port], without a path or wildcard"
            );
        }
    }
    Ok(())
}

/// The CORS middleware for these origins (none: every cross-origin read is blocked).
pub fn policy(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers(ALLOWED_HEADERS.map(header::HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS.map(header::HeaderName::from_static))
        .max_age(PREFLIGHT_MAX_AGE)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_origins_are_accepted() {
        let ok = ["https://portal.example.org", "http://localhost:3000"].map(String::from);
        assert!(check_origins(&ok).is_ok());
        for bad in [
            "*",
            "portal.example.org",
            "https://portal.example.org/",
            "https://portal.example.org/app",
        ] {
            assert!(check_origins(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
