//! Business hours: weekly opening intervals in an IANA time zone, with holidays; groups work
//! by them and SLA targets are measured in them.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "business_calendars")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Name, unique per tenant.
    pub name: String,
    /// IANA zone the intervals are read in, e.g. `Europe/Lisbon`.
    pub time_zone: String,
    /// Open around the clock every day (holidays still close it).
    pub always_open: bool,
    /// JSON array of `{"day": "mon", "start": "06:00", "end": "22:00"}`.
    pub intervals: Json,
    /// JSON array of `{"date": "2026-12-25", "name": "Christmas"}`.
    pub holidays: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
