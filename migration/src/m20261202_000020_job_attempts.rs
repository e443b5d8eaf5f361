//! Bulk jobs move onto the leased-worker facility the outbox uses (`api/src/work/`).
//!
//! A job carries the token of the lease that holds it (`lease_token`: every write of the
//! runner that claimed it matches the token, so a node that lost its lease writes nothing), the
//! attempts that failed since it last made progress (`attempts`) and the last error
//! (`last_error`). A job whose attempt failed waits out its back-off with `lease_until` set and
//! no token; after `jobs.max_attempts` it is `dead` (a new status; the column is free text)
//! with its remaining items pending, until an admin retries it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Jobs {
    Table,
    LeaseToken,
    Attempts,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in [
            uuid_null(Jobs::LeaseToken),
            integer(Jobs::Attempts).default(0).to_owned(),
            text_null(Jobs::LastError),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Jobs::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Jobs::LastError, Jobs::Attempts, Jobs::LeaseToken] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Jobs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
