//! What a ticket is, apart from how the API writes it: its statuses, priorities, sources, the
//! kinds of its messages and links, and the vocabulary of its history. The request and response
//! bodies (`dto.rs`), the criteria reader and the services all use these.
use crate::http::api_enum::api_enum;

api_enum!(
    /// Where a ticket stands.
    TicketStatus {
        /// Waiting for an agent.
        Open => "open",
        /// Waiting for the requester.
        Pending => "pending",
        /// Waiting for a third party.
        OnHold => "on_hold",
        /// Answered; the requester may still reopen it.
        Resolved => "resolved",
        /// Done.
        Closed => "closed",
    }
);

api_enum!(
    /// How urgent a ticket is.
    TicketPriority {
        /// Low.
        Low => "low",
        /// Medium.
        Medium => "medium",
        /// High.
        High => "high",
        /// Urgent.
        Urgent => "urgent",
    }
);

api_enum!(
    /// The channel a ticket came through (replies leave through it).
    TicketSource {
        /// E-mail.
        Email => "email",
        /// WhatsApp Business.
        Whatsapp => "whatsapp",
        /// Telegram.
        Telegram => "telegram",
        /// Web form or portal.
        Web => "web",
        /// Chatbot hand-off.
        Chatbot => "chatbot",
        /// The API.
        Api => "api",
        /// Phone.
        Phone => "phone",
    }
);

api_enum!(
    /// How a ticket came to stand for another tenant's ticket.
    LinkKind {
        /// Handed up to the parent tenant.
        Escalation => "escalation",
        /// Handed down to a client organisation.
        Routing => "routing",
    }
);

api_enum!(
    /// What a message of a conversation is.
    MessageKind {
        /// From the requester.
        Incoming => "incoming",
        /// A public answer to the requester.
        Reply => "reply",
        /// Private, for agents only.
        Note => "note",
    }
);

api_enum!(
    /// Who made a change in a ticket's history.
    ActorType {
        /// A signed-in user (`actor_id` is the user).
        User => "user",
        /// An integrator's API key (`actor_id` is the key).
        ApiKey => "api_key",
        /// The operator at the command line.
        Operator => "operator",
        /// The server itself, e.g. a group's automatic assignment.
        Automation => "automation",
        /// A linked ticket in another tenant, whose answer or status reached this one.
        LinkedTicket => "linked_ticket",
        /// Someone on the support side, not named to client staff.
        Support => "support",
        /// A contact (a student or employee) writing through a channel (`actor_id` is the
        /// contact).
        Contact => "contact",
    }
);

api_enum!(
    /// What an entry of a ticket's history records: a field that changed, or an event.
    ActivityField {
        /// The ticket was created.
        Created => "created",
        /// A public reply was added.
        Reply => "reply",
        /// A private note was added.
        Note => "note",
        /// Status.
        Status => "status",
        /// Priority.
        Priority => "priority",
        /// Topic.
        TicketType => "ticket_type",
        /// Subject.
        Subject => "subject",
        /// Description.
        Description => "description",
        /// Tags.
        Tags => "tags",
        /// Requester.
        RequesterId => "requester_id",
        /// Company.
        CompanyId => "company_id",
        /// Group.
        GroupId => "group_id",
        /// Assignee.
        AssigneeId => "assignee_id",
        /// Custom fields.
        CustomFields => "custom_fields",
        /// Other tickets were merged into this one.
        Merged => "merged",
        /// This ticket was merged into another.
        MergedInto => "merged_into",
        /// Handed up to the parent tenant.
        Escalated => "escalated",
        /// Handed down to a client organisation.
        Routed => "routed",
        /// An answer arrived from the linked ticket.
        LinkedReply => "linked_reply",
    }
);

api_enum!(
    /// What an entry of the ticket event log records.
    EventKind {
        /// The ticket was created (by a person, an integration or a hand-off from another tenant).
        Created => "created",
        /// Fields other than status and assignee changed; `changes` lists each with its old and
        /// new value.
        Updated => "updated",
        /// The status changed.
        StatusChanged => "status_changed",
        /// The assignee changed (by a person or by the group's automatic assignment).
        Assigned => "assigned",
        /// A message joined the conversation: a reply, a note or an incoming message.
        MessageAdded => "message_added",
        /// Other tickets were merged into this one.
        Merged => "merged",
        /// This ticket was merged into another and closed.
        MergedInto => "merged_into",
        /// The ticket was handed to another tenant, which got a linked ticket.
        Linked => "linked",
    }
);

impl MessageKind {
    /// Whether the requester sees the message.
    pub fn is_public(self) -> bool {
        self != MessageKind::Note
    }

    /// Which way the message travels: `incoming` from the requester, `outgoing` to them, or
    /// `internal` among agents.
    pub fn direction(self) -> &'static str {
        match self {
            MessageKind::Incoming => "incoming",
            MessageKind::Reply => "outgoing",
            MessageKind::Note => "internal",
        }
    }
}

api_enum!(
    /// Who caused an entry of the ticket event log.
    EventActor {
        /// A signed-in user (`actor_id` is the user).
        User => "user",
        /// An integrator's API key (`actor_id` is the key).
        ApiKey => "api_key",
        /// The operator at the command line.
        Operator => "operator",
        /// The server's own rules, e.g. a group's automatic assignment.
        Automation => "automation",
        /// A linked ticket in another tenant reporting back.
        LinkedTicket => "linked_ticket",
        /// The tenant that escalated the ticket to this one.
        Escalation => "escalation",
        /// The tenant that routed the ticket down to this one.
        Routing => "routing",
    }
);
