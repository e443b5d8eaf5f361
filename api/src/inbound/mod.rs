//! Messages arriving from outside through a tenant's channels: raw mail posted by a relay
//! becomes a ticket or joins one, through the tickets' one write path.
pub mod dto;
pub mod mail;
pub mod routes;
pub mod service;
