//! A JWT signing key pair of the deployment; the newest unretired key signs, retired keys still
//! verify (and stay published) until the tokens they signed have expired.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// The JWS algorithm, `EdDSA` (Ed25519).
    pub algorithm: String,
    /// The public key, base64url without padding (the JWK `x`).
    pub public_key: String,
    /// The private key sealed under the key-encryption key (never the key itself).
    pub private_key: String,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
