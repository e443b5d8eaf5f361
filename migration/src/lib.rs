//! Schema migrations. The same set runs on SQLite and PostgreSQL, so every migration stays
//! portable: foreign keys only inside `create_table`, one change per `alter_table`.
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_foundation;
mod m20261125_000002_groups;
mod m20261125_000003_tickets;
mod m20261125_000004_ticket_merge;
mod m20261125_000005_availability;
mod m20261125_000006_ticket_search;
mod m20261125_000007_ticket_fields;
mod m20261125_000008_calendars;
mod m20261125_000009_attachments_views;
mod m20261125_000010_links_jobs_outbox;
mod m20261125_000011_ticket_indexes;
mod m20261130_000012_ticket_status_index;
mod m20261130_000013_attachment_sharing;
mod m20261201_000014_ticket_text_search;
mod m20261201_000015_asymmetric_signing_keys;
mod m20261201_000016_ticket_tenant_id_index;
mod m20261202_000017_ticket_events;
mod m20261202_000018_outbox_leases;
mod m20261202_000019_work_leases;
mod m20261202_000020_job_attempts;
mod m20261208_000021_channels;
mod m20261208_000022_inbound_messages;

/// Every migration of the product, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_groups::Migration),
            Box::new(m20261125_000003_tickets::Migration),
            Box::new(m20261125_000004_ticket_merge::Migration),
            Box::new(m20261125_000005_availability::Migration),
            Box::new(m20261125_000006_ticket_search::Migration),
            Box::new(m20261125_000007_ticket_fields::Migration),
            Box::new(m20261125_000008_calendars::Migration),
            Box::new(m20261125_000009_attachments_views::Migration),
            Box::new(m20261125_000010_links_jobs_outbox::Migration),
            Box::new(m20261125_000011_ticket_indexes::Migration),
            Box::new(m20261130_000012_ticket_status_index::Migration),
            Box::new(m20261130_000013_attachment_sharing::Migration),
            Box::new(m20261201_000014_ticket_text_search::Migration),
            Box::new(m20261201_000015_asymmetric_signing_keys::Migration),
            Box::new(m20261201_000016_ticket_tenant_id_index::Migration),
            Box::new(m20261202_000017_ticket_events::Migration),
            Box::new(m20261202_000018_outbox_leases::Migration),
            Box::new(m20261202_000019_work_leases::Migration),
            Box::new(m20261202_000020_job_attempts::Migration),
            Box::new(m20261208_000021_channels::Migration),
            Box::new(m20261208_000022_inbound_messages::Migration),
        ]
    }
}
