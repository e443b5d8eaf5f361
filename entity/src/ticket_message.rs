//! One entry of a ticket's conversation: an incoming message, a public reply or a private note.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    /// `incoming`, `reply` or `note`.
    pub kind: String,
    pub author_user_id: Option<Uuid>,
    pub author_contact_id: Option<Uuid>,
    pub body_text: String,
    /// Sanitised HTML.
    pub body_html: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
