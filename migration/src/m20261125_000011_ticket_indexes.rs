//! Ticket indexes for lists and counts on millions of rows (measured with
//! api/benches/list_1m.sh on 1,000,000 tickets):
//! - a group's queue (`group_id` + `status`, newest first) and an agent's queue (`assignee_id` +
//!   `status`, newest first) read one index range in id order, so a page stops after its rows
//!   whatever page it is; the assignee index replaces the one without `id`;
//! - counts of a period by day, company or channel read only the index: `company_id` and
//!   `source` join `(tenant_id, created_at)`, which this index replaces.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
    TenantId,
    Status,
    GroupId,
    AssigneeId,
    CompanyId,
    Source,
    CreatedAt,
}

async fn create(manager: &SchemaManager<'_>, name: &str, columns: &[Tickets]) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(Tickets::Table).if_not_exists();
    for column in columns {
        statement.col(*column);
    }
    manager.create_index(statement.to_owned()).await
}

async fn drop(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(Tickets::Table).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            "idx_tickets_tenant_group_status_id",
            &[
                Tickets::TenantId,
                Tickets::GroupId,
                Tickets::Status,
                Tickets::Id,
            ],
        )
        .await?;
        create(
            manager,
            "idx_tickets_tenant_assignee_status_id",
            &[
                Tickets::TenantId,
                Tickets::AssigneeId,
                Tickets::Status,
                Tickets::Id,
            ],
        )
        .await?;
        drop(manager, "idx_tickets_tenant_assignee").await?;
        create(
            manager,
            "idx_tickets_tenant_created_company_source",
            &[
                Tickets::TenantId,
                Tickets::CreatedAt,
                Tickets::CompanyId,
                Tickets::Source,
            ],
        )
        .await?;
        drop(manager, "idx_tickets_tenant_created").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(
            manager,
            "idx_tickets_tenant_created",
            &[Tickets::TenantId, Tickets::CreatedAt],
        )
        .await?;
        drop(manager, "idx_tickets_tenant_created_company_source").await?;
        create(
            manager,
            "idx_tickets_tenant_assignee",
            &[Tickets::TenantId, Tickets::AssigneeId, Tickets::Status],
        )
        .await?;
        drop(manager, "idx_tickets_tenant_assignee_status_id").await?;
        drop(manager, "idx_tickets_tenant_group_status_id").await
    }
}
