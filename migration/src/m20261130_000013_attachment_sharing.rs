//! Attachments whose bytes are shared, and the sweep of uploads never sent.
//!
//! A linked ticket carries copies of the files of the conversation it was handed: new rows in
//! the other tenant pointing at the same stored bytes, which are removed only when no row uses
//! them any more. Asking "does any row still use this key" needs an index on the key alone, and
//! a key may now appear in several rows (even of one tenant, when a ticket travels up and back
//! down), so the unique `(tenant_id, storage_key)` index gives way to a plain one on the key.
//! Uploads that no message took are found by `message_id IS NULL` and their age.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Attachments {
    Table,
    TenantId,
    MessageId,
    StorageKey,
    CreatedAt,
}

async fn create(
    manager: &SchemaManager<'_>,
    name: &str,
    columns: &[Attachments],
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(Attachments::Table);
    for column in columns {
        statement.col(*column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}

async fn drop(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(name)
                .table(Attachments::Table)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, "uq_attachments_storage_key").await?;
        create(
            manager,
            "ix_attachments_storage_key",
            &[Attachments::StorageKey],
            false,
        )
        .await?;
        create(
            manager,
            "ix_attachments_unsent",
            &[Attachments::MessageId, Attachments::CreatedAt],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, "ix_attachments_unsent").await?;
        drop(manager, "ix_attachments_storage_key").await?;
        create(
            manager,
            "uq_attachments_storage_key",
            &[Attachments::TenantId, Attachments::StorageKey],
            true,
        )
        .await
    }
}
