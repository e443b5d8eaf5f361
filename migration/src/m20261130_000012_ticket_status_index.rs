//! A status index in id order across tenants, for ticket lists over several tenants at once (a
//! partner's agents see their own and all their clients' tickets).
//!
//! Such a list (`tenant_id IN (the partner and its clients)`, a status, newest first) cannot read
//! the `(tenant_id, status, id)` index in id order, because it spans many tenants; PostgreSQL
//! walked the primary key backwards and read every ticket of every tenant until a page was full.
//! Measured with api/benches/list_1m.sh on 1,000,000 tickets: a partner agent's closed e-mail
//! tickets read ~6,000 rows for the first page (1.7 ms in the executor, p99 34 ms at 16
//! connections); walking `(status, id)` reads ~280 (0.5 ms, p99 17 ms). Single-tenant lists
//! keep using `(tenant_id, status, id)`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    Status,
}

const NAME: &str = "idx_tickets_status_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Tickets::Table)
                    .col(Tickets::Status)
                    .col(Tickets::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Tickets::Table).to_owned())
            .await
    }
}
