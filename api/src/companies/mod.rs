//! Client organisations of a tenant (universities, companies): their e-mail domains link new
//! contacts to them, their tier drives routing and SLA.
pub mod dto;
pub mod routes;
pub mod service;
