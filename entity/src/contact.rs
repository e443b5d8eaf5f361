//! A requester: a student or employee who writes in through some channel.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// Lower-cased; unique per tenant.
    pub email: Option<String>,
    /// E.164; unique per tenant.
    pub phone: Option<String>,
    /// WhatsApp id; unique per tenant.
    pub whatsapp_id: Option<String>,
    /// Telegram id; unique per tenant.
    pub telegram_id: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub company_id: Option<Uuid>,
    /// Set on the contact that stands for a linked tenant (the requester of tickets escalated
    /// from it or routed to it); unique per tenant.
    pub stands_for_tenant_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
