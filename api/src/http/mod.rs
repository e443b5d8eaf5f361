//! Conventions every endpoint shares: pagination, idempotency, rate-limit headers, request ids,
//! query parameters that must be declared, text the database can store, conditional requests,
//! metrics, the request log, security headers, CORS and the 405/404 fallback.
pub mod api_enum;
pub mod body;
pub mod conditional;
pub mod cors;
pub mod idempotency;
pub mod input;
pub mod metrics;
pub mod pagination;
pub mod patch;
pub mod query;
pub mod rate_limit;
pub mod request_id;
pub mod request_log;
pub mod route_methods;
pub mod security_headers;
