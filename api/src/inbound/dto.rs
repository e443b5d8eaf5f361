//! What the inbound endpoints answer.
use super::mail::Ignored;
use super::service::Outcome;
use crate::http::api_enum::api_enum;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

api_enum!(
    /// What became of a received message.
    InboundResult {
        /// It opened a ticket.
        Opened => "opened",
        /// It joined an existing ticket as an incoming message.
        Joined => "joined",
        /// It was received before; nothing more was stored.
        Duplicate => "duplicate",
        /// It is an auto-reply, a bounce or list mail: no ticket, no answer.
        Ignored => "ignored",
    }
);

api_enum!(
    /// Why a received message was ignored.
    IgnoredReason {
        /// An out-of-office or another machine's answer (`Auto-Submitted`, `X-Autoreply`).
        AutoReply => "auto_reply",
        /// Mass mail (`Precedence: bulk/junk/list`, `List-Id`).
        Bulk => "bulk",
        /// A delivery status notification.
        Bounce => "bounce",
        /// Mail the helpdesk sent, coming back.
        OwnMessage => "own_message",
    }
);

/// The answer to a relay that posted a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundOutcome {
    /// What became of it.
    pub result: InboundResult,
    /// The ticket it opened or joined (for a duplicate, once known).
    pub ticket_id: Option<Uuid>,
    /// That ticket's number.
    pub number: Option<i64>,
    /// The conversation message it became, when it joined a ticket.
    pub message_id: Option<Uuid>,
    /// Why it was ignored.
    pub reason: Option<IgnoredReason>,
}

impl From<Outcome> for InboundOutcome {
    fn from(outcome: Outcome) -> Self {
        let blank = |result| Self {
            result,
            ticket_id: None,
            number: None,
            message_id: None,
            reason: None,
        };
        match outcome {
            Outcome::Opened { ticket_id, number } => Self {
                ticket_id: Some(ticket_id),
                number: Some(number),
                ..blank(InboundResult::Opened)
            },
            Outcome::Joined {
                ticket_id,
                number,
                message_id,
            } => Self {
                ticket_id: Some(ticket_id),
                number: Some(number),
                message_id: Some(message_id),
                ..blank(InboundResult::Joined)
            },
            Outcome::Duplicate { ticket_id } => Self {
                ticket_id,
                ..blank(InboundResult::Duplicate)
            },
            Outcome::Ignored(why) => Self {
                reason: Some(match why {
                    Ignored::AutoReply => IgnoredReason::AutoReply,
                    Ignored::Bulk => IgnoredReason::Bulk,
                    Ignored::Bounce => IgnoredReason::Bounce,
                    Ignored::OwnMessage => IgnoredReason::OwnMessage,
                }),
                ..blank(InboundResult::Ignored)
            },
        }
    }
}
