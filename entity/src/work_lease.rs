//! A named lease on work one node at a time does for the whole service (a reader of the ticket
//! event log, a sweep), with the reader's stored position. Not tenant-owned.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "work_leases")]
pub struct Model {
    /// The work's name, such as `flow_back` or `upload_sweep`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// For a reader of the event log: the `seq` of the last entry it handled.
    pub position: i64,
    /// The holder's fencing token.
    pub lease_token: Option<Uuid>,
    /// The holder keeps it until then.
    pub lease_until: Option<DateTimeUtc>,
    /// The last failure, kept until the work succeeds again.
    pub last_error: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
