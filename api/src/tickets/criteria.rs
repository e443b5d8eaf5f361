//! Which tickets to select: the one criteria type of the ticket list's filters, saved views and
//! bulk jobs, with its one reader of JSON objects and its one check of values. User text is
//! matched as text, never as an SQL pattern: a tag matches exactly, and `q` matches tickets
//! containing every word.
use crate::backend::{self, Backend};
use crate::error::{ApiError, FieldError};
use crate::tickets::domain::{TicketPriority, TicketSource, TicketStatus};
use chrono::{DateTime, Utc};
use entity::ticket;
use sea_orm::sea_query::LikeExpr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::LazyLock;
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Most words one search may hold; each adds a pattern match per ticket read.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// The character that makes the next one literal in a `LIKE` pattern. Not a backslash: the two
/// databases quote a backslash in `ESCAPE '…'` differently, and `!` needs no quoting anywhere.
pub(crate) const LIKE_ESCAPE: char = '!';

/// Which tickets to select: the query parameters of `GET /tickets`, the `filters` a saved view
/// stores and the `filter` of a bulk request, under the same names with the same meaning.
#[derive(Clone, Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct TicketCriteria {
    /// Only tickets of this tenant.
    pub tenant_id: Option<Uuid>,
    /// Status.
    pub status: Option<TicketStatus>,
    /// Priority.
    pub priority: Option<TicketPriority>,
    /// Group.
    pub group_id: Option<Uuid>,
    /// Assignee.
    pub assignee_id: Option<Uuid>,
    /// Requester.
    pub requester_id: Option<Uuid>,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Source channel.
    pub source: Option<TicketSource>,
    /// Having exactly this tag (compared as tags are stored: trimmed, lower-cased).
    pub tag: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// Updated at or after.
    pub updated_after: Option<DateTime<Utc>>,
    /// Words that must all appear in the subject or description, in any order and
    /// case-insensitively (up to 8 words, 200 characters); `%` and `_` match themselves.
    pub q: Option<String>,
}

/// The criteria's names, as the ticket list declares them.
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    TicketCriteria::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
});

/// The values of criteria that need more than their type to be valid, as queries use them.
#[derive(Debug, Default)]
pub struct Checked {
    /// The tag as tickets store it.
    tag: Option<String>,
    /// The search's distinct lower-cased words.
    words: Vec<String>,
}

impl Checked {
    /// The search's distinct lower-cased words, in order (empty without a search).
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

impl TicketCriteria {
    /// Reads criteria sent or stored as a JSON object (a view's `filters`, a bulk request's
    /// `filter`), key by key so a fault names its key: unknown keys are refused and `null`
    /// values dropped. Answers the criteria and the object as kept (without the `null`s).
    ///
    /// # Errors
    /// 422 naming the key (nest it under the caller's field with [`nested`]).
    pub fn from_json(object: &Map<String, Value>) -> Result<(Self, Value), ApiError> {
        let mut clean = Map::new();
        for (key, value) in object {
            if value.is_null() {
                continue;
            }
            if !NAMES.contains(key) {
                return Err(ApiError::invalid(
                    key.clone(),
                    "not a filter of the ticket list",
                ));
            }
            let mut single = Map::new();
            single.insert(key.clone(), value.clone());
            serde_json::from_value::<Self>(Value::Object(single))
                .map_err(|err| ApiError::invalid(key.clone(), err.to_string()))?;
            clean.insert(key.clone(), value.clone());
        }
        let clean = Value::Object(clean);
        // Every key read alone, so together they can only fail through a bug here.
        let criteria = serde_json::from_value::<Self>(clean.clone())
            .map_err(|err| ApiError::Internal(err.into()))?;
        Ok((criteria, clean))
    }

    /// Checks the values a type alone does not: the tag and the search text.
    ///
    /// # Errors
    /// 422 naming `tags` for a malformed tag, `q` for a search too long or of too many words.
    pub fn check(&self) -> Result<Checked, ApiError> {
        Ok(Checked {
            tag: self.tag.as_deref().map(normalised_tag).transpose()?,
            words: match self.q.as_deref() {
                Some(q) => search_words(q)?,
                None => Vec::new(),
            },
        })
    }
}

/// `err` with its fields nested under `parent` (`status` becomes `filters.status`), for
/// criteria read from a field of a body.
pub fn nested(parent: &str, err: ApiError) -> ApiError {
    match err {
        ApiError::Validation {
            code,
            detail,
            errors,
        } => ApiError::Validation {
            code,
            detail: format!("{parent}.{detail}"),
            errors: errors
                .into_iter()
                .map(|e| FieldError {
                    field: format!("{parent}.{}", e.field),
                    message: e.message,
                })
                .collect(),
        },
        other => other,
    }
}

/// Whether a query over `criteria` must be planned with its search patterns in view.
///
/// PostgreSQL plans a prepared statement once for any parameters after a few runs. For a word
/// search that generic plan cannot tell a word found in every tenth ticket (walk the newest
/// tickets and stop at a page) from a rare one (ask the trigram index), and the plan it keeps
/// read the trigram index over every tenant: 700 ms for `q=camera exam` against 4 ms with the
/// words in view. SQLite plans each statement as it comes.
pub fn plans_per_pattern(criteria: &TicketCriteria, kind: DbBackend) -> bool {
    backend::for_kind(kind).searches_through_index()
        && criteria.q.as_deref().is_some_and(|q| !q.trim().is_empty())
}

/// Makes the rest of the current transaction plan each statement for its own parameters.
///
/// # Errors
/// Fails when the database does.
pub async fn plan_with_patterns(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
        .await
        .map(|_| ())
}

/// The condition selecting the tickets `criteria` describes, for a query on a database of
/// `kind`. `counts` says how common each of the search's words is (in the order of
/// [`search_words`], as [`super::word_sample::WordSample::counts`] gives them; missing counts
/// are 0): where the search goes through a trigram index, only the rarest word is asked of
/// the index, the others are matched on the rows it gives.
///
/// # Errors
/// 422 as [`TicketCriteria::check`].
pub fn condition(
    criteria: &TicketCriteria,
    kind: DbBackend,
    counts: &[usize],
) -> Result<Condition, ApiError> {
    let checked = criteria.check()?;
    Ok(checked_condition(
        criteria,
        &checked,
        backend::for_kind(kind),
        counts,
    ))
}

fn checked_condition(
    criteria: &TicketCriteria,
    checked: &Checked,
    backend: &dyn Backend,
    counts: &[usize],
) -> Condition {
    let mut all = Condition::all();
    if let Some(id) = criteria.tenant_id {
        all = all.add(ticket::Column::TenantId.eq(id));
    }
    if let Some(status) = criteria.status {
        all = all.add(ticket::Column::Status.eq(status.as_str()));
    }
    if let Some(priority) = criteria.priority {
        all = all.add(ticket::Column::Priority.eq(priority.as_str()));
    }
    if let Some(id) = criteria.group_id {
        all = all.add(ticket::Column::GroupId.eq(id));
    }
    if let Some(id) = criteria.assignee_id {
        all = all.add(ticket::Column::AssigneeId.eq(id));
    }
    if let Some(id) = criteria.requester_id {
        all = all.add(ticket::Column::RequesterId.eq(id));
    }
    if let Some(id) = criteria.company_id {
        all = all.add(ticket::Column::CompanyId.eq(id));
    }
    if let Some(source) = criteria.source {
        all = all.add(ticket::Column::Source.eq(source.as_str()));
    }
    if let Some(tag) = &checked.tag {
        all = all.add(backend.has_tag(tag));
    }
    if let Some(at) = criteria.created_after {
        all = all.add(ticket::Column::CreatedAt.gte(at));
    }
    if let Some(at) = criteria.created_before {
        all = all.add(ticket::Column::CreatedAt.lt(at));
    }
    if let Some(at) = criteria.updated_after {
        all = all.add(ticket::Column::UpdatedAt.gte(at));
    }
    let driver = rarest(&checked.words, counts);
    for (i, word) in checked.words.iter().enumerate() {
        all = all.add(backend.contains_word(word, Some(i) == driver));
    }
    all
}

/// The word the index is asked about: the one found in fewest sampled rows, then the one with
/// the longest run of letters and digits (longer words are rarer), then the first. `None` when
/// no word has a run the index can use.
fn rarest(words: &[String], counts: &[usize]) -> Option<usize> {
    words
        .iter()
        .enumerate()
        .filter_map(|(i, word)| {
            let longest = indexed_runs(word)
                .iter()
                .map(|run| run.chars().count())
                .max()?;
            Some((
                counts.get(i).copied().unwrap_or(0),
                std::cmp::Reverse(longest),
                i,
            ))
        })
        .min()
        .map(|(_, _, i)| i)
}

/// Shortest run of letters and digits worth asking the trigram index about. A shorter run
/// yields only trigrams padded with blanks (`ex` in `ex-4821` gives `ex `), which nearly every
/// ticket has: reading their posting lists cost 10 ms of a 11 ms search.
pub(crate) const MIN_INDEXED_RUN: usize = 3;

/// The runs of letters and digits in `word` long enough for the trigram index.
pub(crate) fn indexed_runs(word: &str) -> Vec<&str> {
    word.split(|c: char| !c.is_alphanumeric())
        .filter(|run| run.chars().count() >= MIN_INDEXED_RUN)
        .collect()
}

/// A tag as tickets store it (the same normalisation as on write; a malformed tag is refused
/// under the write's own field name, `tags`).
fn normalised_tag(tag: &str) -> Result<String, ApiError> {
    super::service::check_tags(vec![tag.to_owned()])?
        .pop()
        .ok_or_else(|| ApiError::invalid("tag", "must not be empty"))
}

/// The distinct lower-cased words of a search, in order.
///
/// # Errors
/// 422 naming `q` for more than [`MAX_SEARCH_CHARS`] characters or [`MAX_SEARCH_WORDS`] words.
pub fn search_words(q: &str) -> Result<Vec<String>, ApiError> {
    if q.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::invalid(
            "q",
            format!("at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let mut words: Vec<String> = Vec::new();
    for word in q.split_whitespace().map(str::to_lowercase) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    if words.len() > MAX_SEARCH_WORDS {
        return Err(ApiError::invalid(
            "q",
            format!("at most {MAX_SEARCH_WORDS} words"),
        ));
    }
    Ok(words)
}

/// A `LIKE` pattern matching text that contains `word` literally.
pub(crate) fn like_pattern(word: &str) -> LikeExpr {
    LikeExpr::new(pattern_text(word)).escape(LIKE_ESCAPE)
}

/// The text of a `LIKE` pattern (escaped with [`LIKE_ESCAPE`]) matching text that contains
/// `word` literally.
pub(crate) fn pattern_text(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 4);
    pattern.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_unique_and_bounded() {
        assert_eq!(
            search_words("  Camera  CHECK camera ").unwrap(),
            ["camera", "check"]
        );
        assert!(search_words("").unwrap().is_empty());
        assert!(search_words("a b c d e f g h").is_ok());
        assert_eq!(
            search_words("a b c d e f g h i").unwrap_err().code(),
            "validation_failed"
        );
        assert!(search_words(&"x".repeat(201)).is_err());
    }

    #[test]
    fn runs_long_enough_for_the_index() {
        assert_eq!(indexed_runs("ana@uni-a.example"), ["ana", "uni", "example"]);
        assert_eq!(indexed_runs("экзамен-2026"), ["экзамен", "2026"]);
    }

    #[test]
    fn the_index_is_asked_about_the_rarest_word() {
        let words = |q: &str| search_words(q).unwrap();
        assert_eq!(rarest(&words("camera ex-4821"), &[80, 0]), Some(1));
        assert_eq!(rarest(&words("camera exam"), &[80, 40]), Some(1));
        // Without counts, the longest run decides: `4821` is shorter than `camera`.
        assert_eq!(rarest(&words("ex-4821 camera"), &[]), Some(1));
        assert_eq!(rarest(&words("ex a-b"), &[0, 0]), None);
        let criteria = TicketCriteria {
            q: Some("camera ex-4821".into()),
            ..TicketCriteria::default()
        };
        #[allow(clippy::disallowed_methods)] // SQL text only, never run
        let sql = sea_orm::sea_query::Query::select()
            .cond_where(condition(&criteria, DbBackend::Postgres, &[80, 0]).unwrap())
            .to_string(sea_orm::sea_query::PostgresQueryBuilder);
        assert!(
            sql.contains(r#""tickets"."search_text" LIKE '%4821%'"#),
            "{sql}"
        );
        assert!(sql.contains(r#"COLLATE "C" LIKE '%camera%'"#), "{sql}");
        assert!(
            !sql.contains(r#""tickets"."search_text" LIKE '%camera%'"#),
            "{sql}"
        );
    }

    #[test]
    fn wildcards_match_themselves() {
        #[allow(clippy::disallowed_methods)] // SQL text only, never run
        let sql = |word: &str| {
            sea_orm::sea_query::Query::select()
                .expr(ticket::Column::SearchText.like(like_pattern(word)))
                .to_string(sea_orm::sea_query::SqliteQueryBuilder)
        };
        assert!(
            sql("50%_off!").contains(r"LIKE '%50!%!_off!!%' ESCAPE '!'"),
            "{}",
            sql("50%_off!")
        );
    }

    #[test]
    fn json_criteria_are_read_key_by_key() {
        let object = |v: Value| v.as_object().cloned().unwrap();
        let (criteria, kept) =
            TicketCriteria::from_json(&object(serde_json::json!({"status": "open", "q": null})))
                .unwrap();
        assert_eq!(criteria.status, Some(TicketStatus::Open));
        assert_eq!(kept, serde_json::json!({"status": "open"}));
        for (bad, field) in [
            (serde_json::json!({"colour": "red"}), "colour"),
            (serde_json::json!({"status": "bogus"}), "status"),
            (serde_json::json!({"group_id": 7}), "group_id"),
        ] {
            let err = TicketCriteria::from_json(&object(bad)).unwrap_err();
            let ApiError::Validation { errors, .. } = nested("filter", err) else {
                panic!("not a validation error");
            };
            assert_eq!(errors[0].field, format!("filter.{field}"));
        }
    }

    #[test]
    fn values_are_checked_as_the_ticket_list_uses_them() {
        let criteria = TicketCriteria {
            tag: Some(" Exam ".into()),
            q: Some("Camera camera".into()),
            ..TicketCriteria::default()
        };
        let checked = criteria.check().unwrap();
        assert_eq!(checked.tag.as_deref(), Some("exam"));
        assert_eq!(checked.words(), ["camera"]);
        let comma = TicketCriteria {
            tag: Some("a,b".into()),
            ..TicketCriteria::default()
        };
        assert!(comma.check().is_err());
    }
}
