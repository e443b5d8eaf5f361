//! A background job (a bulk update or mass reply): what was asked, who asked, and how far it got.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The tenant of the principal that started it.
    pub tenant_id: Uuid,
    /// `ticket_bulk`.
    pub kind: String,
    /// `queued`, `running`, `completed` or `failed`.
    pub status: String,
    /// The request as JSON text (changes and reply), replayed when the job resumes.
    pub request: String,
    /// `user` or `api_key`.
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// The tenant whose scope the job acts in.
    pub actor_tenant_id: Uuid,
    pub total: i32,
    pub processed: i32,
    pub succeeded: i32,
    pub failed: i32,
    /// The node working the job holds it until then; a job whose lease ran out is resumed.
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
