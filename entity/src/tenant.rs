//! A node of the tenant tree: the platform, a partner or a client organisation.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    /// `platform`, `partner` or `client`.
    pub kind: String,
    pub dedicated: bool,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub region: Option<String>,
    /// JSON array of BCP 47 locale tags.
    pub locales: Json,
    pub default_locale: String,
    pub time_zone: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Materialised path of ancestor ids and this id: `/root/…/self/`.
    pub path: String,
    pub depth: i32,
    pub suspended_at: Option<DateTimeUtc>,
    /// The group that receives tickets handed to this tenant by another (escalation, routing).
    pub intake_group_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
