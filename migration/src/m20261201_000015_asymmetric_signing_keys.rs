//! Access tokens are signed with Ed25519 instead of HMAC, and private keys are kept encrypted.
//!
//! The HMAC secrets of `signing_keys` were stored in clear and could not be published for
//! integrators to verify tokens with. The table is replaced by one holding an Ed25519 key pair
//! per row: the public key in clear (it is published at `/.well-known/jwks.json`) and the
//! private key sealed under the deployment's key-encryption key. The old HMAC keys cannot be
//! converted into key pairs, so they are dropped: access tokens issued before the upgrade stop
//! working at once (refresh tokens are opaque and keep working, so clients get a new access
//! token with one refresh). The first start after the upgrade creates the first new key.
//!
//! Revoked sessions are re-marked in the cache at start-up from `refresh_tokens.revoked_at`,
//! which gets an index for that.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SigningKeys {
    Table,
    Kid,
    Secret,
    Algorithm,
    PublicKey,
    PrivateKey,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    RevokedAt,
}

const REVOKED_INDEX: &str = "idx_refresh_tokens_revoked_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SigningKeys::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .if_not_exists()
                    .col(string_len(SigningKeys::Kid, 64).primary_key())
                    .col(string_len(SigningKeys::Algorithm, 16))
                    .col(string_len(SigningKeys::PublicKey, 128))
                    .col(string_len(SigningKeys::PrivateKey, 256))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RetiredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(REVOKED_INDEX)
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::RevokedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(REVOKED_INDEX)
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(SigningKeys::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        // The HMAC layout again, empty: the next start creates a fresh HMAC key.
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
            .await
    }
}
