//! Real-time ticket events for agents' screens, as a server-sent-events stream. Every node
//! follows the ticket event log in the database ([`relay`]), so a subscriber on any API node
//! sees changes made on any other; the bus carries settings announcements between nodes.
pub mod bus;
pub mod consumer;
pub mod limit;
pub mod log;
pub mod relay;
pub mod routes;
