//! Files attached to a ticket's conversation, and agents' saved ticket views.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Attachments {
    Table,
    Id,
    TenantId,
    TicketId,
    MessageId,
    FileName,
    ContentType,
    Size,
    Sha256,
    StorageKey,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketViews {
    Table,
    Id,
    TenantId,
    OwnerId,
    Name,
    Filters,
    Shared,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketMessages {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .if_not_exists()
                    .col(pk_uuid(Attachments::Id))
                    .col(uuid(Attachments::TenantId))
                    .col(uuid(Attachments::TicketId))
                    .col(uuid_null(Attachments::MessageId))
                    .col(string_len(Attachments::FileName, 255))
                    .col(string_len(Attachments::ContentType, 127))
                    .col(big_integer(Attachments::Size))
                    .col(string_len(Attachments::Sha256, 64))
                    .col(string_len(Attachments::StorageKey, 255))
                    .col(uuid(Attachments::UploadedBy))
                    .col(timestamp_with_time_zone(Attachments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::MessageId)
                            .to(TicketMessages::Table, TicketMessages::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attachments_tenant_ticket")
                    .table(Attachments::Table)
                    .col(Attachments::TenantId)
                    .col(Attachments::TicketId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attachments_tenant_message")
                    .table(Attachments::Table)
                    .col(Attachments::TenantId)
                    .col(Attachments::MessageId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_attachments_storage_key")
                    .table(Attachments::Table)
                    .col(Attachments::TenantId)
                    .col(Attachments::StorageKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TicketViews::Table)
                    .if_not_exists()
                    .col(pk_uuid(TicketViews::Id))
                    .col(uuid(TicketViews::TenantId))
                    .col(uuid(TicketViews::OwnerId))
                    .col(string_len(TicketViews::Name, 100))
                    .col(json(TicketViews::Filters))
                    .col(boolean(TicketViews::Shared))
                    .col(timestamp_with_time_zone(TicketViews::CreatedAt))
                    .col(timestamp_with_time_zone(TicketViews::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketViews::Table, TicketViews::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketViews::Table, TicketViews::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_ticket_views_tenant_owner_name")
                    .table(TicketViews::Table)
                    .col(TicketViews::TenantId)
                    .col(TicketViews::OwnerId)
                    .col(TicketViews::Name)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(TicketViews::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Attachments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
