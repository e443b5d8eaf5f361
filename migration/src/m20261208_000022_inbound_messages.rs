//! Messages received through a channel, by the id the sender gave them (an e-mail's
//! Message-ID): a provider delivering the same message twice stores it once, and a reply that
//! names an earlier message (`In-Reply-To`, `References`) joins that message's ticket.
//!
//! `ticket_id` is empty only while the message's ticket is being opened: the row is written
//! first, so two deliveries of one message cannot both open a ticket.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum InboundMessages {
    Table,
    Id,
    TenantId,
    ChannelId,
    ExternalId,
    TicketId,
    MessageId,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InboundMessages::Table)
                    .col(pk_uuid(InboundMessages::Id))
                    .col(uuid(InboundMessages::TenantId))
                    .col(uuid(InboundMessages::ChannelId))
                    .col(string_len(InboundMessages::ExternalId, 512))
                    .col(uuid_null(InboundMessages::TicketId))
                    .col(uuid_null(InboundMessages::MessageId))
                    .col(timestamp_with_time_zone(InboundMessages::ReceivedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboundMessages::Table, InboundMessages::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InboundMessages::Table, InboundMessages::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_inbound_messages_channel_external")
                    .table(InboundMessages::Table)
                    .col(InboundMessages::ChannelId)
                    .col(InboundMessages::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_inbound_messages_tenant_external")
                    .table(InboundMessages::Table)
                    .col(InboundMessages::TenantId)
                    .col(InboundMessages::ExternalId)
                    .to_owned(),
            )
            .await?;
        // Every public reply looks up its ticket's mails (to answer in their thread).
        manager
            .create_index(
                Index::create()
                    .name("idx_inbound_messages_tenant_ticket")
                    .table(InboundMessages::Table)
                    .col(InboundMessages::TenantId)
                    .col(InboundMessages::TicketId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InboundMessages::Table).to_owned())
            .await
    }
}
