//! Saved ticket views: an agent's named ticket-list filter, private or shared with the whole
//! tenant, run through the ticket list itself.
pub mod dto;
pub mod routes;
pub mod service;
