//! Custom ticket fields: a tenant's definitions, and each ticket's values.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum TicketFields {
    Table,
    Id,
    TenantId,
    Key,
    Label,
    FieldType,
    Options,
    Required,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    CustomFields,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TicketFields::Table)
                    .if_not_exists()
                    .col(pk_uuid(TicketFields::Id))
                    .col(uuid(TicketFields::TenantId))
                    .col(string_len(TicketFields::Key, 64))
                    .col(string_len(TicketFields::Label, 200))
                    .col(string_len(TicketFields::FieldType, 16))
                    .col(json(TicketFields::Options))
                    .col(boolean(TicketFields::Required))
                    .col(timestamp_with_time_zone(TicketFields::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketFields::Table, TicketFields::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_ticket_fields_tenant_key")
                    .table(TicketFields::Table)
                    .col(TicketFields::TenantId)
                    .col(TicketFields::Key)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(text(Tickets::CustomFields).default("{}"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .drop_column(Tickets::CustomFields)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(TicketFields::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
