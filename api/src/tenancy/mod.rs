//! The tenant tree over HTTP: partners, clients and dedicated clients, their status and branding.
pub mod dto;
pub mod routes;
pub mod service;
