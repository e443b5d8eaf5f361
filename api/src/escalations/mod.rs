//! Tickets handed between tenants: escalated up to the parent tenant, or routed down to a client
//! organisation. The other tenant gets a linked ticket of its own with the conversation so far;
//! its public replies and status flow back to the origin; neither side reads the other's data.
pub mod dto;
pub mod routes;
pub mod service;
