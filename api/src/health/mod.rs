//! Liveness and readiness probes, and what a node answers before its database is there.
pub mod routes;
pub mod waiting;
