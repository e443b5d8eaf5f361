//! Agents at work: availability (on shift, off shift, away) and the hand-off of open tickets
//! to colleagues on shift when a shift ends.
pub mod dto;
pub mod routes;
pub mod service;
