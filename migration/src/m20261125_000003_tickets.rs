//! Companies, contacts, tickets with per-tenant numbers, their conversation and history.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Companies {
    Table,
    Id,
    TenantId,
    Name,
    Domains,
    Tier,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    Id,
    TenantId,
    Name,
    Email,
    Phone,
    WhatsappId,
    TelegramId,
    Locale,
    TimeZone,
    CompanyId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketCounters {
    Table,
    TenantId,
    LastNumber,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tickets {
    Table,
    Id,
    TenantId,
    Number,
    Subject,
    Description,
    Status,
    Priority,
    TicketType,
    Tags,
    Source,
    RequesterId,
    CompanyId,
    GroupId,
    AssigneeId,
    Version,
    CreatedAt,
    UpdatedAt,
    FirstRespondedAt,
    ResolvedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketMessages {
    Table,
    Id,
    TenantId,
    TicketId,
    Kind,
    AuthorUserId,
    AuthorContactId,
    BodyText,
    BodyHtml,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TicketActivities {
    Table,
    Id,
    TenantId,
    TicketId,
    ActorType,
    ActorId,
    Field,
    OldValue,
    NewValue,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    Id,
}

fn to_tenant<T: IntoIden + Copy, C: IntoIden + Copy>(
    table: T,
    column: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn index<T: IntoIden + Copy, C: IntoIden + Copy>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table).if_not_exists();
    for column in columns {
        statement.col(*column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Companies::Table)
                    .if_not_exists()
                    .col(pk_uuid(Companies::Id))
                    .col(uuid(Companies::TenantId))
                    .col(string_len(Companies::Name, 200))
                    .col(json(Companies::Domains))
                    .col(string_len(Companies::Tier, 16))
                    .col(text_null(Companies::Notes))
                    .col(timestamp_with_time_zone(Companies::CreatedAt))
                    .col(timestamp_with_time_zone(Companies::UpdatedAt))
                    .foreign_key(&mut to_tenant(Companies::Table, Companies::TenantId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_companies_tenant_name",
            Companies::Table,
            &[Companies::TenantId, Companies::Name],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .if_not_exists()
                    .col(pk_uuid(Contacts::Id))
                    .col(uuid(Contacts::TenantId))
                    .col(string_len(Contacts::Name, 200))
                    .col(string_len_null(Contacts::Email, 254))
                    .col(string_len_null(Contacts::Phone, 20))
                    .col(string_len_null(Contacts::WhatsappId, 64))
                    .col(string_len_null(Contacts::TelegramId, 64))
                    .col(string_len_null(Contacts::Locale, 16))
                    .col(string_len_null(Contacts::TimeZone, 64))
                    .col(uuid_null(Contacts::CompanyId))
                    .col(timestamp_with_time_zone(Contacts::CreatedAt))
                    .col(timestamp_with_time_zone(Contacts::UpdatedAt))
                    .foreign_key(&mut to_tenant(Contacts::Table, Contacts::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Contacts::Table, Contacts::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("uq_contacts_tenant_email", Contacts::Email),
            ("uq_contacts_tenant_phone", Contacts::Phone),
            ("uq_contacts_tenant_whatsapp", Contacts::WhatsappId),
            ("uq_contacts_tenant_telegram", Contacts::TelegramId),
        ] {
            index(
                manager,
                name,
                Contacts::Table,
                &[Contacts::TenantId, column],
                true,
            )
            .await?;
        }
        index(
            manager,
            "idx_contacts_tenant_company",
            Contacts::Table,
            &[Contacts::TenantId, Contacts::CompanyId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketCounters::Table)
                    .if_not_exists()
                    .col(pk_uuid(TicketCounters::TenantId))
                    .col(big_integer(TicketCounters::LastNumber))
                    .foreign_key(&mut to_tenant(
                        TicketCounters::Table,
                        TicketCounters::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .if_not_exists()
                    .col(pk_uuid(Tickets::Id))
                    .col(uuid(Tickets::TenantId))
                    .col(big_integer(Tickets::Number))
                    .col(string_len(Tickets::Subject, 300))
                    .col(text(Tickets::Description))
                    .col(string_len(Tickets::Status, 16))
                    .col(string_len(Tickets::Priority, 16))
                    .col(string_len_null(Tickets::TicketType, 64))
                    .col(json(Tickets::Tags))
                    .col(string_len(Tickets::Source, 16))
                    .col(uuid(Tickets::RequesterId))
                    .col(uuid_null(Tickets::CompanyId))
                    .col(uuid_null(Tickets::GroupId))
                    .col(uuid_null(Tickets::AssigneeId))
                    .col(integer(Tickets::Version))
                    .col(timestamp_with_time_zone(Tickets::CreatedAt))
                    .col(timestamp_with_time_zone(Tickets::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Tickets::FirstRespondedAt))
                    .col(timestamp_with_time_zone_null(Tickets::ResolvedAt))
                    .col(timestamp_with_time_zone_null(Tickets::ClosedAt))
                    .foreign_key(&mut to_tenant(Tickets::Table, Tickets::TenantId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::RequesterId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tickets::Table, Tickets::AssigneeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_tickets_tenant_number",
            Tickets::Table,
            &[Tickets::TenantId, Tickets::Number],
            true,
        )
        .await?;
        index(
            manager,
            "idx_tickets_tenant_status",
            Tickets::Table,
            &[Tickets::TenantId, Tickets::Status, Tickets::Id],
            false,
        )
        .await?;
        index(
            manager,
            "idx_tickets_tenant_requester",
            Tickets::Table,
            &[Tickets::TenantId, Tickets::RequesterId],
            false,
        )
        .await?;
        index(
            manager,
            "idx_tickets_tenant_assignee",
            Tickets::Table,
            &[Tickets::TenantId, Tickets::AssigneeId, Tickets::Status],
            false,
        )
        .await?;
        index(
            manager,
            "idx_tickets_tenant_created",
            Tickets::Table,
            &[Tickets::TenantId, Tickets::CreatedAt],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketMessages::Table)
                    .if_not_exists()
                    .col(pk_uuid(TicketMessages::Id))
                    .col(uuid(TicketMessages::TenantId))
                    .col(uuid(TicketMessages::TicketId))
                    .col(string_len(TicketMessages::Kind, 16))
                    .col(uuid_null(TicketMessages::AuthorUserId))
                    .col(uuid_null(TicketMessages::AuthorContactId))
                    .col(text(TicketMessages::BodyText))
                    .col(text(TicketMessages::BodyHtml))
                    .col(timestamp_with_time_zone(TicketMessages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketMessages::Table, TicketMessages::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_ticket_messages_ticket",
            TicketMessages::Table,
            &[
                TicketMessages::TenantId,
                TicketMessages::TicketId,
                TicketMessages::Id,
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketActivities::Table)
                    .if_not_exists()
                    .col(pk_uuid(TicketActivities::Id))
                    .col(uuid(TicketActivities::TenantId))
                    .col(uuid(TicketActivities::TicketId))
                    .col(string_len(TicketActivities::ActorType, 16))
                    .col(uuid_null(TicketActivities::ActorId))
                    .col(string_len(TicketActivities::Field, 64))
                    .col(json_null(TicketActivities::OldValue))
                    .col(json_null(TicketActivities::NewValue))
                    .col(timestamp_with_time_zone(TicketActivities::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TicketActivities::Table, TicketActivities::TicketId)
                            .to(Tickets::Table, Tickets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_ticket_activities_ticket",
            TicketActivities::Table,
            &[
                TicketActivities::TenantId,
                TicketActivities::TicketId,
                TicketActivities::Id,
            ],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TicketActivities::Table.into_iden(),
            TicketMessages::Table.into_iden(),
            Tickets::Table.into_iden(),
            TicketCounters::Table.into_iden(),
            Contacts::Table.into_iden(),
            Companies::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
