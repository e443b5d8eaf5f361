//! Reports: ticket counts by company, channel, tag or day, for a period.
pub mod dto;
pub mod routes;
pub mod service;
