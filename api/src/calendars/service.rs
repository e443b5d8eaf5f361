//! The rules of business-hours calendars; every query goes through the caller's scope.
use super::dto::{CalendarDto, CreateCalendar, HolidayDto, IntervalDto, OpenDto, UpdateCalendar};
use super::hours::{self, DAY_MINUTES, Hours, Interval};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use entity::{business_calendar, group, tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;
use tenants::{Role, Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// Most weekly intervals in one calendar.
const MAX_INTERVALS: usize = 100;
/// Most holidays in one calendar (a few years' worth).
const MAX_HOLIDAYS: usize = 1000;

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

fn day_name(day: Weekday) -> &'static str {
    DAYS.iter()
        .find(|(_, d)| *d == day)
        .map_or("mon", |(name, _)| *name)
}

/// Calendars are written by admins and supervisors; agents only read them.
fn check_writer(principal: &Principal) -> Result<(), ApiError> {
    if principal.has("admin") || principal.role() == Some(Role::Supervisor) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "only an admin or a supervisor changes business hours",
        ))
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    tenants::provisioning::validate_name(name)?;
    Ok(name.trim().to_owned())
}

fn check_zone(zone: &str) -> Result<String, ApiError> {
    zone.trim()
        .parse::<Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            ApiError::invalid(
                "time_zone",
                format!("`{zone}` is not an IANA time zone such as Europe/Lisbon"),
            )
        })
}

/// Minutes after midnight of `HH:MM`; `24:00` only where `end_of_day` allows it.
fn minutes(text: &str, end_of_day: bool) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end_of_day => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn hh_mm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Checks weekly intervals: known days, `HH:MM` times, `start < end`, no overlaps on a day.
///
/// # Errors
/// 422 naming `intervals`.
pub fn check_intervals(given: &[IntervalDto]) -> Result<Vec<Interval>, ApiError> {
    if given.len() > MAX_INTERVALS {
        return Err(ApiError::invalid(
            "intervals",
            format!("at most {MAX_INTERVALS} intervals"),
        ));
    }
    let mut intervals = Vec::with_capacity(given.len());
    for (n, i) in given.iter().enumerate() {
        let day = DAYS
            .iter()
            .find(|(name, _)| *name == i.day.trim().to_lowercase())
            .map(|(_, day)| *day)
            .ok_or_else(|| {
                ApiError::invalid(
                    "intervals",
                    format!("interval {n}: day must be one of mon, tue, wed, thu, fri, sat, sun"),
                )
            })?;
        let start = minutes(i.start.trim(), false).ok_or_else(|| {
            ApiError::invalid("intervals", format!("interval {n}: start must be HH:MM"))
        })?;
        let end = minutes(i.end.trim(), true).ok_or_else(|| {
            ApiError::invalid(
                "intervals",
                format!("interval {n}: end must be HH:MM or 24:00"),
            )
        })?;
        if start >= end {
            return Err(ApiError::invalid(
                "intervals",
                format!("interval {n}: start must be before end"),
            ));
        }
        intervals.push(Interval { day, start, end });
    }
    intervals.sort_by_key(|i| (i.day.num_days_from_monday(), i.start));
    if let Some(pair) = intervals
        .windows(2)
        .find(|pair| pair[0].day == pair[1].day && pair[1].start < pair[0].end)
    {
        return Err(ApiError::invalid(
            "intervals",
            format!(
                "{} {}-{} overlaps {}-{}",
                day_name(pair[0].day),
                hh_mm(pair[0].start),
                hh_mm(pair[0].end),
                hh_mm(pair[1].start),
                hh_mm(pair[1].end)
            ),
        ));
    }
    Ok(intervals)
}

/// Checks holidays: ISO dates, names up to 200 characters; a date given twice counts once.
///
/// # Errors
/// 422 naming `holidays`.
pub fn check_holidays(given: &[HolidayDto]) -> Result<Vec<HolidayDto>, ApiError> {
    if given.len() > MAX_HOLIDAYS {
        return Err(ApiError::invalid(
            "holidays",
            format!("at most {MAX_HOLIDAYS} holidays"),
        ));
    }
    let mut clean: Vec<HolidayDto> = Vec::with_capacity(given.len());
    for h in given {
        let date = NaiveDate::parse_from_str(h.date.trim(), "%Y-%m-%d").map_err(|_| {
            ApiError::invalid(
                "holidays",
                format!("`{}` is not a date such as 2026-12-25", h.date),
            )
        })?;
        let name = h
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            return Err(ApiError::invalid(
                "holidays",
                "a holiday name is at most 200 characters",
            ));
        }
        let date = date.format("%Y-%m-%d").to_string();
        if !clean.iter().any(|c| c.date == date) {
            clean.push(HolidayDto { date, name });
        }
    }
    clean.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(clean)
}

/// A calendar is either always open or has at least one interval, never both.
fn check_shape(always_open: bool, intervals: &[Interval]) -> Result<(), ApiError> {
    match (always_open, intervals.is_empty()) {
        (true, false) => Err(ApiError::invalid(
            "intervals",
            "a calendar that is always open has no intervals",
        )),
        (false, true) => Err(ApiError::invalid(
            "intervals",
            "give at least one interval, or always_open: true",
        )),
        _ => Ok(()),
    }
}

fn intervals_json(intervals: &[Interval]) -> Value {
    Value::Array(
        intervals
            .iter()
            .map(|i| {
                serde_json::json!({"day": day_name(i.day), "start": hh_mm(i.start), "end": hh_mm(i.end)})
            })
            .collect(),
    )
}

fn stored<T: serde::de::DeserializeOwned>(value: &Value) -> Result<Vec<T>, ApiError> {
    serde_json::from_value(value.clone())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored calendar unreadable: {e}")))
}

/// The hours a stored calendar describes.
///
/// # Errors
/// 500 when the stored calendar no longer parses (it was checked when written).
pub fn hours_of(model: &business_calendar::Model) -> Result<Hours, ApiError> {
    let zone = model
        .time_zone
        .parse::<Tz>()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored time zone unreadable: {e}")))?;
    let intervals = check_intervals(&stored::<IntervalDto>(&model.intervals)?)?;
    let holidays = stored::<HolidayDto>(&model.holidays)?
        .iter()
        .filter_map(|h| NaiveDate::parse_from_str(&h.date, "%Y-%m-%d").ok())
        .collect();
    Ok(Hours {
        zone,
        always_open: model.always_open,
        intervals,
        holidays,
    })
}

/// Whether a stored calendar is open at `at`.
///
/// # Errors
/// As [`hours_of`].
pub fn is_open(model: &business_calendar::Model, at: DateTime<Utc>) -> Result<bool, ApiError> {
    Ok(hours::is_open(&hours_of(model)?, at))
}

/// The API shape of a calendar, with whether it is open at `now`.
///
/// # Errors
/// As [`hours_of`].
pub fn to_dto(
    model: business_calendar::Model,
    now: DateTime<Utc>,
) -> Result<CalendarDto, ApiError> {
    let open_now = is_open(&model, now)?;
    Ok(CalendarDto {
        id: model.id,
        tenant_id: model.tenant_id,
        intervals: stored(&model.intervals)?,
        holidays: stored(&model.holidays)?,
        name: model.name,
        time_zone: model.time_zone,
        always_open: model.always_open,
        open_now,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

fn name_taken(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::CalendarNameTaken,
            "this tenant already has a calendar with this name",
        ),
        _ => err.into(),
    }
}

/// Creates a calendar in a tenant of the caller's scope.
///
/// # Errors
/// 403 for callers that are neither admin nor supervisor, 404 for a tenant outside the scope,
/// 409 for a taken name, 422 for bad fields.
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    body: CreateCalendar,
    now: DateTime<Utc>,
) -> Result<business_calendar::Model, ApiError> {
    check_writer(principal)?;
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let owner = tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let name = check_name(&body.name)?;
    let time_zone = check_zone(&body.time_zone)?;
    let intervals = check_intervals(&body.intervals)?;
    check_shape(body.always_open, &intervals)?;
    let holidays = check_holidays(&body.holidays)?;
    business_calendar::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: NotSet,
        name: Set(name),
        time_zone: Set(time_zone),
        always_open: Set(body.always_open),
        intervals: Set(intervals_json(&intervals)),
        holidays: Set(serde_json::to_value(holidays).map_err(|e| ApiError::Internal(e.into()))?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .owned_by_tenant(&principal.scope, &owner)?
    .insert(db)
    .await
    .map_err(name_taken)
}

/// One page of calendars in the scope, optionally of one tenant.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Vec<business_calendar::Model>, ApiError> {
    let mut query = business_calendar::Entity::scoped(scope)
        .order_by_asc(business_calendar::Column::Id)
        .limit(page.limit + 1);
    if let Some(tenant_id) = tenant_id {
        query = query.filter(business_calendar::Column::TenantId.eq(tenant_id));
    }
    if let Some(after) = page.after {
        query = query.filter(business_calendar::Column::Id.gt(after));
    }
    Ok(query.all(db).await?)
}

/// A calendar in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<business_calendar::Model, ApiError> {
    business_calendar::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("calendar"))
}

/// Changes a calendar; the result is checked as a whole (e.g. turning `always_open` off needs
/// intervals).
///
/// # Errors
/// 403, 404, 409 and 422 as for [`create`].
pub async fn update(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    body: UpdateCalendar,
    now: DateTime<Utc>,
) -> Result<business_calendar::Model, ApiError> {
    let found = get(db, &principal.scope, id).await?;
    check_writer(principal)?;
    let mut active: business_calendar::ActiveModel = found.clone().into();
    if let Some(name) = body.name {
        active.name = Set(check_name(&name)?);
    }
    if let Some(zone) = body.time_zone {
        active.time_zone = Set(check_zone(&zone)?);
    }
    let always_open = body.always_open.unwrap_or(found.always_open);
    let intervals = match &body.intervals {
        Some(given) => check_intervals(given)?,
        // Switching to round-the-clock drops the old intervals unless new ones are sent.
        None if always_open => Vec::new(),
        None => check_intervals(&stored::<IntervalDto>(&found.intervals)?)?,
    };
    check_shape(always_open, &intervals)?;
    active.always_open = Set(always_open);
    active.intervals = Set(intervals_json(&intervals));
    if let Some(given) = body.holidays {
        let holidays = check_holidays(&given)?;
        active.holidays =
            Set(serde_json::to_value(holidays).map_err(|e| ApiError::Internal(e.into()))?);
    }
    active.updated_at = Set(now);
    active.update(db).await.map_err(name_taken)
}

/// Deletes a calendar no group works by.
///
/// # Errors
/// 403 for callers that are neither admin nor supervisor, 404 outside the scope, 409 while a
/// group still uses it.
pub async fn delete(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<(), ApiError> {
    let scope = &principal.scope;
    let found = get(db, scope, id).await?;
    check_writer(principal)?;
    let txn = crate::backend::begin(db).await?;
    // Groups only refer to calendars of their own tenant, so the scope sees every user.
    let users = group::Entity::scoped(scope)
        .filter(group::Column::TenantId.eq(found.tenant_id))
        .filter(group::Column::CalendarId.eq(found.id))
        .count(&txn)
        .await?;
    if users > 0 {
        return Err(ApiError::conflict(
            ErrorCode::CalendarInUse,
            format!("{users} group(s) work by this calendar; give them another one first"),
        ));
    }
    business_calendar::Entity::scoped_delete(scope)
        .filter(business_calendar::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a calendar of the scope is open at `at` (`now` when absent), and when it opens next.
///
/// # Errors
/// 404 outside the scope.
pub async fn open_at(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<OpenDto, ApiError> {
    let found = get(db, scope, id).await?;
    let hours = hours_of(&found)?;
    let at = at.unwrap_or(now);
    Ok(OpenDto {
        at,
        open: hours::is_open(&hours, at),
        next_open: hours::next_open(&hours, at),
    })
}

/// The calendar with this id if it belongs to `tenant_id` and is in the scope.
///
/// # Errors
/// 422 naming `calendar_id` otherwise.
pub async fn check_for_tenant(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Uuid, ApiError> {
    business_calendar::Entity::scoped_by_id(scope, id)
        .filter(business_calendar::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| ApiError::invalid("calendar_id", "no such calendar in the group's tenant"))
}
