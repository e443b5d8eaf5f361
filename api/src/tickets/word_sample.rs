//! Which word of a search is the rarest: a small sample of tickets' search text, kept per node,
//! so that a word search asks the trigram index about the word that narrows it most.
//!
//! The trigram index answers a `LIKE` by reading a posting list per trigram of the pattern,
//! list by list; giving it every word of `ex-4821 camera` makes it read the lists of `camera`
//! (one ticket in twelve) at every ticket that holds `4821`, which was most of a search's
//! 10 ms. Asking it about the rarest word and matching the others on the rows it returns takes
//! under 1 ms, and asking about the wrong one (a common word with a rare one left to filter)
//! takes 40 ms. PostgreSQL's own statistics keep about a hundred values of the column, too few to
//! tell a word in one ticket of a thousand from one in a million; this sample keeps the newest
//! [`SAMPLE_ROWS`] tickets of the scope that searches (read through that scope, like any other
//! ticket query), per tenant, renewed every [`MAX_AGE`].
//!
//! Only PostgreSQL is sampled: SQLite has no trigram index and reads the rows either way.
//! The sample decides a plan, never a result: every word is still matched exactly.
use crate::cache::per_tenant::PerTenant;
use crate::error::ApiError;
use entity::ticket;
use memchr::memmem;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect};
use std::sync::Arc;
use std::time::Duration;
use tenants::{Scope, Scoped};

/// Rows kept per tenant; counting a word in them costs tens of microseconds.
pub const SAMPLE_ROWS: u64 = 1_000;
/// Characters of each row's search text kept (the subject and the start of the description).
pub const TEXT_CHARS: i32 = 256;
/// How long a sample is used before it is taken again.
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// The sampled search texts of each searching tenant, on this node.
pub struct WordSample {
    by_tenant: PerTenant<Arc<[String]>>,
}

impl Default for WordSample {
    fn default() -> Self {
        Self {
            by_tenant: PerTenant::new(MAX_AGE),
        }
    }
}

impl std::fmt::Debug for WordSample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordSample").finish_non_exhaustive()
    }
}

impl WordSample {
    /// How often each of `words` occurs in the sample of `scope`'s tickets, in order. Takes the
    /// sample first when there is none or it is older than [`MAX_AGE`]. A sample that cannot be
    /// taken counts every word 0 (the search itself then meets the database's failure).
    pub async fn counts(
        &self,
        db: &impl ConnectionTrait,
        scope: &Scope,
        words: &[String],
    ) -> Vec<usize> {
        if !crate::backend::of(db).searches_through_index() || words.len() < 2 {
            return vec![0; words.len()];
        }
        let sampled = self
            .by_tenant
            .get_or_load(scope.tenant_id(), || take(db, scope))
            .await;
        match sampled {
            Ok(texts) => words.iter().map(|word| occurrences(&texts, word)).collect(),
            Err(err) => {
                tracing::warn!(error = %err, "could not sample search text");
                vec![0; words.len()]
            }
        }
    }
}

/// Sampled rows that contain `word`.
fn occurrences(texts: &[String], word: &str) -> usize {
    let finder = memmem::Finder::new(word.as_bytes());
    texts
        .iter()
        .filter(|text| finder.find(text.as_bytes()).is_some())
        .count()
}

/// The start of the search text of the newest [`SAMPLE_ROWS`] tickets in `scope`.
async fn take(db: &impl ConnectionTrait, scope: &Scope) -> Result<Arc<[String]>, ApiError> {
    let texts: Vec<String> = ticket::Entity::scoped(scope)
        .select_only()
        .column_as(
            Expr::cust_with_values(r#"substr("tickets"."search_text", 1, $1)"#, [TEXT_CHARS]),
            "text",
        )
        .order_by_desc(ticket::Column::Id)
        .limit(SAMPLE_ROWS)
        .into_tuple()
        .all(db)
        .await?;
    Ok(texts.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rows_holding_the_word_once_each() {
        let texts = ["camera exam camera", "exam ex-4821", "microphone"].map(String::from);
        assert_eq!(occurrences(&texts, "camera"), 1);
        assert_eq!(occurrences(&texts, "exam"), 2);
        assert_eq!(occurrences(&texts, "4821"), 1);
        assert_eq!(occurrences(&texts, "zoom"), 0);
    }
}
