//! The helpdesk HTTP API: one module per capability, each with its routes (thin: extract,
//! authorise, call), its service (rules and scoped queries) and its DTOs.

pub mod agents;
pub mod api_keys;
pub mod assignment;
pub mod attachments;
pub mod auth;
pub mod backend;
pub mod cache;
pub mod calendars;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod companies;
pub mod config;
pub mod contacts;
pub mod error;
pub mod escalations;
pub mod events;
pub mod groups;
pub mod health;
pub mod http;
pub mod inbound;
pub mod jobs;
pub mod openapi;
pub mod outbox;
pub mod reports;
pub mod seed;
pub mod startup;
pub mod state;
pub mod tenancy;
pub mod ticket_fields;
pub mod tickets;
pub mod users;
pub mod views;
pub mod work;

pub use config::Settings;
pub use startup::Application;
