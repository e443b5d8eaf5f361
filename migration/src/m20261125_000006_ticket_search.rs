//! A lower-cased copy of a ticket's subject and description for word search. Lower-casing
//! happens in the application with Unicode rules: SQLite's `lower()` only knows ASCII, so
//! Cyrillic subjects would not match case-insensitively otherwise.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    SearchText,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .add_column(text(Tickets::SearchText).default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tickets::Table)
                    .drop_column(Tickets::SearchText)
                    .to_owned(),
            )
            .await
    }
}
