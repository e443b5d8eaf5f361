//! Request and response bodies of bulk jobs.
use crate::tickets::criteria::TicketCriteria;
use crate::tickets::domain::{TicketPriority, TicketStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

crate::http::api_enum::api_enum!(
    /// What a background job does.
    JobKind {
        /// Changes or answers many tickets.
        TicketBulk => "ticket_bulk",
    }
);

crate::http::api_enum::api_enum!(
    /// Where a background job stands.
    JobStatus {
        /// Accepted, waiting for a runner.
        Queued => "queued",
        /// Being worked.
        Running => "running",
        /// Every item was tried.
        Completed => "completed",
        /// Stopped by an error that is not an item's own.
        Failed => "failed",
        /// Every attempt failed (`last_error` says how the last one did); the remaining items
        /// wait until an admin retries the job.
        Dead => "dead",
    }
);

/// Property changes applied to every ticket, as `PATCH /tickets/{id}` would apply them.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkChanges {
    /// New status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TicketStatus>,
    /// New priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<TicketPriority>,
    /// New group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    /// New assignee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<Uuid>,
    /// Remove the assignee (not together with `assignee_id`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unassign: bool,
    /// Replace each ticket's tags with these (not together with `add_tags`/`remove_tags`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Tags to add to each ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<String>,
    /// Tags to remove from each ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
}

/// A reply (or private note) sent to every ticket.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReply {
    /// HTML or plain text, rendered per ticket: `{{requester.name}}`, `{{requester.email}}`,
    /// `{{ticket.number}}` and `{{ticket.subject}}` are replaced by the ticket's values
    /// (HTML-escaped); any other `{{…}}` is refused.
    pub body: String,
    /// A private note instead of a public reply (default `false`).
    #[serde(default)]
    pub note: bool,
}

/// Body of `POST /tickets/bulk`: `ticket_ids` or `filter`, and `changes` and/or `reply`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// The tickets, in order (duplicates are ignored).
    pub ticket_ids: Option<Vec<Uuid>>,
    /// Or every ticket in the caller's scope matching this filter: the criteria of
    /// `GET /tickets` as a JSON object, read as a saved view's filters are.
    #[schema(value_type = Option<TicketCriteria>)]
    pub filter: Option<serde_json::Map<String, serde_json::Value>>,
    /// Property changes.
    pub changes: Option<BulkChanges>,
    /// A reply or note to each ticket.
    pub reply: Option<BulkReply>,
}

/// Answer of `POST /tickets/bulk`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobAccepted {
    /// The job; follow `Location` to watch it.
    pub job_id: Uuid,
    /// `queued`.
    #[schema(value_type = JobStatus)]
    pub status: String,
    /// Tickets in the job (including ids that were not found).
    pub total: i32,
}

/// One ticket the job could not handle.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobFailure {
    /// The ticket id as requested.
    pub ticket_id: Uuid,
    /// The problem code, e.g. `not_found`, `ticket_merged`, `validation_failed`.
    pub code: String,
    /// What went wrong.
    pub detail: Option<String>,
}

/// A bulk job and how far it got.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDto {
    /// Id.
    pub id: Uuid,
    /// `ticket_bulk`.
    #[schema(value_type = JobKind)]
    pub kind: String,
    /// `queued`, `running`, `completed`, `failed` or `dead`.
    #[schema(value_type = JobStatus)]
    pub status: String,
    /// Tickets in the job.
    pub total: i32,
    /// Tickets handled so far (succeeded + failed).
    pub processed: i32,
    /// Tickets changed and/or answered.
    pub succeeded: i32,
    /// Tickets that could not be handled.
    pub failed: i32,
    /// Accepted.
    pub created_at: DateTime<Utc>,
    /// First picked up by a runner.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Attempts that failed in a row (an error that is not an item's own, such as the
    /// database's); a committed chunk starts the count again. A failed attempt is retried after
    /// a back-off; after `jobs.max_attempts` the job is `dead`.
    pub attempts: i32,
    /// The last failed attempt's error, kept until the job completes.
    pub last_error: Option<String>,
    /// The first failures, in request order.
    pub failures: Vec<JobFailure>,
    /// Failures not listed in `failures`.
    pub more_failures: i32,
}
