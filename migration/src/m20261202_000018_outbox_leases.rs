//! The outbox becomes a queue that leased workers take from, and that carries more than
//! replies.
//!
//! A row is no longer tied to one reply (`message_id`, `ticket_id` and `contact_id` may be
//! empty: a survey or a webhook is an outbox row too); it names the channel and the address it
//! goes to (`recipient`, e.g. the requester's e-mail); it carries the lease of the worker that
//! holds it (`lease_until`, and `lease_token`, which fences a worker that lost its lease out of
//! recording anything), the attempts made, the last error, the provider's message id and a
//! delivery status (`queued`, `sending`, `sent`, `delivered`, `read`, `failed`, `dead`).
//!
//! Rows written before keep their content: they leave through e-mail unless their ticket came
//! through WhatsApp or Telegram, to the requester's address on that channel.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Outbox {
    Table,
    Id,
    TenantId,
    TicketId,
    MessageId,
    Channel,
    Recipient,
    ContactId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LeaseToken,
    LastError,
    ProviderMessageId,
    CreatedAt,
    SentAt,
    DeliveredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
}

const OLD: &str = "outbox_before_leases";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["uq_outbox_message", "ix_outbox_due"] {
            manager
                .drop_index(Index::drop().name(name).table(Outbox::Table).to_owned())
                .await?;
        }
        manager
            .rename_table(
                Table::rename()
                    .table(Outbox::Table, Alias::new(OLD))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_uuid(Outbox::Id))
                    .col(uuid(Outbox::TenantId))
                    .col(uuid_null(Outbox::TicketId))
                    .col(uuid_null(Outbox::MessageId))
                    .col(string_len(Outbox::Channel, 16))
                    .col(string_len_null(Outbox::Recipient, 320))
                    .col(uuid_null(Outbox::ContactId))
                    .col(text(Outbox::Payload))
                    .col(string_len(Outbox::Status, 16))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::LeaseUntil))
                    .col(uuid_null(Outbox::LeaseToken))
                    .col(text_null(Outbox::LastError))
                    .col(string_len_null(Outbox::ProviderMessageId, 255))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
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
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO outbox (id, tenant_id, ticket_id, message_id, channel, recipient, \
                 contact_id, payload, status, attempts, next_attempt_at, created_at, delivered_at) \
                 SELECT o.id, o.tenant_id, o.ticket_id, o.message_id, \
                 CASE WHEN o.channel IN ('whatsapp', 'telegram') THEN o.channel ELSE 'email' END, \
                 CASE o.channel WHEN 'whatsapp' THEN c.whatsapp_id WHEN 'telegram' THEN c.telegram_id \
                 ELSE c.email END, \
                 o.contact_id, o.payload, \
                 CASE o.status WHEN 'pending' THEN 'queued' ELSE o.status END, \
                 o.attempts, o.next_attempt_at, o.created_at, o.delivered_at \
                 FROM {OLD} o LEFT JOIN contacts c ON c.id = o.contact_id"
            ))
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new(OLD)).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_outbox_message")
                    .table(Outbox::Table)
                    .col(Outbox::MessageId)
                    .unique()
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
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Rows without a reply cannot go back into the old shape.
        Err(DbErr::Migration(
            "the outbox cannot be turned back into a table of replies only".into(),
        ))
    }
}
