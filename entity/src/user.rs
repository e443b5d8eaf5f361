//! A person who signs in: an agent, supervisor, admin or a client organisation's staff.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Stored lower-cased; unique per tenant.
    pub email: String,
    pub name: String,
    /// `platform_admin`, `tenant_admin`, `supervisor`, `agent` or `client_admin`.
    pub role: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// `active` or `deactivated`.
    pub status: String,
    pub deactivated_at: Option<DateTimeUtc>,
    /// `on_shift`, `off_shift` or `away`.
    pub availability: String,
    pub password_changed_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
