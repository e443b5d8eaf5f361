//! Business-hours calendars, and what groups need for automatic assignment and hand-off: a
//! calendar, an assignment mode, the round-robin cursor and the auto hand-off flag.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum BusinessCalendars {
    Table,
    Id,
    TenantId,
    Name,
    TimeZone,
    AlwaysOpen,
    Intervals,
    Holidays,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    TenantId,
    CalendarId,
    AssignmentMode,
    AutoHandoff,
    LastAssignedUserId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BusinessCalendars::Table)
                    .if_not_exists()
                    .col(pk_uuid(BusinessCalendars::Id))
                    .col(uuid(BusinessCalendars::TenantId))
                    .col(string_len(BusinessCalendars::Name, 200))
                    .col(string_len(BusinessCalendars::TimeZone, 64))
                    .col(boolean(BusinessCalendars::AlwaysOpen))
                    .col(json(BusinessCalendars::Intervals))
                    .col(json(BusinessCalendars::Holidays))
                    .col(timestamp_with_time_zone(BusinessCalendars::CreatedAt))
                    .col(timestamp_with_time_zone(BusinessCalendars::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BusinessCalendars::Table, BusinessCalendars::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_business_calendars_tenant_name")
                    .table(BusinessCalendars::Table)
                    .col(BusinessCalendars::TenantId)
                    .col(BusinessCalendars::Name)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // Groups refer to calendars without a foreign key (they cannot be added by
        // `alter_table` on SQLite); the service checks the reference and refuses deleting a
        // calendar still in use.
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(uuid_null(Groups::CalendarId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(string_len(Groups::AssignmentMode, 16).default("manual"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(boolean(Groups::AutoHandoff).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(uuid_null(Groups::LastAssignedUserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_groups_tenant_calendar")
                    .table(Groups::Table)
                    .col(Groups::TenantId)
                    .col(Groups::CalendarId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_groups_tenant_calendar")
                    .table(Groups::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Groups::LastAssignedUserId,
            Groups::AutoHandoff,
            Groups::AssignmentMode,
            Groups::CalendarId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Groups::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(BusinessCalendars::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
