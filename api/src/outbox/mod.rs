//! The transactional outbox: what must leave the platform (replies to requesters, later surveys
//! and webhooks) is queued here in the transaction that stores it, and leaves through its
//! channel when this node's leased worker ([`worker`]) delivers it, with retries, dead-lettering
//! and a delivery status the conversation shows per message.
pub mod domain;
pub mod dto;
pub mod email;
pub mod routes;
pub mod service;
pub mod worker;
