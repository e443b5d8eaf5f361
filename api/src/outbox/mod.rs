//! The transactional outbox: replies to requesters are queued here in the transaction that
//! stores them, and leave through the ticket's channel when a channel worker delivers them.
pub mod service;
