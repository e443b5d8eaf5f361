//! One recorded change of a ticket: who changed which field from what to what, and when.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// `user`, `api_key`, `operator` or `automation`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// The field, or an event such as `created` or `reply`.
    pub field: String,
    pub old_value: Option<Json>,
    pub new_value: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
