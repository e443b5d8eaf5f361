//! sea-orm entities of the helpdesk: one module per table, no logic.
//!
//! Tenant-owned tables carry `tenant_id`; feature code reaches them only through the
//! scope-filtered helpers of the `tenants` crate.

pub mod api_key;
pub mod attachment;
pub mod business_calendar;
pub mod channel;
pub mod company;
pub mod contact;
pub mod group;
pub mod group_member;
pub mod inbound_message;
pub mod job;
pub mod job_item;
pub mod outbox;
pub mod password_reset;
pub mod refresh_token;
pub mod signing_key;
pub mod tenant;
pub mod tenant_branding;
pub mod ticket;
pub mod ticket_activity;
pub mod ticket_counter;
pub mod ticket_event;
pub mod ticket_field;
pub mod ticket_message;
pub mod ticket_view;
pub mod user;
pub mod work_lease;
