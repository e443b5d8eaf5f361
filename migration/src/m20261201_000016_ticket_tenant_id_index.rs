//! A `(tenant_id, id)` index: one tenant's tickets newest first, whatever their status.
//!
//! A word search (`q`) in a client tenant had only the primary key to walk in id order, reading
//! every tenant's newest tickets and dropping the others': for `q=camera exam` in the biggest
//! client of api/benches/list_1m.sh (~41,000 of 1,000,000 tickets) about 8,000 rows per page
//! (3.8 ms in the executor). Walking this index reads that tenant's tickets only, about 330
//! rows (0.7 ms). An unfiltered list of one tenant takes the same path.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    TenantId,
}

const NAME: &str = "idx_tickets_tenant_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Tickets::Table)
                    .col(Tickets::TenantId)
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
