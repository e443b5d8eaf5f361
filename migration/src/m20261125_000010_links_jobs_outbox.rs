//! Links between tickets of different tenants (escalation up, routing down), contacts that
//! stand for a linked tenant, background jobs with their per-ticket items, and the outbox that
//! carries replies to the channels.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
    OriginTicketId,
    OriginTenantId,
    LinkKind,
    LinkedTicketId,
    LinkedTenantId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    TenantId,
    StandsForTenantId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    Id,
    TenantId,
    Kind,
    Status,
    Request,
    ActorType,
    ActorId,
    ActorTenantId,
    Total,
    Processed,
    Succeeded,
    Failed,
    LeaseUntil,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum JobItems {
    Table,
    Id,
    JobId,
    TenantId,
    TicketId,
    Position,
    Status,
    ErrorCode,
    ErrorDetail,
    MessageId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outbox {
    Table,
    Id,
    TenantId,
    TicketId,
    MessageId,
    Channel,
    ContactId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    CreatedAt,
    DeliveredAt,
}

async fn add_uuid_column(manager: &SchemaManager<'_>, column: Tickets) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Tickets::Table)
                .add_column(uuid_null(column))
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_uuid_column(manager, Tickets::OriginTicketId).await?;
        add_uuid_column(manager, Tickets::OriginTenantId).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(string_len_null(Tickets::LinkKind, 16))
                    .to_owned(),
            )
            .await?;
        add_uuid_column(manager, Tickets::LinkedTicketId).await?;
        add_uuid_column(manager, Tickets::LinkedTenantId).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tickets_origin")
                    .table(Tickets::Table)
                    .col(Tickets::OriginTicketId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(uuid_null(Contacts::StandsForTenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_contacts_stands_for")
                    .table(Contacts::Table)
                    .col(Contacts::TenantId)
                    .col(Contacts::StandsForTenantId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(pk_uuid(Jobs::Id))
                    .col(uuid(Jobs::TenantId))
                    .col(string_len(Jobs::Kind, 32))
                    .col(string_len(Jobs::Status, 16))
                    .col(text(Jobs::Request))
                    .col(string_len(Jobs::ActorType, 16))
                    .col(uuid_null(Jobs::ActorId))
                    .col(uuid(Jobs::ActorTenantId))
                    .col(integer(Jobs::Total))
                    .col(integer(Jobs::Processed))
                    .col(integer(Jobs::Succeeded))
                    .col(integer(Jobs::Failed))
                    .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::StartedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Jobs::Table, Jobs::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_jobs_status")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::LeaseUntil)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobItems::Table)
                    .if_not_exists()
                    .col(pk_uuid(JobItems::Id))
                    .col(uuid(JobItems::JobId))
                    .col(uuid(JobItems::TenantId))
                    .col(uuid(JobItems::TicketId))
                    .col(integer(JobItems::Position))
                    .col(string_len(JobItems::Status, 16))
                    .col(string_len_null(JobItems::ErrorCode, 64))
                    .col(text_null(JobItems::ErrorDetail))
                    .col(uuid_null(JobItems::MessageId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobItems::Table, JobItems::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_job_items_position")
                    .table(JobItems::Table)
                    .col(JobItems::JobId)
                    .col(JobItems::Position)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(pk_uuid(Outbox::Id))
                    .col(uuid(Outbox::TenantId))
                    .col(uuid(Outbox::TicketId))
                    .col(uuid(Outbox::MessageId))
                    .col(string_len(Outbox::Channel, 16))
                    .col(uuid(Outbox::ContactId))
                    .col(text(Outbox::Payload))
                    .col(string_len(Outbox::Status, 16))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_outbox_message")
                    .table(Outbox::Table)
                    .col(Outbox::MessageId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            JobItems::Table.into_iden(),
            Jobs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("uq_contacts_stands_for")
                    .table(Contacts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .drop_column(Contacts::StandsForTenantId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_tickets_origin")
                    .table(Tickets::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Tickets::OriginTicketId,
            Tickets::OriginTenantId,
            Tickets::LinkKind,
            Tickets::LinkedTicketId,
            Tickets::LinkedTenantId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tickets::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
