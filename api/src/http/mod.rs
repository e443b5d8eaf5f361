//! Conventions every endpoint shares: pagination, idempotency, rate-limit headers, request ids,
//! query parameters that must be declared, and text the database can store.
pub mod api_enum;
pub mod conditional;
pub mod idempotency;
pub mod input;
pub mod pagination;
pub mod patch;
pub mod query;
pub mod rate_limit;
pub mod request_id;
