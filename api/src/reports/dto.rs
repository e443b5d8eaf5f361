//! Request and response bodies of the report endpoints.
use crate::http::api_enum::api_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

api_enum!(
    /// What to count tickets by.
    CountBy {
        /// The requester's organisation (`null` for none).
        Company => "company",
        /// The channel the ticket came through.
        Source => "source",
        /// Each tag (a ticket with two tags counts in both).
        Tag => "tag",
        /// The calendar day of creation in `time_zone`.
        Day => "day",
    }
);

/// Query of `GET /reports/ticket-counts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// What to count by.
    pub group_by: CountBy,
    /// Start of the period (inclusive); default 30 days before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End of the period (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
    /// Only tickets of this tenant (in the caller's scope).
    pub tenant_id: Option<Uuid>,
    /// IANA time zone for `day` (default: the caller's tenant's).
    pub time_zone: Option<String>,
}

/// One bucket of a count.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountBucket {
    /// The company id, source, tag or day (`YYYY-MM-DD`); `null` for tickets without a company.
    pub key: Option<String>,
    /// Tickets in the bucket.
    pub count: i64,
}

/// Ticket counts for a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketCounts {
    /// What was counted by.
    pub group_by: CountBy,
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period.
    pub to: DateTime<Utc>,
    /// Time zone of the days.
    pub time_zone: String,
    /// Tickets created in the period.
    pub total: i64,
    /// The buckets, largest key order (days ascending).
    pub buckets: Vec<CountBucket>,
}
