//! A group of agents: a support tier (L1/L2/L3) or a team.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// `l1`, `l2`, `l3` or `team`.
    pub kind: String,
    pub description: Option<String>,
    /// The business hours the group works, if any (a calendar of the same tenant).
    pub calendar_id: Option<Uuid>,
    /// `manual`, `round_robin` or `least_open`.
    pub assignment_mode: String,
    /// Whether an agent's open tickets of this group are handed over when the agent goes off
    /// shift.
    pub auto_handoff: bool,
    /// The round-robin cursor: the member who received the group's last automatic assignment.
    pub last_assigned_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
