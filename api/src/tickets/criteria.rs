//! Which tickets a filter selects: the one reading of the ticket list's filter parameters,
//! shared by `GET /tickets`, saved views and bulk jobs. User text is matched as text, never as
//! an SQL pattern: a tag matches exactly, and `q` matches tickets containing every word.
use super::dto::TicketFilter;
use crate::backend;
use crate::error::ApiError;
use entity::ticket;
use sea_orm::sea_query::LikeExpr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr};

/// Most words one search may hold; each adds a pattern match per ticket read.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// The character that makes the next one literal in a `LIKE` pattern. Not a backslash: the two
/// databases quote a backslash in `ESCAPE '…'` differently, and `!` needs no quoting anywhere.
pub(crate) const LIKE_ESCAPE: char = '!';

/// Whether a query over `filter` must be planned with its search patterns in view.
///
/// PostgreSQL plans a prepared statement once for any parameters after a few runs. For a word
/// search that generic plan cannot tell a word found in every tenth ticket (walk the newest
/// tickets and stop at a page) from a rare one (ask the trigram index), and the plan it keeps
/// read the trigram index over every tenant: 700 ms for `q=camera exam` against 4 ms with the
/// words in view. SQLite plans each statement as it comes.
pub fn plans_per_pattern(filter: &TicketFilter, kind: DbBackend) -> bool {
    backend::for_kind(kind).searches_through_index()
        && filter.q.as_deref().is_some_and(|q| !q.trim().is_empty())
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

/// The condition selecting the tickets `filter` describes, for a query on a database of `kind`.
/// `counts` says how common each of the search's words is (in the order of [`search_words`], as
/// [`super::word_sample::WordSample::counts`] gives them; missing counts are 0): where the
/// search goes through a trigram index, only the rarest word is asked of the index, the others
/// are matched on the rows it gives.
///
/// # Errors
/// 422 naming `tag` or `q` for a value no ticket could match (a malformed tag, a search too
/// long or of too many words).
pub fn condition(
    filter: &TicketFilter,
    kind: DbBackend,
    counts: &[usize],
) -> Result<Condition, ApiError> {
    let backend = backend::for_kind(kind);
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
        all = all.add(backend.has_tag(&normalised_tag(tag)?));
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
        let words = search_words(q)?;
        let driver = rarest(&words, counts);
        for (i, word) in words.iter().enumerate() {
            all = all.add(backend.contains_word(word, Some(i) == driver));
        }
    }
    Ok(all)
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
        let filter = TicketFilter {
            q: Some("camera ex-4821".into()),
            ..TicketFilter::default()
        };
        #[allow(clippy::disallowed_methods)] // SQL text only, never run
        let sql = sea_orm::sea_query::Query::select()
            .cond_where(condition(&filter, DbBackend::Postgres, &[80, 0]).unwrap())
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
}
