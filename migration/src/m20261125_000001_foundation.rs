//! The foundation: tenant tree, branding, users, refresh tokens, password resets, API keys and
//! JWT signing keys.
//!
//! Tenant-owned tables carry `tenant_id` in every unique index so the schema can later be
//! distributed by `tenant_id`; `tenants` and `signing_keys` are small reference tables.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tenants {
    Table,
    Id,
    ParentId,
    Kind,
    Dedicated,
    Slug,
    Name,
    Region,
    Locales,
    DefaultLocale,
    TimeZone,
    Status,
    Path,
    Depth,
    SuspendedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum TenantBrandings {
    Table,
    TenantId,
    DisplayName,
    LogoUrl,
    PrimaryColor,
    AccentColor,
    EmailSenderName,
    EmailSignature,
    PortalDomain,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TenantId,
    Email,
    Name,
    Role,
    PasswordHash,
    Status,
    DeactivatedAt,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    TenantId,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PasswordResets {
    Table,
    Id,
    TenantId,
    UserId,
    TokenHash,
    CreatedBy,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    Prefix,
    KeyHash,
    Scopes,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SigningKeys {
    Table,
    Kid,
    Secret,
    CreatedAt,
    RetiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .if_not_exists()
                    .col(pk_uuid(Tenants::Id))
                    .col(uuid_null(Tenants::ParentId))
                    .col(string_len(Tenants::Kind, 16))
                    .col(boolean(Tenants::Dedicated).default(false))
                    .col(string_len_uniq(Tenants::Slug, 64))
                    .col(string_len(Tenants::Name, 200))
                    .col(string_len_null(Tenants::Region, 64))
                    .col(json(Tenants::Locales))
                    .col(string_len(Tenants::DefaultLocale, 16))
                    .col(string_len(Tenants::TimeZone, 64))
                    .col(string_len(Tenants::Status, 16))
                    .col(string_len(Tenants::Path, 1024))
                    .col(integer(Tenants::Depth))
                    .col(timestamp_with_time_zone_null(Tenants::SuspendedAt))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tenants::Table, Tenants::ParentId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_tenants_path",
            Tenants::Table,
            &[Tenants::Path],
            false,
        )
        .await?;
        index(
            manager,
            "idx_tenants_parent",
            Tenants::Table,
            &[Tenants::ParentId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TenantBrandings::Table)
                    .if_not_exists()
                    .col(pk_uuid(TenantBrandings::TenantId))
                    .col(string_len_null(TenantBrandings::DisplayName, 200))
                    .col(string_len_null(TenantBrandings::LogoUrl, 2048))
                    .col(string_len_null(TenantBrandings::PrimaryColor, 7))
                    .col(string_len_null(TenantBrandings::AccentColor, 7))
                    .col(string_len_null(TenantBrandings::EmailSenderName, 200))
                    .col(text_null(TenantBrandings::EmailSignature))
                    .col(string_len_null(TenantBrandings::PortalDomain, 253).unique_key())
                    .col(timestamp_with_time_zone(TenantBrandings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantBrandings::Table, TenantBrandings::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk_uuid(Users::Id))
                    .col(uuid(Users::TenantId))
                    .col(string_len(Users::Email, 254))
                    .col(string_len(Users::Name, 200))
                    .col(string_len(Users::Role, 32))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(string_len(Users::Status, 16))
                    .col(timestamp_with_time_zone_null(Users::DeactivatedAt))
                    .col(timestamp_with_time_zone(Users::PasswordChangedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_users_tenant_email",
            Users::Table,
            &[Users::TenantId, Users::Email],
            true,
        )
        .await?;
        index(
            manager,
            "idx_users_email",
            Users::Table,
            &[Users::Email],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .if_not_exists()
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::TenantId))
                    .col(uuid(RefreshTokens::UserId))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_refresh_tokens_family",
            RefreshTokens::Table,
            &[RefreshTokens::TenantId, RefreshTokens::FamilyId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PasswordResets::Table)
                    .if_not_exists()
                    .col(pk_uuid(PasswordResets::Id))
                    .col(uuid(PasswordResets::TenantId))
                    .col(uuid(PasswordResets::UserId))
                    .col(string_len_uniq(PasswordResets::TokenHash, 64))
                    .col(uuid(PasswordResets::CreatedBy))
                    .col(timestamp_with_time_zone(PasswordResets::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordResets::UsedAt))
                    .col(timestamp_with_time_zone(PasswordResets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordResets::Table, PasswordResets::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .if_not_exists()
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::TenantId))
                    .col(string_len(ApiKeys::Name, 200))
                    .col(string_len_uniq(ApiKeys::Prefix, 32))
                    .col(string_len(ApiKeys::KeyHash, 64))
                    .col(json(ApiKeys::Scopes))
                    .col(uuid_null(ApiKeys::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_api_keys_tenant",
            ApiKeys::Table,
            &[ApiKeys::TenantId, ApiKeys::Id],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .if_not_exists()
                    .col(string_len(SigningKeys::Kid, 64).primary_key())
                    .col(string_len(SigningKeys::Secret, 128))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            PasswordResets::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
            TenantBrandings::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Creates a (possibly unique) index; kept as one statement so both engines accept it.
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
