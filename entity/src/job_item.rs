//! One ticket of a bulk job; its status is written in the same transaction as its effects, so
//! a resumed job never applies an item twice.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub job_id: Uuid,
    /// The job's tenant (the scope it ran in).
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// Order inside the job.
    pub position: i32,
    /// `pending`, `done` or `failed`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    /// The reply written for this ticket, if any.
    pub message_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
