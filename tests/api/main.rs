//! The integration suite: one binary, each test on its own server and database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod agents;
mod api_keys;
mod attachments;
mod auth;
mod bootstrap;
mod branding;
mod calendars;
mod channels;
mod client_history;
mod conditional;
mod contacts;
mod conventions;
mod delivery;
mod edge;
mod escalations;
mod event_readers;
mod events;
mod groups;
mod health;
mod input;
mod isolation;
mod jobs;
mod nodes;
mod openapi_doc;
mod passwords;
mod reports;
mod resilience;
mod smtp_sink;
mod take;
mod tenants;
mod ticket_events;
mod tickets;
mod tokens;
mod users;
mod views;
