//! A custom ticket field a tenant defines; it applies to the tenant's tickets and to those of
//! the tenants below it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_fields")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Machine name, unique per tenant: `exam_id`, `university`.
    pub key: String,
    pub label: String,
    /// `text`, `number`, `dropdown`, `checkbox` or `date`.
    pub field_type: String,
    /// JSON array of the allowed values of a dropdown.
    pub options: Json,
    pub required: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
