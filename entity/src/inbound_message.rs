//! A message received through a channel, by the id its sender gave it (an e-mail's
//! Message-ID), and the ticket (and conversation message) it became.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbound_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub channel_id: Uuid,
    /// The sender's id of the message, without angle brackets.
    pub external_id: String,
    /// The ticket it opened or joined; empty only while that ticket is being opened.
    pub ticket_id: Option<Uuid>,
    /// The conversation message it became; empty when it opened the ticket (its text is the
    /// ticket's description).
    pub message_id: Option<Uuid>,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
