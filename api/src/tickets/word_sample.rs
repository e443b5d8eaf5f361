//! Which word of a search is the rarest: a small sample of tickets' search text, kept per node,
//! so that a word search asks the trigram index about the word that narrows it most.
//!
//! The trigram index answers a `LIKE` by reading a posting list per trigram of the pattern,
//! list by list; giving it every word of `ex-4821 camera` makes it read the lists of `camera`
//! (one ticket in twelve) at every ticket that holds `4821`, which was most of a search's
//! 10 ms. Asking it about the rarest word and matching the others on the rows it returns takes
//! under 1 ms, and asking about the wrong one (a common word with a rare one left to filter)
//! takes 40 ms. PostgreSQL's own statistics keep about a hundred values of the column, too few to
//! tell a word in one ticket of a thousand from one in a million; this sample keeps
//! [`SAMPLE_ROWS`] rows, taken from random pages and renewed every [`MAX_AGE`].
//!
//! Only PostgreSQL is sampled: SQLite has no trigram index and reads the rows either way.
//! The sample decides a plan, never a result: every word is still matched exactly.
use memchr::memmem;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Rows kept; counting a word in them costs tens of microseconds.
pub const SAMPLE_ROWS: usize = 1_000;
/// Characters of each row's search text kept (the subject and the start of the description).
pub const TEXT_CHARS: usize = 256;
/// How long a sample is used before it is taken again.
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// How long after a failed sampling it is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The sampled search texts of this node's database, and when they were taken.
#[derive(Debug, Default)]
pub struct WordSample {
    taken: RwLock<Option<(Instant, Arc<[String]>)>>,
    refreshing: AtomicBool,
}

impl WordSample {
    /// An empty sample, taken on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// How often each of `words` occurs in the sample, in order. Takes the sample first when
    /// there is none or it is older than [`MAX_AGE`] (one request does so while the others use
    /// what is there). With no sample every count is 0.
    ///
    /// A sample that cannot be taken (the database failing) leaves the last one in use, or none;
    /// the search itself then reports the database's failure.
    pub async fn counts(&self, db: &impl ConnectionTrait, words: &[String]) -> Vec<usize> {
        if db.get_database_backend() != DbBackend::Postgres || words.len() < 2 {
            return vec![0; words.len()];
        }
        let texts = self.current(db).await;
        words.iter().map(|word| occurrences(&texts, word)).collect()
    }

    async fn current(&self, db: &impl ConnectionTrait) -> Arc<[String]> {
        let (fresh, texts) = match self.taken.read() {
            Ok(guard) => match guard.as_ref() {
                Some((at, texts)) => (at.elapsed() < MAX_AGE, Arc::clone(texts)),
                None => (false, Arc::from(Vec::new())),
            },
            Err(_) => (false, Arc::from(Vec::new())),
        };
        if fresh || self.refreshing.swap(true, Ordering::AcqRel) {
            return texts;
        }
        let taken = {
            // Released however this ends, a request dropped mid-sampling included.
            let _refreshing = Refreshing(&self.refreshing);
            take(db).await
        };
        let taken: Arc<[String]> = match taken {
            Ok(rows) => rows.into(),
            // A search still works without a fresh sample, only with a plan chosen on less.
            Err(err) => {
                tracing::warn!(error = %err, "could not sample search text; keeping the last sample");
                // Tried again after RETRY_AFTER, not by every search meanwhile.
                let tried = Instant::now().checked_sub(MAX_AGE.saturating_sub(RETRY_AFTER));
                if let (Some(at), Ok(mut guard)) = (tried, self.taken.write()) {
                    *guard = Some((at, Arc::clone(&texts)));
                }
                return texts;
            }
        };
        if let Ok(mut guard) = self.taken.write() {
            *guard = Some((Instant::now(), Arc::clone(&taken)));
        }
        taken
    }
}

/// Marks a sampling in progress until dropped.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
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

/// About [`SAMPLE_ROWS`] rows from random pages of `tickets` (`TABLESAMPLE SYSTEM` reads only
/// those pages), each cut to [`TEXT_CHARS`].
async fn take(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let estimated = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'tickets'::regclass",
        ))
        .await?
        .map(|row| row.try_get::<f64>("", "rows"))
        .transpose()?
        .unwrap_or(0.0);
    // A table never analysed says -1; a small one is read whole.
    #[allow(clippy::cast_precision_loss)]
    let percent = if estimated > 0.0 {
        (SAMPLE_ROWS as f64 * 200.0 / estimated).clamp(0.01, 100.0)
    } else {
        100.0
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT left(search_text, $1) AS text FROM tickets TABLESAMPLE SYSTEM ($2) LIMIT $3",
            [
                i32::try_from(TEXT_CHARS).unwrap_or(i32::MAX).into(),
                percent.into(),
                i64::try_from(SAMPLE_ROWS).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "text").ok())
        .collect())
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

    #[tokio::test]
    async fn a_sample_that_cannot_be_taken_is_not_retried_by_every_search() {
        // SQLite has no `pg_class`: taking the sample fails as a broken database would.
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let sample = WordSample::new();
        assert!(sample.current(&db).await.is_empty());
        assert!(!sample.refreshing.load(Ordering::Acquire));
        let (at, _) = sample.taken.read().unwrap().clone().unwrap();
        let age = at.elapsed();
        assert!(age < MAX_AGE, "the next search would sample again at once");
        assert!(age + RETRY_AFTER + Duration::from_secs(1) >= MAX_AGE);
    }
}
