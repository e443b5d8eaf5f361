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
    /// `queued`, `running`, `completed`, `failed` or `dead` (every attempt failed; an admin may
    /// retry it).
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
    /// Without a token: a job whose attempt failed is not taken again before then (back-off).
    pub lease_until: Option<DateTimeUtc>,
    /// The token of the lease that holds the job; every write of its runner matches it.
    pub lease_token: Option<Uuid>,
    /// Attempts that failed since the job last committed a chunk.
    pub attempts: i32,
    /// The last failed attempt's error (kept until the job completes).
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
