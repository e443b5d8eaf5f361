//! Channels: the ways tickets reach a tenant and its replies leave (an e-mail address, a
//! WhatsApp Business number, a Telegram bot, a web form, the API).
//!
//! `address` is what inbound traffic is routed by (the e-mail address, the WhatsApp phone
//! number id, the bot's user name): one channel per kind and address across all tenants.
//! `settings` holds the kind's plain settings as JSON; `secrets` holds its secrets, each sealed
//! with the service's key-encryption key, as a JSON object of sealed strings.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Channels {
    Table,
    Id,
    TenantId,
    Kind,
    Name,
    Enabled,
    DefaultGroupId,
    Priority,
    Tags,
    Locale,
    Address,
    Settings,
    Secrets,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .col(pk_uuid(Channels::Id))
                    .col(uuid(Channels::TenantId))
                    .col(string_len(Channels::Kind, 16))
                    .col(string_len(Channels::Name, 200))
                    .col(boolean(Channels::Enabled))
                    .col(uuid_null(Channels::DefaultGroupId))
                    .col(string_len_null(Channels::Priority, 16))
                    .col(text(Channels::Tags))
                    .col(string_len_null(Channels::Locale, 16))
                    .col(string_len_null(Channels::Address, 320))
                    .col(text(Channels::Settings))
                    .col(text(Channels::Secrets))
                    .col(timestamp_with_time_zone(Channels::CreatedAt))
                    .col(timestamp_with_time_zone(Channels::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Channels::Table, Channels::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Channels::Table, Channels::DefaultGroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_channels_tenant_name")
                    .table(Channels::Table)
                    .col(Channels::TenantId)
                    .col(Channels::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Both databases treat NULLs as distinct, so channels without an address (web, api)
        // never collide here.
        manager
            .create_index(
                Index::create()
                    .name("uq_channels_kind_address")
                    .table(Channels::Table)
                    .col(Channels::Kind)
                    .col(Channels::Address)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_channels_tenant_id")
                    .table(Channels::Table)
                    .col(Channels::TenantId)
                    .col(Channels::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Channels::Table).to_owned())
            .await
    }
}
