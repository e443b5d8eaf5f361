//! Refuses text the database cannot store before any handler sees it. PostgreSQL's text
//! columns hold no U+0000 (it fails the whole statement), so a NUL in a query value or in any
//! string of a JSON body is answered here, on both databases alike: 400 naming the query
//! parameter, 422 naming the JSON path of the string.
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::{HttpMessage, ResponseError};
use serde_json::Value;

/// Middleware: refuses a NUL in a query parameter (name or value) or in a JSON body's strings.
///
/// # Errors
/// Passes the inner service's errors through.
pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(err) = nul_in_query(req.query_string()) {
        return Ok(req.into_response(err.error_response()));
    }
    if !is_json(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(usize::MAX, |state| state.settings.http.max_body_bytes);
    let body = match super::body::read_whole(&mut req, limit).await {
        Ok(body) => body,
        Err(err) => return Ok(req.into_response(err.error_response())),
    };
    if let Some(err) = nul_in_json(&body) {
        return Ok(req.into_response(err.error_response()));
    }
    req.set_payload(actix_http::Payload::from(body));
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Whether the body is declared JSON (`application/json` or a `+json` type), as the JSON
/// extractor reads it.
fn is_json(req: &ServiceRequest) -> bool {
    matches!(req.mime_type(), Ok(Some(mime))
        if mime.subtype() == actix_web::mime::JSON || mime.suffix() == Some(actix_web::mime::JSON))
}

/// A 400 naming the first query parameter whose name or decoded value holds a NUL.
fn nul_in_query(query: &str) -> Option<ApiError> {
    // Only a percent-encoded NUL decodes to one; skip the decoding for every other query.
    if !query.contains("%00") {
        return None;
    }
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).ok()?;
    pairs
        .iter()
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| {
            let name = name.replace('\0', "\\0");
            ApiError::bad_request(
                ErrorCode::InvalidQuery,
                format!("query parameter `{name}` contains a NUL character (U+0000)"),
            )
        })
}

/// A 422 naming the JSON path of the first string (or object key) holding a NUL.
fn nul_in_json(body: &[u8]) -> Option<ApiError> {
    // A NUL can only be written `\u0000` in JSON (a raw one is malformed and the extractor
    // answers 400), so bodies without that text are not parsed twice.
    if !body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    // Malformed JSON is the extractor's to answer.
    let value: Value = serde_json::from_slice(body).ok()?;
    let path = nul_path(&value, String::new())?;
    let field = if path.is_empty() {
        "body".to_owned()
    } else {
        path
    };
    Some(ApiError::invalid(
        field,
        "must not contain a NUL character (U+0000)",
    ))
}

/// The dotted path (`requester.email`, `tags[2]`) of the first string holding a NUL, if any.
fn nul_path(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_path(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let key_path = if path.is_empty() {
                key.replace('\0', "\\0")
            } else {
                format!("{path}.{}", key.replace('\0', "\\0"))
            };
            if key.contains('\0') {
                Some(key_path)
            } else {
                nul_path(item, key_path)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: &str) -> Option<String> {
        match nul_in_json(body.as_bytes())? {
            ApiError::Validation { errors, .. } => Some(errors[0].field.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_paths_name_the_string() {
        assert_eq!(
            field(r#"{"subject":"a\u0000b"}"#).as_deref(),
            Some("subject")
        );
        assert_eq!(
            field(r#"{"requester":{"email":"a\u0000@x.example"}}"#).as_deref(),
            Some("requester.email")
        );
        assert_eq!(
            field(r#"{"tags":["ok","b\u0000"]}"#).as_deref(),
            Some("tags[1]")
        );
        assert_eq!(field(r#""\u0000""#).as_deref(), Some("body"));
        assert_eq!(
            field(r#"{"custom_fields":{"k\u0000":1}}"#).as_deref(),
            Some("custom_fields.k\\0")
        );
    }

    #[test]
    fn an_escaped_backslash_is_not_a_nul() {
        assert_eq!(field(r#"{"subject":"C:\\u0000"}"#), None);
        assert_eq!(field(r#"{"subject":"plain"}"#), None);
        assert_eq!(field("not json \\u0000"), None);
    }

    #[test]
    fn query_values_and_names_are_checked() {
        assert!(nul_in_query("q=a%00b").is_some());
        assert!(nul_in_query("a%00=1").is_some());
        assert!(nul_in_query("q=a%2500b").is_none());
        assert!(nul_in_query("q=ab").is_none());
    }
}
