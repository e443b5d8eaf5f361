//! Custom ticket fields: a tenant defines them (text, number, dropdown, checkbox, date) and every
//! ticket write is checked against them.
pub mod dto;
pub mod routes;
pub mod service;
