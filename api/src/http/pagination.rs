//! Cursor pagination: `?limit=&cursor=`, stable order by id (UUIDv7, so creation order: tickets
//! newest first, every other list oldest first), the next page's cursor in the body and in a
//! `Link: <…>; rel="next"` header.
use crate::error::ApiError;
use crate::error::ErrorCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Largest page.
pub const MAX_LIMIT: u64 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u64 = 25;

/// The paging part of a list query.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1-100 (default 25); outside that range a 422.
    #[param(minimum = 1, maximum = 100, default = 25)]
    pub limit: Option<u64>,
    /// Opaque cursor from the previous page's `next_cursor`; any other value is a 400
    /// `invalid_cursor`.
    pub cursor: Option<String>,
}

/// A checked page request.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    /// Items per page.
    pub limit: u64,
    /// Return items with ids after this one.
    pub after: Option<Uuid>,
}

impl PageQuery {
    /// Checks the limit and decodes the cursor.
    ///
    /// # Errors
    /// 422 for a limit out of range, 400 for a cursor that was not issued by this API.
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(decode_cursor(cursor)?),
        };
        Ok(PageRequest { limit, after })
    }
}

fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    let bad = || {
        ApiError::bad_request(
            ErrorCode::InvalidCursor,
            "the cursor is not one this API issued",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    Uuid::from_slice(&bytes).map_err(|_| bad())
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items in creation order: tickets newest first, every other list oldest first.
    pub items: Vec<T>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Builds the page from rows fetched with `limit + 1` (the extra row only says a next page
/// exists) and answers it with a `Link` header.
pub fn respond<R, T>(
    req: &HttpRequest,
    page: PageRequest,
    mut rows: Vec<R>,
    id: impl Fn(&R) -> Uuid,
    map: impl Fn(R) -> T,
) -> HttpResponse
where
    T: Serialize,
{
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if has_more {
        rows.last().map(|row| encode_cursor(id(row)))
    } else {
        None
    };
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        let mut query: Vec<(String, String)> = url_query_pairs(req.query_string())
            .into_iter()
            .filter(|(key, _)| key != "cursor" && key != "limit")
            .collect();
        query.push(("limit".into(), page.limit.to_string()));
        query.push(("cursor".into(), cursor.clone()));
        let query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        response.insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", req.path(), query),
        ));
    }
    response.json(Page {
        items: rows.into_iter().map(map).collect::<Vec<T>>(),
        next_cursor,
    })
}

fn url_query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (key.to_owned(), value.to_owned()),
            None => (pair.to_owned(), String::new()),
        })
        .collect()
}
