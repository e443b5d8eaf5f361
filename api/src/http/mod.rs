//! Conventions every endpoint shares: pagination, idempotency, rate-limit headers, request ids.
pub mod api_enum;
pub mod conditional;
pub mod idempotency;
pub mod pagination;
pub mod patch;
pub mod rate_limit;
pub mod request_id;
