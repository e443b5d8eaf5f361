//! Business-hours calendars: weekly opening intervals in an IANA time zone, with holidays, or
//! open around the clock. Groups work by them; SLA timing measures in them.
pub mod dto;
pub mod hours;
pub mod routes;
pub mod service;
