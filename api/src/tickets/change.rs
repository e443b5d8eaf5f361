//! The one write path of tickets.
//!
//! Every change of a ticket row goes through this module, inside the caller's transaction:
//! creation (numbering and automatic assignment included), edits of fields, status and
//! assignee, messages (replies, notes, incoming), merges, hand-offs to another tenant and what
//! a linked ticket reports back to its origin. Each change bumps the ticket's version, writes
//! its history (`ticket_activities`, what people read), appends its events to the log
//! (`ticket_events`, what consumers read), keeps the response times and queues the outbox rows
//! of public replies. Callers check input and permissions and open the transaction; nothing
//! else writes a ticket, its history or its events.
use super::domain::{EventKind, MessageKind, TicketStatus};
use crate::auth::principal::{Actor as Caller, Principal};
use crate::error::{ApiError, ErrorCode};
use chrono::{DateTime, Utc};
use entity::{
    contact, tenant, ticket, ticket_activity, ticket_counter, ticket_event, ticket_message,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    Insert, IntoActiveModel, QueryFilter, Set,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use tenants::{Scope, Scoped, Why};
use uuid::Uuid;

/// Rows per multi-row INSERT or `IN` list.
const CHUNK: usize = 1000;

/// Who made a change, as the history and the event log record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// `user`, `api_key`, `operator`, `automation`, `linked_ticket`, `escalation`, `routing`,
    /// `contact`.
    pub kind: &'static str,
    /// The user or API key, when there is one.
    pub id: Option<Uuid>,
}

impl Actor {
    /// The caller of a request (or the stored caller of a job).
    pub fn of(principal: &Principal) -> Self {
        match &principal.actor {
            Caller::User { id, .. } => Self {
                kind: "user",
                id: Some(*id),
            },
            Caller::ApiKey { id, .. } => Self {
                kind: "api_key",
                id: Some(*id),
            },
            Caller::Operator => Self {
                kind: "operator",
                id: None,
            },
        }
    }

    /// A contact writing through a channel.
    pub fn contact(id: Uuid) -> Self {
        Self {
            kind: "contact",
            id: Some(id),
        }
    }

    /// The server's own rules, such as a group's automatic assignment.
    pub const AUTOMATION: Self = Self {
        kind: "automation",
        id: None,
    };

    /// A linked ticket in another tenant reporting back to its origin.
    pub const LINKED_TICKET: Self = Self {
        kind: "linked_ticket",
        id: None,
    };

    /// The tenant that handed a ticket on (`escalation` or `routing`), as the receiving tenant
    /// sees it: which tenant, not which of its people.
    pub fn hand_off(kind: super::domain::LinkKind) -> Self {
        Self {
            kind: kind.as_str(),
            id: None,
        }
    }
}

/// What one transaction records: history rows and log entries, inserted together by
/// [`Log::write`].
struct Log {
    now: DateTime<Utc>,
    history: Vec<ticket_activity::ActiveModel>,
    events: Vec<ticket_event::ActiveModel>,
}

impl Log {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            history: Vec::new(),
            events: Vec::new(),
        }
    }

    fn history(
        &mut self,
        actor: Actor,
        ticket: &ticket::Model,
        field: &str,
        old: Option<Value>,
        new: Option<Value>,
    ) {
        self.history.push(ticket_activity::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(ticket.tenant_id),
            ticket_id: Set(ticket.id),
            actor_type: Set(actor.kind.to_owned()),
            actor_id: Set(actor.id),
            field: Set(field.to_owned()),
            old_value: Set(old),
            new_value: Set(new),
            created_at: Set(self.now),
        });
    }

    /// An event about `ticket`, whose version after the change is `version`.
    fn event(
        &mut self,
        actor: Actor,
        ticket: &ticket::Model,
        version: i32,
        kind: EventKind,
        data: Value,
    ) {
        self.events.push(ticket_event::ActiveModel {
            seq: ActiveValue::NotSet,
            id: Set(Uuid::now_v7()),
            tenant_id: Set(ticket.tenant_id),
            ticket_id: Set(ticket.id),
            number: Set(ticket.number),
            kind: Set(kind.as_str().to_owned()),
            actor_type: Set(actor.kind.to_owned()),
            actor_id: Set(actor.id),
            version: Set(version),
            data: Set(data.to_string()),
            created_at: Set(self.now),
        });
    }

    /// The changed fields of one edit: a history row each; as events, `status_changed` and
    /// `assigned` of their own and one `updated` listing the rest.
    fn fields(&mut self, actor: Actor, ticket: &ticket::Model, version: i32, changes: &[Change]) {
        let mut rest = Vec::new();
        for change in changes {
            self.history(
                actor,
                ticket,
                change.field,
                Some(change.old.clone()),
                Some(change.new.clone()),
            );
            let data = json!({"old": change.old, "new": change.new});
            match change.field {
                "status" => self.event(actor, ticket, version, EventKind::StatusChanged, data),
                "assignee_id" => self.event(actor, ticket, version, EventKind::Assigned, data),
                field => rest.push(json!({"field": field, "old": change.old, "new": change.new})),
            }
        }
        if !rest.is_empty() {
            self.event(
                actor,
                ticket,
                version,
                EventKind::Updated,
                json!({"changes": rest}),
            );
        }
    }

    /// A message added to `ticket` (at `version` afterwards), with `extra` facts for the history
    /// (a job's id).
    fn message(
        &mut self,
        actor: Actor,
        ticket: &ticket::Model,
        version: i32,
        message: &ticket_message::Model,
        extra: Option<Value>,
    ) {
        let kind = message_kind(message);
        let mut entry = json!({"message_id": message.id});
        if let (Some(fields), Some(Value::Object(extra))) = (entry.as_object_mut(), extra) {
            fields.extend(extra);
        }
        self.history(actor, ticket, kind.as_str(), None, Some(entry));
        self.event(
            actor,
            ticket,
            version,
            EventKind::MessageAdded,
            json!({
                "message_id": message.id,
                "kind": kind.as_str(),
                "visibility": if kind.is_public() { "public" } else { "private" },
                "direction": kind.direction(),
            }),
        );
    }

    async fn write(self, txn: &DatabaseTransaction) -> Result<(), ApiError> {
        for rows in self.history.chunks(CHUNK) {
            Insert::many(rows.iter().cloned())
                .exec_without_returning(txn)
                .await?;
        }
        for rows in self.events.chunks(CHUNK) {
            Insert::many(rows.iter().cloned())
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }
}

fn message_kind(message: &ticket_message::Model) -> MessageKind {
    match message.kind.as_str() {
        "reply" => MessageKind::Reply,
        "incoming" => MessageKind::Incoming,
        _ => MessageKind::Note,
    }
}

// --- Creation -------------------------------------------------------------------------------

/// A checked ticket waiting for its number.
pub struct NewTicket {
    /// The ticket, with every field but `number` set.
    pub ticket: ticket::Model,
    /// Who creates it.
    pub actor: Actor,
    /// A scope narrowed to the ticket's tenant, for its own rows (counter, ticket, history).
    pub scope: Scope,
    /// The scope its group and agents are read through for automatic assignment: the caller's
    /// (a partner's group works its clients' tickets).
    pub assign_scope: Scope,
}

/// Numbers tickets of one tenant and stores them, each given to an agent first when its group
/// assigns automatically, with their `created` (and `assignee_id`) history and events, in the
/// caller's transaction. Holds the tenant's counter row lock until that transaction ends.
///
/// # Errors
/// Fails when the database refuses a ticket.
pub async fn create(
    txn: &DatabaseTransaction,
    news: &[&NewTicket],
) -> Result<Vec<ticket::Model>, ApiError> {
    let Some(first) = news.first() else {
        return Ok(Vec::new());
    };
    let tenant_id = first.ticket.tenant_id;
    let scope = &first.scope;
    let count = i64::try_from(news.len()).map_err(|e| ApiError::Internal(e.into()))?;
    let bump = || {
        ticket_counter::Entity::scoped_update(scope)
            .col_expr(
                ticket_counter::Column::LastNumber,
                Expr::col(ticket_counter::Column::LastNumber).add(count),
            )
            .filter(ticket_counter::Column::TenantId.eq(tenant_id))
    };
    let mut counters = bump().exec_with_returning(txn).await?;
    if counters.is_empty() {
        let start = ticket_counter::ActiveModel {
            tenant_id: Set(tenant_id),
            last_number: Set(0),
        };
        ticket_counter::Entity::insert(start)
            .on_conflict_do_nothing()
            .exec_without_returning(txn)
            .await?;
        counters = bump().exec_with_returning(txn).await?;
    }
    let last = counters
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("ticket counter missing")))?
        .last_number;
    let mut log = Log::new(first.ticket.created_at);
    let mut tickets = Vec::with_capacity(news.len());
    for (offset, new) in (0..count).zip(news) {
        let mut ticket = new.ticket.clone();
        ticket.number = last - count + 1 + offset;
        let picked = match (ticket.group_id, ticket.assignee_id) {
            (Some(_), None) => {
                crate::assignment::service::pick(
                    txn,
                    &new.assign_scope,
                    &ticket,
                    false,
                    ticket.created_at,
                )
                .await?
            }
            _ => None,
        };
        ticket.assignee_id = picked.or(ticket.assignee_id);
        log.history(
            new.actor,
            &ticket,
            "created",
            None,
            Some(json!({"number": ticket.number, "subject": ticket.subject, "status": ticket.status,
                        "priority": ticket.priority, "source": ticket.source, "requester_id": ticket.requester_id})),
        );
        log.event(
            new.actor,
            &ticket,
            ticket.version,
            EventKind::Created,
            json!({"number": ticket.number, "status": ticket.status, "priority": ticket.priority,
                   "source": ticket.source, "requester_id": ticket.requester_id,
                   "group_id": ticket.group_id, "assignee_id": ticket.assignee_id,
                   "origin_ticket_id": ticket.origin_ticket_id, "origin_tenant_id": ticket.origin_tenant_id}),
        );
        if let Some(pick) = picked {
            let change = Change {
                field: "assignee_id",
                old: Value::Null,
                new: json!(pick),
            };
            log.fields(Actor::AUTOMATION, &ticket, ticket.version, &[change]);
        }
        tickets.push(ticket);
    }
    for rows in tickets.chunks(CHUNK) {
        Insert::many(rows.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(txn)
            .await?;
    }
    log.write(txn).await?;
    Ok(tickets)
}

// --- Edits ----------------------------------------------------------------------------------

/// One changed field: its name in the history and its old and new values.
#[derive(Clone, Debug)]
pub struct Change {
    /// The field (`status`, `assignee_id`, `subject`, ...).
    pub field: &'static str,
    /// Before.
    pub old: Value,
    /// After.
    pub new: Value,
}

/// The changes of one ticket's fields, collected by comparing each new value with the ticket
/// as it was read; [`edit`] writes them.
pub struct Edit {
    found: ticket::Model,
    active: ticket::ActiveModel,
    changes: Vec<Change>,
    status: Option<TicketStatus>,
    /// The subject and description as they will be, once either changes.
    text: Option<(String, String)>,
}

impl Edit {
    /// An edit of `found`, so far changing nothing.
    pub fn of(found: &ticket::Model) -> Self {
        Self {
            found: found.clone(),
            active: found.clone().into(),
            changes: Vec::new(),
            status: None,
            text: None,
        }
    }

    /// The ticket as it was read.
    pub fn found(&self) -> &ticket::Model {
        &self.found
    }

    /// Whether anything would change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn text_mut(&mut self) -> &mut (String, String) {
        let found = &self.found;
        self.text
            .get_or_insert_with(|| (found.subject.clone(), found.description.clone()))
    }

    fn record(&mut self, field: &'static str, old: Value, new: Value) {
        self.changes.push(Change { field, old, new });
    }

    /// The subject.
    pub fn subject(&mut self, subject: String) {
        if subject != self.found.subject {
            self.record("subject", json!(self.found.subject), json!(subject));
            self.text_mut().0.clone_from(&subject);
            self.active.subject = Set(subject);
        }
    }

    /// The description.
    pub fn description(&mut self, description: String) {
        if description != self.found.description {
            self.record(
                "description",
                json!(self.found.description),
                json!(description),
            );
            self.text_mut().1.clone_from(&description);
            self.active.description = Set(description);
        }
    }

    /// The status; entering `resolved` or `closed` stamps its time.
    pub fn status(&mut self, status: TicketStatus) {
        if status.as_str() != self.found.status {
            self.record("status", json!(self.found.status), json!(status.as_str()));
            self.active.status = Set(status.as_str().to_owned());
            self.status = Some(status);
        }
    }

    /// The priority.
    pub fn priority(&mut self, priority: super::domain::TicketPriority) {
        if priority.as_str() != self.found.priority {
            self.record(
                "priority",
                json!(self.found.priority),
                json!(priority.as_str()),
            );
            self.active.priority = Set(priority.as_str().to_owned());
        }
    }

    /// The topic.
    pub fn ticket_type(&mut self, ticket_type: Option<String>) {
        if ticket_type != self.found.ticket_type {
            self.record(
                "ticket_type",
                json!(self.found.ticket_type),
                json!(ticket_type),
            );
            self.active.ticket_type = Set(ticket_type);
        }
    }

    /// The tags (already normalised).
    pub fn tags(&mut self, tags: Value) {
        if tags != self.found.tags {
            self.record("tags", self.found.tags.clone(), tags.clone());
            self.active.tags = Set(tags);
        }
    }

    /// The requester.
    pub fn requester(&mut self, requester_id: Uuid) {
        if requester_id != self.found.requester_id {
            self.record(
                "requester_id",
                json!(self.found.requester_id),
                json!(requester_id),
            );
            self.active.requester_id = Set(requester_id);
        }
    }

    /// The company.
    pub fn company(&mut self, company_id: Option<Uuid>) {
        if company_id != self.found.company_id {
            self.record(
                "company_id",
                json!(self.found.company_id),
                json!(company_id),
            );
            self.active.company_id = Set(company_id);
        }
    }

    /// The group.
    pub fn group(&mut self, group_id: Option<Uuid>) {
        if group_id != self.found.group_id {
            self.record("group_id", json!(self.found.group_id), json!(group_id));
            self.active.group_id = Set(group_id);
        }
    }

    /// The assignee.
    pub fn assignee(&mut self, assignee_id: Option<Uuid>) {
        if assignee_id != self.found.assignee_id {
            self.record(
                "assignee_id",
                json!(self.found.assignee_id),
                json!(assignee_id),
            );
            self.active.assignee_id = Set(assignee_id);
        }
    }

    /// The custom fields (already checked against their definitions).
    pub fn custom_fields(
        &mut self,
        current: serde_json::Map<String, Value>,
        updated: serde_json::Map<String, Value>,
    ) {
        if updated != current {
            self.record(
                "custom_fields",
                Value::Object(current),
                Value::Object(updated.clone()),
            );
            self.active.custom_fields = Set(Value::Object(updated).to_string());
        }
    }
}

/// What must still hold when an edit is written.
#[derive(Clone, Copy, Debug)]
pub enum Guard {
    /// The ticket is still at the version it was read at.
    Version,
    /// The ticket is still assigned to this agent (a hand-off at the end of a shift).
    AssignedTo(Uuid),
    /// The ticket is still requested by this contact (contacts being merged).
    RequestedBy(Uuid),
}

/// Writes an edit: the changed fields, a new version and the status's timestamp, the history
/// and the events (the flow-back reader of the log carries a linked ticket's new status to
/// its origin, see [`flow_back`]), and a move to another group without a chosen assignee (`reassign`) lets the new group assign. Returns
/// the ticket as it now is, or `None` when `guard` no longer held (nothing was written).
///
/// # Errors
/// Fails when the database does.
pub async fn edit(
    txn: &DatabaseTransaction,
    scope: &Scope,
    actor: Actor,
    edit: Edit,
    guard: Guard,
    reassign: bool,
    now: DateTime<Utc>,
) -> Result<Option<ticket::Model>, ApiError> {
    let Edit {
        found,
        mut active,
        changes,
        status,
        text,
    } = edit;
    if changes.is_empty() {
        return Ok(Some(found));
    }
    if let Some((subject, description)) = text {
        active.search_text = Set(super::service::search_text(&subject, &description));
    }
    if let Some(column) = status.and_then(super::service::status_stamp) {
        active.set(column, Some(now).into());
    }
    active.updated_at = Set(now);
    let mut update = ticket::Entity::scoped_update(scope)
        .set(active)
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .filter(ticket::Column::Id.eq(found.id));
    update = match guard {
        Guard::Version => update.filter(ticket::Column::Version.eq(found.version)),
        Guard::AssignedTo(agent) => update.filter(ticket::Column::AssigneeId.eq(agent)),
        Guard::RequestedBy(contact) => update.filter(ticket::Column::RequesterId.eq(contact)),
    };
    let Some(mut written) = update.exec_with_returning(txn).await?.pop() else {
        return Ok(None);
    };
    let mut log = Log::new(now);
    log.fields(actor, &written, written.version, &changes);
    let regrouped = changes.iter().any(|c| c.field == "group_id");
    if reassign
        && regrouped
        && let Some(pick) =
            crate::assignment::service::pick(txn, scope, &written, true, now).await?
    {
        written = assign(txn, scope, &mut log, &written, pick, now).await?;
    }
    log.write(txn).await?;
    Ok(Some(written))
}

/// Gives `found` to `pick` by automation, in the caller's transaction.
async fn assign(
    txn: &DatabaseTransaction,
    scope: &Scope,
    log: &mut Log,
    found: &ticket::Model,
    pick: Uuid,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let written = ticket::Entity::scoped_update(scope)
        .col_expr(ticket::Column::AssigneeId, Expr::value(pick))
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(found.id))
        .exec_with_returning(txn)
        .await?
        .pop()
        .ok_or(ApiError::NotFound("ticket"))?;
    let change = Change {
        field: "assignee_id",
        old: json!(found.assignee_id),
        new: json!(pick),
    };
    log.fields(Actor::AUTOMATION, &written, written.version, &[change]);
    Ok(written)
}

// --- Messages -------------------------------------------------------------------------------

/// A message to add to a ticket's conversation.
pub struct Post {
    /// The ticket, as read by the caller (not merged).
    pub ticket: ticket::Model,
    /// The message, ready to insert.
    pub message: ticket_message::Model,
    /// Uploaded files of the ticket the message carries.
    pub attachments: Vec<Uuid>,
    /// Extra facts for the history entry (the bulk job that wrote it).
    pub extra: Option<Value>,
}

/// Adds messages to conversations in the caller's transaction: each message, its files, a new
/// version of its ticket (a first public reply sets `first_responded_at`), its history entry
/// and `message_added` event, and for a public reply on a ticket that is not linked an outbox
/// row for the requester (a linked ticket's reply reaches its origin through [`flow_back`]).
/// One message or ten thousand (a mass
/// reply), the same rules.
///
/// # Errors
/// 422 naming `attachment_ids` for files that cannot be linked; fails when the database does.
pub async fn post(
    txn: &DatabaseTransaction,
    scope: &Scope,
    actor: Actor,
    posts: &[Post],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    for rows in posts.chunks(CHUNK) {
        Insert::many(rows.iter().map(|p| p.message.clone().into_active_model()))
            .exec_without_returning(txn)
            .await?;
    }
    for post in posts.iter().filter(|p| !p.attachments.is_empty()) {
        crate::attachments::service::link(
            txn,
            scope,
            &post.ticket,
            post.message.id,
            &post.attachments,
        )
        .await?;
    }
    let ids: Vec<Uuid> = posts.iter().map(|p| p.ticket.id).collect();
    let mut versions: HashMap<Uuid, i32> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = ticket::Entity::scoped_update(scope)
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.is_in(chunk.to_vec()))
            .exec_with_returning(txn)
            .await?;
        versions.extend(rows.into_iter().map(|t| (t.id, t.version)));
    }
    let first_answers: Vec<Uuid> = posts
        .iter()
        .filter(|p| p.message.kind == "reply" && p.ticket.first_responded_at.is_none())
        .map(|p| p.ticket.id)
        .collect();
    for chunk in first_answers.chunks(CHUNK) {
        ticket::Entity::scoped_update(scope)
            .col_expr(ticket::Column::FirstRespondedAt, Expr::value(now))
            .filter(ticket::Column::Id.is_in(chunk.to_vec()))
            .filter(ticket::Column::FirstRespondedAt.is_null())
            .exec(txn)
            .await?;
    }
    let requester_ids: Vec<Uuid> = posts
        .iter()
        .filter(|p| p.message.kind == "reply" && p.ticket.origin_ticket_id.is_none())
        .map(|p| p.ticket.requester_id)
        .collect();
    let mut requesters: HashMap<Uuid, contact::Model> = HashMap::new();
    for chunk in requester_ids.chunks(CHUNK) {
        let found = contact::Entity::scoped(scope)
            .filter(contact::Column::Id.is_in(chunk.to_vec()))
            .all(txn)
            .await?;
        requesters.extend(found.into_iter().map(|c| (c.id, c)));
    }
    let answered: Vec<Uuid> = posts
        .iter()
        .filter(|p| p.message.kind == "reply" && p.ticket.origin_ticket_id.is_none())
        .map(|p| p.ticket.id)
        .collect();
    let threads = crate::outbox::service::threads(txn, scope, &answered).await?;
    let mut log = Log::new(now);
    let mut deliveries = Vec::new();
    for post in posts {
        let version = versions
            .get(&post.ticket.id)
            .copied()
            .unwrap_or(post.ticket.version + 1);
        log.message(
            actor,
            &post.ticket,
            version,
            &post.message,
            post.extra.clone(),
        );
        if post.message.kind != "reply" {
            continue;
        }
        // A linked ticket's requester is the tenant that handed it on: the answer goes back to
        // that ticket (the flow-back reader of the event log carries it), not out through a
        // channel.
        if post.ticket.origin_ticket_id.is_none() {
            deliveries.push(crate::outbox::service::reply(
                &post.ticket,
                &post.message,
                requesters.get(&post.ticket.requester_id),
                threads.get(&post.ticket.id),
                now,
            ));
        }
    }
    for rows in deliveries.chunks(CHUNK) {
        Insert::many(rows.iter().cloned())
            .exec_without_returning(txn)
            .await?;
    }
    log.write(txn).await
}

// --- Erasure --------------------------------------------------------------------------------

/// Blanks the requester's text on `tickets` when their personal data is erased on request:
/// subjects become `Erased ticket #n`, descriptions empty, and the old texts leave the history
/// and the event log too. This is the one rewrite of past log entries: what the law requires
/// to be forgotten cannot stay in an append-only log. The erasure itself is recorded as an
/// `updated` event naming the fields without their values.
///
/// # Errors
/// Fails when the database does.
pub async fn erase(
    txn: &DatabaseTransaction,
    scope: &Scope,
    actor: Actor,
    tickets: &[ticket::Model],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut log = Log::new(now);
    for t in tickets {
        let subject = format!("Erased ticket #{}", t.number);
        let written = ticket::Entity::scoped_update(scope)
            .col_expr(
                ticket::Column::SearchText,
                Expr::value(super::service::search_text(&subject, "")),
            )
            .col_expr(ticket::Column::Subject, Expr::value(subject))
            .col_expr(ticket::Column::Description, Expr::value(""))
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(t.id))
            .exec_with_returning(txn)
            .await?
            .pop()
            .ok_or(ApiError::NotFound("ticket"))?;
        log.event(
            actor,
            t,
            written.version,
            EventKind::Updated,
            json!({"changes": [{"field": "subject", "erased": true}, {"field": "description", "erased": true}]}),
        );
    }
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    for chunk in ids.chunks(CHUNK) {
        // The history kept old subjects and descriptions; they go too.
        ticket_activity::Entity::scoped_update(scope)
            .col_expr(
                ticket_activity::Column::OldValue,
                Expr::value(Option::<Value>::None),
            )
            .col_expr(
                ticket_activity::Column::NewValue,
                Expr::value(json!({"erased": true})),
            )
            .filter(ticket_activity::Column::TicketId.is_in(chunk.to_vec()))
            .filter(ticket_activity::Column::Field.is_in(["created", "subject", "description"]))
            .exec(txn)
            .await?;
        ticket_event::Entity::scoped_update(scope)
            .col_expr(
                ticket_event::Column::Data,
                Expr::value(json!({"erased": true}).to_string()),
            )
            .filter(ticket_event::Column::TicketId.is_in(chunk.to_vec()))
            .filter(ticket_event::Column::Kind.eq(EventKind::Updated.as_str()))
            .exec(txn)
            .await?;
    }
    log.write(txn).await
}

// --- Merges ---------------------------------------------------------------------------------

/// Merges `secondaries` into `primary` (all of one tenant, none merged), in the caller's
/// transaction: their conversation and files move to the primary, they are closed and point
/// at it, and both sides record it.
///
/// # Errors
/// 409 `ticket_merged` when a secondary was merged elsewhere meanwhile.
pub async fn merge(
    txn: &DatabaseTransaction,
    scope: &Scope,
    actor: Actor,
    primary: &ticket::Model,
    secondaries: &[ticket::Model],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let secondary_ids: Vec<Uuid> = secondaries.iter().map(|t| t.id).collect();
    ticket_message::Entity::scoped_update(scope)
        .col_expr(ticket_message::Column::TicketId, Expr::value(primary.id))
        .filter(ticket_message::Column::TicketId.is_in(secondary_ids.clone()))
        .exec(txn)
        .await?;
    crate::attachments::service::move_to(txn, scope, &secondary_ids, primary.id).await?;
    let mut log = Log::new(now);
    let merged_into = json!({"ticket_id": primary.id, "number": primary.number});
    for secondary in secondaries {
        let closed = ticket::Entity::scoped_update(scope)
            .col_expr(
                ticket::Column::Status,
                Expr::value(TicketStatus::Closed.as_str()),
            )
            .col_expr(ticket::Column::ClosedAt, Expr::value(now))
            .col_expr(ticket::Column::MergedIntoId, Expr::value(primary.id))
            .col_expr(
                ticket::Column::Version,
                Expr::col(ticket::Column::Version).add(1),
            )
            .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
            .filter(ticket::Column::Id.eq(secondary.id))
            .filter(ticket::Column::MergedIntoId.is_null())
            .exec_with_returning(txn)
            .await?
            .pop();
        let Some(closed) = closed else {
            return Err(ApiError::conflict(
                ErrorCode::TicketMerged,
                "a ticket was merged elsewhere at the same moment; reload and retry",
            ));
        };
        log.history(
            actor,
            secondary,
            "merged_into",
            Some(json!(secondary.status)),
            Some(merged_into.clone()),
        );
        log.event(
            actor,
            secondary,
            closed.version,
            EventKind::MergedInto,
            json!({"ticket_id": primary.id, "number": primary.number, "old_status": secondary.status}),
        );
    }
    let merged: Vec<Value> = secondaries
        .iter()
        .map(|t| json!({"ticket_id": t.id, "number": t.number}))
        .collect();
    let written = ticket::Entity::scoped_update(scope)
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(primary.id))
        .exec_with_returning(txn)
        .await?
        .pop()
        .ok_or(ApiError::NotFound("ticket"))?;
    log.history(
        actor,
        primary,
        "merged",
        None,
        Some(Value::from(merged.clone())),
    );
    log.event(
        actor,
        primary,
        written.version,
        EventKind::Merged,
        json!({"tickets": merged}),
    );
    log.write(txn).await
}

// --- Hand-offs between tenants --------------------------------------------------------------

/// Hands `origin` to another tenant, in the caller's transaction: claims the origin (a ticket
/// is handed on at most once), creates the linked ticket `linked` (numbered in its tenant,
/// assigned by its group like any new ticket) with the copied conversation `copies`, and records
/// it on both sides. Returns the linked ticket.
///
/// # Errors
/// 409 `already_linked` when the origin was handed on or merged meanwhile.
pub async fn hand_on(
    txn: &DatabaseTransaction,
    scope: &Scope,
    actor: Actor,
    origin: &ticket::Model,
    linked: &NewTicket,
    copies: Vec<ticket_message::ActiveModel>,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let kind = linked.ticket.link_kind.clone().unwrap_or_default();
    // Claim the origin first: of two simultaneous hand-offs, one wins and the other writes
    // nothing.
    let claimed = ticket::Entity::scoped_update(scope)
        .col_expr(
            ticket::Column::LinkedTicketId,
            Expr::value(linked.ticket.id),
        )
        .col_expr(
            ticket::Column::LinkedTenantId,
            Expr::value(linked.ticket.tenant_id),
        )
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(origin.id))
        .filter(ticket::Column::LinkedTicketId.is_null())
        .filter(ticket::Column::MergedIntoId.is_null())
        .exec_with_returning(txn)
        .await?
        .pop();
    let Some(claimed) = claimed else {
        return Err(ApiError::conflict(
            ErrorCode::AlreadyLinked,
            "this ticket was handed on or merged at the same moment; reload it",
        ));
    };
    let created = create(txn, &[linked])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("linked ticket not written")))?;
    for rows in copies.chunks(CHUNK) {
        Insert::many(rows.iter().cloned())
            .exec_without_returning(txn)
            .await?;
    }
    let mut log = Log::new(now);
    let field = if kind == "routing" {
        "routed"
    } else {
        "escalated"
    };
    let facts =
        json!({"ticket_id": created.id, "number": created.number, "tenant_id": created.tenant_id});
    log.history(actor, origin, field, None, Some(facts.clone()));
    let mut data = facts;
    if let Some(fields) = data.as_object_mut() {
        fields.insert("link_kind".into(), json!(kind));
    }
    log.event(actor, origin, claimed.version, EventKind::Linked, data);
    log.write(txn).await?;
    Ok(created)
}

// --- Flow-back from linked tickets ----------------------------------------------------------

/// Carries what a batch of log entries reports from linked tickets to their origins, in the
/// transaction of the flow-back reader of the event log (which stores its position in the same
/// transaction): a public reply on a linked ticket becomes a private note on its origin, a new
/// status the origin's status. Entries of other kinds, and entries of tickets that are not
/// linked, change nothing; the linked tickets among the entries are found with one query per
/// tenant, so a mass reply's ten thousand entries cost a few lookups.
///
/// The origin's own status change is an entry too, which the reader handles in turn: a
/// client's ticket escalated to its partner and on to the platform follows the platform's
/// status one hop at a time. The climb stops at a ticket that is not linked, at an origin that
/// was merged away and at an origin already in that status.
///
/// # Errors
/// Fails when the database does.
pub async fn flow_back(
    txn: &DatabaseTransaction,
    entries: &[ticket_event::Model],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let wanted: Vec<(&ticket_event::Model, Value)> = entries
        .iter()
        .filter(|entry| matches!(entry.kind.as_str(), "message_added" | "status_changed"))
        .filter_map(|entry| {
            let data: Value = serde_json::from_str(&entry.data).unwrap_or_default();
            let reply = entry.kind == "message_added"
                && data.get("kind").and_then(Value::as_str) == Some("reply");
            (reply || entry.kind == "status_changed").then_some((entry, data))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut by_tenant: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (entry, _) in &wanted {
        by_tenant
            .entry(entry.tenant_id)
            .or_default()
            .push(entry.ticket_id);
    }
    let mut linked: HashMap<Uuid, ticket::Model> = HashMap::new();
    for (tenant, ids) in by_tenant {
        let scope = Scope::for_tenant_work(tenant, Why::LinkedTicketReport);
        for chunk in ids.chunks(CHUNK) {
            let found = ticket::Entity::scoped(&scope)
                .filter(ticket::Column::Id.is_in(chunk.to_vec()))
                .filter(ticket::Column::OriginTicketId.is_not_null())
                .all(txn)
                .await?;
            linked.extend(found.into_iter().map(|t| (t.id, t)));
        }
    }
    if linked.is_empty() {
        return Ok(());
    }
    let mut log = Log::new(now);
    for (entry, data) in wanted {
        // The ticket as it is now, with the origin it had when the batch began (a link is
        // never moved).
        let Some(ticket) = linked.get(&entry.ticket_id) else {
            continue;
        };
        if entry.kind == "status_changed" {
            let new = data.get("new").cloned().unwrap_or_default();
            if let Ok(status) = serde_json::from_value::<TicketStatus>(new) {
                flow_status_back(txn, &mut log, ticket, status).await?;
            }
            continue;
        }
        let Some(message_id) = data
            .get("message_id")
            .and_then(Value::as_str)
            .and_then(|id| Uuid::parse_str(id).ok())
        else {
            continue;
        };
        let scope = Scope::for_tenant_work(entry.tenant_id, Why::LinkedTicketReport);
        // A reply erased since has nothing left to carry.
        if let Some(message) = ticket_message::Entity::scoped_by_id(&scope, message_id)
            .one(txn)
            .await?
        {
            flow_reply_back(txn, &mut log, ticket, &message).await?;
        }
    }
    log.write(txn).await
}

/// The origin of a linked ticket, reached through a scope of the origin's tenant alone; `None`
/// for a ticket that is not linked, or whose origin was merged away.
async fn origin_of(
    txn: &impl ConnectionTrait,
    linked: &ticket::Model,
) -> Result<Option<(Scope, ticket::Model)>, ApiError> {
    let (Some(origin_id), Some(origin_tenant)) = (linked.origin_ticket_id, linked.origin_tenant_id)
    else {
        return Ok(None);
    };
    let scope = Scope::for_tenant_work(origin_tenant, Why::LinkedTicketReport);
    let origin = ticket::Entity::scoped_by_id(&scope, origin_id)
        .filter(ticket::Column::MergedIntoId.is_null())
        .one(txn)
        .await?;
    Ok(origin.map(|origin| (scope, origin)))
}

/// Carries a public reply written on a linked ticket back to its origin as a private note, with
/// copies of the files the reply carries (linked to the reply before). The note stays there: a
/// note is private, so it travels no further even when the origin is itself a linked ticket.
async fn flow_reply_back(
    txn: &DatabaseTransaction,
    log: &mut Log,
    linked: &ticket::Model,
    message: &ticket_message::Model,
) -> Result<(), ApiError> {
    let Some((scope, origin)) = origin_of(txn, linked).await? else {
        return Ok(());
    };
    let linked_scope = Scope::for_tenant_work(linked.tenant_id, Why::LinkedTicketReport);
    let from = tenant::Entity::scoped_by_id(&linked_scope, linked.tenant_id)
        .one(txn)
        .await?
        .map_or_else(String::new, |t| t.name);
    let note = ticket_message::Model {
        id: Uuid::now_v7(),
        tenant_id: origin.tenant_id,
        ticket_id: origin.id,
        kind: MessageKind::Note.as_str().to_owned(),
        author_user_id: None,
        author_contact_id: None,
        body_text: format!(
            "{from} replied on the linked ticket #{}:\n\n{}",
            linked.number, message.body_text
        ),
        body_html: format!(
            "<p>{} replied on the linked ticket #{}:</p>{}",
            super::html::escape(&from),
            linked.number,
            message.body_html
        ),
        created_at: log.now,
    };
    Insert::one(note.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    crate::attachments::service::copy_to(txn, &linked_scope, &origin, &[(message.id, note.id)])
        .await?;
    let updated = bump(txn, &scope, &origin, None, log.now).await?;
    log.history(
        Actor::LINKED_TICKET,
        &origin,
        "linked_reply",
        None,
        Some(json!({"message_id": note.id, "linked_ticket_id": linked.id})),
    );
    log.event(
        Actor::LINKED_TICKET,
        &origin,
        updated.version,
        EventKind::MessageAdded,
        json!({"message_id": note.id, "kind": "note", "visibility": "private",
               "direction": "internal", "linked_ticket_id": linked.id}),
    );
    Ok(())
}

/// Gives a linked ticket's new status to its origin, unless the origin is there already.
async fn flow_status_back(
    txn: &DatabaseTransaction,
    log: &mut Log,
    linked: &ticket::Model,
    status: TicketStatus,
) -> Result<(), ApiError> {
    let Some((scope, origin)) = origin_of(txn, linked).await? else {
        return Ok(());
    };
    if origin.status == status.as_str() {
        return Ok(());
    }
    let updated = bump(txn, &scope, &origin, Some(status), log.now).await?;
    let change = Change {
        field: "status",
        old: json!(origin.status),
        new: json!(status.as_str()),
    };
    log.fields(Actor::LINKED_TICKET, &origin, updated.version, &[change]);
    Ok(())
}

/// Records a change on an origin (a new version, and the new status with its timestamp) and
/// returns the origin as it now is.
async fn bump(
    txn: &DatabaseTransaction,
    scope: &Scope,
    origin: &ticket::Model,
    status: Option<TicketStatus>,
    now: DateTime<Utc>,
) -> Result<ticket::Model, ApiError> {
    let mut update = ticket::Entity::scoped_update(scope)
        .col_expr(
            ticket::Column::Version,
            Expr::col(ticket::Column::Version).add(1),
        )
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(origin.id));
    if let Some(status) = status {
        update = update.col_expr(ticket::Column::Status, Expr::value(status.as_str()));
        if let Some(column) = super::service::status_stamp(status) {
            update = update.col_expr(column, Expr::value(now));
        }
    }
    update
        .exec_with_returning(txn)
        .await?
        .pop()
        .ok_or(ApiError::NotFound("ticket"))
}
