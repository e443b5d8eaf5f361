//! The ticket event log, and the intake group of a tenant.
//!
//! Every change of a ticket appends one or more rows to `ticket_events` in the transaction of
//! the change; rows are never updated. `seq` is the reading order: on SQLite writers are
//! serialised, so `seq` follows commit order; on PostgreSQL a row may become visible after a
//! row with a higher `seq` (its transaction committed later), which readers handle by waiting
//! for every transaction older than a gap to end (see `api/src/events/log.rs`). `id` is a UUIDv7,
//! the event's identity for idempotent consumers and for `Last-Event-ID`.
//!
//! `tenants.intake_group_id` is the group that receives the tickets other tenants hand to a
//! tenant (escalation, routing), so they go through that group's automatic assignment.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum TicketEvents {
    Table,
    Seq,
    Id,
    TenantId,
    TicketId,
    Number,
    Kind,
    ActorType,
    ActorId,
    Version,
    Data,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
    IntakeGroupId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketEvents::Table)
                    .if_not_exists()
                    .col(
                        big_integer(TicketEvents::Seq)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(uuid(TicketEvents::Id).unique_key())
                    .col(uuid(TicketEvents::TenantId))
                    .col(uuid(TicketEvents::TicketId))
                    .col(big_integer(TicketEvents::Number))
                    .col(string_len(TicketEvents::Kind, 32))
                    .col(string_len(TicketEvents::ActorType, 32))
                    .col(uuid_null(TicketEvents::ActorId))
                    .col(integer(TicketEvents::Version))
                    .col(text(TicketEvents::Data))
                    .col(timestamp_with_time_zone(TicketEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketEvents::Table, TicketEvents::TenantId)
                            .to(Tenants::Table, Tenants::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketEvents::Table, TicketEvents::TicketId)
                            .to(Tickets::Table, Tickets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ticket_events_ticket")
                    .table(TicketEvents::Table)
                    .col(TicketEvents::TicketId)
                    .col(TicketEvents::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(uuid_null(Tenants::IntakeGroupId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::IntakeGroupId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TicketEvents::Table).to_owned())
            .await
    }
}
