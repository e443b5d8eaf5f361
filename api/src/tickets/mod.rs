//! Tickets: per-tenant numbers, fields, conversation (replies, notes, incoming messages) and the
//! history of every change.
pub mod change;
pub mod criteria;
pub mod domain;
pub mod dto;
pub mod html;
pub mod routes;
pub mod service;
pub mod word_sample;
pub mod writer;
