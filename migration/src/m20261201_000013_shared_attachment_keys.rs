//! Attachment rows may share stored bytes: a linked ticket's copy of a file (escalation up,
//! routing down, a reply flowing back as a note) is a row of the other tenant that names the same
//! `storage_key`, so the bytes are written once and removed with the last row naming them.
//!
//! The unique `(tenant_id, storage_key)` index goes: a file may come back to a tenant that
//! already holds it (a partner routes a client's escalated ticket back down to that client, and
//! its copy of the client's file lands beside the original). In its place an index on
//! `storage_key` alone answers "does any row, of any tenant, still name this key?" when a row is
//! deleted, without reading the table.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Attachments {
    Table,
    TenantId,
    StorageKey,
}

const UNIQUE: &str = "uq_attachments_storage_key";
const SHARED: &str = "ix_attachments_storage_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(UNIQUE)
                    .table(Attachments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(SHARED)
                    .table(Attachments::Table)
                    .col(Attachments::StorageKey)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(SHARED)
                    .table(Attachments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(UNIQUE)
                    .table(Attachments::Table)
                    .col(Attachments::TenantId)
                    .col(Attachments::StorageKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
