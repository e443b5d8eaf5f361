//! Tickets: per-tenant numbers, fields, conversation (replies, notes, incoming messages) and the
//! history of every change.
pub mod dto;
pub mod routes;
pub mod service;
pub mod writer;
