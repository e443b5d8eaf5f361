//! The integration suite: one binary, each test on its own server and database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod agents;
mod api_keys;
mod attachments;
mod auth;
mod bootstrap;
mod branding;
mod calendars;
mod contacts;
mod conventions;
mod edge;
mod escalations;
mod events;
mod groups;
mod health;
mod isolation;
mod jobs;
mod nodes;
mod openapi_doc;
mod reports;
mod tenants;
mod tickets;
mod users;
mod views;
