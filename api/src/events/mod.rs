//! Real-time ticket events for agents' screens, as a server-sent-events stream. With Redis the
//! events travel through its pub/sub, so a subscriber on any API node sees changes made on any
//! other; without it they stay in the process.
pub mod bus;
pub mod limit;
pub mod routes;
