//! Users of a tenant and its descendants: create, list, update roles, deactivate, reset passwords.
pub mod dto;
pub mod routes;
pub mod service;
