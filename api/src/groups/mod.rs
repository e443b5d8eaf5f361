//! Agent groups (support tiers L1/L2/L3 and teams) and who belongs to them.
pub mod dto;
pub mod routes;
pub mod service;
