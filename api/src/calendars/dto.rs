//! Request and response bodies of the calendar endpoints.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

crate::http::api_enum::api_enum!(
    /// A day of the week, as calendars name it.
    Weekday {
        /// Monday.
        Mon => "mon",
        /// Tuesday.
        Tue => "tue",
        /// Wednesday.
        Wed => "wed",
        /// Thursday.
        Thu => "thu",
        /// Friday.
        Fri => "fri",
        /// Saturday.
        Sat => "sat",
        /// Sunday.
        Sun => "sun",
    }
);

/// One weekly opening interval in the calendar's local time.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IntervalDto {
    /// `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`.
    #[schema(example = "mon")]
    #[schema(value_type = Weekday)]
    pub day: String,
    /// Opening time, `HH:MM`.
    #[schema(example = "06:00")]
    pub start: String,
    /// Closing time, `HH:MM` after `start`, or `24:00` for the end of the day.
    #[schema(example = "22:00")]
    pub end: String,
}

/// A day on which the calendar stays closed.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HolidayDto {
    /// Local date, `YYYY-MM-DD`.
    #[schema(example = "2026-12-25")]
    pub date: String,
    /// What the day is.
    pub name: Option<String>,
}

/// Body of `POST /calendars`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCalendar {
    /// The calendar's tenant (the caller's own when absent); must be in the caller's scope.
    pub tenant_id: Option<Uuid>,
    /// Name, unique within the tenant.
    pub name: String,
    /// IANA time zone, e.g. `Europe/Lisbon`.
    pub time_zone: String,
    /// Open around the clock every day ("24/7"); then `intervals` stays empty.
    #[serde(default)]
    pub always_open: bool,
    /// Weekly opening intervals; several per day are allowed, overlapping ones are not.
    #[serde(default)]
    pub intervals: Vec<IntervalDto>,
    /// Days closed all day.
    #[serde(default)]
    pub holidays: Vec<HolidayDto>,
}

/// Body of `PATCH /calendars/{id}`: only the fields sent change; lists are replaced whole.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCalendar {
    /// Name.
    pub name: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Open around the clock.
    pub always_open: Option<bool>,
    /// Weekly opening intervals.
    pub intervals: Option<Vec<IntervalDto>>,
    /// Days closed all day.
    pub holidays: Option<Vec<HolidayDto>>,
}

/// Filters of `GET /calendars`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarFilter {
    /// Only calendars of this tenant.
    pub tenant_id: Option<Uuid>,
}

/// Query of `GET /calendars/{id}/open`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpenQuery {
    /// The instant to check (RFC 3339); now when absent.
    pub at: Option<DateTime<Utc>>,
}

/// A business-hours calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Open around the clock.
    pub always_open: bool,
    /// Weekly opening intervals, by day and start.
    pub intervals: Vec<IntervalDto>,
    /// Days closed all day, by date.
    pub holidays: Vec<HolidayDto>,
    /// Whether the calendar is open at the moment of the response.
    pub open_now: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Whether a calendar is open at an instant, and when it opens next.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenDto {
    /// The instant checked.
    pub at: DateTime<Utc>,
    /// Open at that instant.
    pub open: bool,
    /// The first instant at or after `at` when it is open; absent when it does not open within
    /// a year.
    pub next_open: Option<DateTime<Utc>>,
}
