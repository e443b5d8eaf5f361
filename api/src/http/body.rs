//! Reading a request body whole inside a middleware that must look at it before the handler
//! does (the NUL check, the idempotency fingerprint), then handing it on.
use crate::error::ApiError;
use crate::error::ErrorCode;
use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;

/// Takes the body of `req`, refusing it once it passes `limit` bytes (413) or when the
/// connection breaks mid-body (400). Put it back with `req.set_payload` to pass it on.
///
/// # Errors
/// The problem to answer with instead of calling the handler.
pub async fn read_whole(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Err(ApiError::bad_request(
                ErrorCode::MalformedBody,
                "the request body could not be read",
            ));
        };
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
