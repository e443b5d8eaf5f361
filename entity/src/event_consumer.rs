//! The stored position of a durable consumer of the ticket event log.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_consumers")]
pub struct Model {
    /// The consumer's name, e.g. `flow_back`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The `seq` of the last event it handled.
    pub position: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
