//! Integrators' API keys: created with scopes, shown once, stored hashed, listed, revoked.
pub mod dto;
pub mod routes;
pub mod service;
