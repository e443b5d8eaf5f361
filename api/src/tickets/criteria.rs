//! Which tickets a filter selects: the one reading of the ticket list's filter parameters,
//! shared by `GET /tickets`, saved views and bulk jobs. User text is matched as text, never as
//! an SQL pattern: a tag matches exactly, and `q` matches tickets containing every word.
use super::dto::TicketFilter;
use crate::error::ApiError;
use entity::ticket;
use sea_orm::sea_query::{Expr, LikeExpr, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr};

/// Most words one search may hold; each adds a pattern match per ticket read.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// The character that makes the next one literal in a `LIKE` pattern. Not a backslash: the two
/// databases quote a backslash in `ESCAPE '…'` differently, and `!` needs no quoting anywhere.
const LIKE_ESCAPE: char = '!';

/// Whether a query over `filter` must be planned with its search patterns in view.
///
/// PostgreSQL plans a prepared statement once for any parameters after a few runs. For a word
/// search that generic plan cannot tell a word found in every tenth ticket (walk the newest
/// tickets and stop at a page) from a rare one (ask the trigram index), and the plan it keeps
/// read the trigram index over every tenant: 700 ms for `q=camera exam` against 4 ms with the
/// words in view. SQLite plans each statement as it comes.
pub fn plans_per_pattern(filter: &TicketFilter, backend: DbBackend) -> bool {
    backend == DbBackend::Postgres && filter.q.as_deref().is_some_and(|q| !q.trim().is_empty())
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

/// The condition selecting the tickets `filter` describes, for a query on `backend`.
///
/// # Errors
/// 422 naming `tag` or `q` for a value no ticket could match (a malformed tag, a search too
/// long or of too many words).
pub fn condition(filter: &TicketFilter, backend: DbBackend) -> Result<Condition, ApiError> {
    let mut all = Condition::all();
    if let Some(id) = filter.tenant_id {
        all = all.add(ticket::Column::TenantId.eq(id));
    }
    if let Some(status) = filter.status {
        all = all.add(ticket::Column::Status.eq(status.as_str()));
    }
    if let Some(priority) = filter.priority {
        all = all.add(ticket::Column::Priority.eq(priority.as_str()));
    }
    if let Some(id) = filter.group_id {
        all = all.add(ticket::Column::GroupId.eq(id));
    }
    if let Some(id) = filter.assignee_id {
        all = all.add(ticket::Column::AssigneeId.eq(id));
    }
    if let Some(id) = filter.requester_id {
        all = all.add(ticket::Column::RequesterId.eq(id));
    }
    if let Some(id) = filter.company_id {
        all = all.add(ticket::Column::CompanyId.eq(id));
    }
    if let Some(source) = filter.source {
        all = all.add(ticket::Column::Source.eq(source.as_str()));
    }
    if let Some(tag) = &filter.tag {
        all = all.add(has_tag(&normalised_tag(tag)?, backend));
    }
    if let Some(at) = filter.created_after {
        all = all.add(ticket::Column::CreatedAt.gte(at));
    }
    if let Some(at) = filter.created_before {
        all = all.add(ticket::Column::CreatedAt.lt(at));
    }
    if let Some(at) = filter.updated_after {
        all = all.add(ticket::Column::UpdatedAt.gte(at));
    }
    if let Some(q) = &filter.q {
        for word in search_words(q)? {
            all = all.add(ticket::Column::SearchText.like(contains(&word)));
        }
    }
    Ok(all)
}

/// A tag as tickets store it (the same normalisation as on write).
fn normalised_tag(tag: &str) -> Result<String, ApiError> {
    super::service::check_tags(vec![tag.to_owned()])?
        .pop()
        .ok_or_else(|| ApiError::invalid("tag", "must not be empty"))
        .map_err(|err| match err {
            ApiError::Validation { .. } => {
                ApiError::invalid("tag", "a tag is 1-64 characters without commas")
            }
            other => other,
        })
}

/// Tickets whose tag list holds exactly `tag`. Tags live in a JSON array: PostgreSQL asks the
/// array whether it contains the tag (a GIN index on `tags::jsonb` answers it), SQLite looks
/// through the array's elements.
fn has_tag(tag: &str, backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            r#"CAST("tickets"."tags" AS jsonb) @> CAST($1 AS jsonb)"#,
            [serde_json::json!([tag]).to_string()],
        ),
        _ => Expr::cust_with_values(
            r#"EXISTS (SELECT 1 FROM json_each("tickets"."tags") WHERE json_each.value = ?)"#,
            [tag.to_owned()],
        ),
    }
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
fn contains(word: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(word.len() + 4);
    pattern.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape(LIKE_ESCAPE)
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
    fn wildcards_match_themselves() {
        let sql = |word: &str| {
            sea_orm::sea_query::Query::select()
                .expr(ticket::Column::SearchText.like(contains(word)))
                .to_string(sea_orm::sea_query::SqliteQueryBuilder)
        };
        assert!(
            sql("50%_off!").contains(r"LIKE '%50!%!_off!!%' ESCAPE '!'"),
            "{}",
            sql("50%_off!")
        );
    }
}
