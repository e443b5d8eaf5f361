//! A channel of a tenant: an e-mail address, a WhatsApp Business number, a Telegram bot, a web
//! form or the API, with what arriving tickets get and how replies leave.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// `email`, `whatsapp`, `telegram`, `web` or `api`.
    pub kind: String,
    pub name: String,
    pub enabled: bool,
    /// The group that arriving tickets go to.
    pub default_group_id: Option<Uuid>,
    /// The priority of arriving tickets (`low` ... `urgent`); the tenant's default when absent.
    pub priority: Option<String>,
    /// Tags of arriving tickets, a JSON array of strings.
    pub tags: String,
    /// The language arriving messages are assumed to be in, when they do not tell.
    pub locale: Option<String>,
    /// What inbound traffic is routed by: the e-mail address (lower case), the WhatsApp phone
    /// number id or the bot's user name (lower case); none for web and API channels.
    pub address: Option<String>,
    /// The kind's plain settings, a JSON object.
    pub settings: String,
    /// The kind's secrets, a JSON object of name to sealed text; never leaves the service.
    pub secrets: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
