//! Named leases for work that one node at a time does for the whole service: each reader of the
//! ticket event log (its stored position is `position`, the `seq` of the last entry it
//! handled) and each periodic sweep.
//!
//! A row is held by the node whose `lease_token` it carries until `lease_until`; every write of
//! the holder matches the token, so a node that lost the lease writes nothing.
//!
//! Flow-back (a linked ticket's replies and status reaching its origin) used to be written in
//! the transaction of the change; it becomes a reader of the log here, and starts after the
//! entries already written, whose effects are in place.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum WorkLeases {
    Table,
    Name,
    Position,
    LeaseToken,
    LeaseUntil,
    LastError,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkLeases::Table)
                    .col(string_len(WorkLeases::Name, 64).primary_key())
                    .col(big_integer(WorkLeases::Position).default(0))
                    .col(uuid_null(WorkLeases::LeaseToken))
                    .col(timestamp_with_time_zone_null(WorkLeases::LeaseUntil))
                    .col(text_null(WorkLeases::LastError))
                    .col(timestamp_with_time_zone(WorkLeases::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // The one statement that needs both tables: seed the flow-back reader at the log's
        // current head. Plain SQL that both databases read alike.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO work_leases (name, position, updated_at) \
                 SELECT 'flow_back', COALESCE(MAX(seq), 0), CURRENT_TIMESTAMP FROM ticket_events",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WorkLeases::Table).to_owned())
            .await
    }
}
