//! What the hand-written SQL says differently on PostgreSQL and SQLite, behind one trait with
//! one implementation per database. Services ask [`of`] for their connection's backend and
//! never compare database kinds themselves; a new difference is a new method here, so both
//! databases always answer it.
use crate::tickets::criteria::{LIKE_ESCAPE, indexed_runs, like_pattern, pattern_text};
use entity::ticket;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Func, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

/// A grouping key of a report: the expression rows are grouped by, and the one the key is
/// read as (text).
#[derive(Clone, Debug)]
pub struct Bucket {
    /// What `GROUP BY` names.
    pub group: Expr,
    /// The key as text, as the report reads it.
    pub key: Expr,
}

impl Bucket {
    /// A key that is grouped by itself.
    pub fn plain(key: Expr) -> Self {
        Self {
            group: key.clone(),
            key,
        }
    }
}

/// The SQL that differs between the two databases.
pub trait Backend: Send + Sync {
    /// Statements to run on each new connection pool before use.
    fn connection_setup(&self) -> Option<&'static str>;

    /// Tickets whose tag list holds exactly `tag` (already normalised).
    fn has_tag(&self, tag: &str) -> SimpleExpr;

    /// Whether a word search is planned around a trigram index: then which word is rare
    /// matters ([`Backend::contains_word`]'s `indexed`), the words are counted in a sample of
    /// the tenant's tickets, and each search statement is planned for its own patterns.
    fn searches_through_index(&self) -> bool;

    /// Tickets whose search text contains `word` literally; `indexed` when this is the word
    /// the index is asked about (see [`Backend::searches_through_index`]).
    fn contains_word(&self, word: &str, indexed: bool) -> Condition;

    /// Adds each of a ticket's tags to `select` as a row of its own, answering the tag's
    /// expression.
    fn tag_rows(&self, select: &mut SelectStatement) -> Expr;

    /// The ticket's company id as text a UUID parses from.
    fn company_key(&self) -> Bucket;

    /// The quarter hour since the epoch in which the ticket was created, as decimal text.
    fn quarter_hour_key(&self) -> Bucket;
    /// The `n`th bind parameter of a hand-written statement (1-based; the same `n` may appear
    /// more than once).
    fn parameter(&self, n: usize) -> String;
    /// What a worker's `SELECT` of candidate rows ends with so that workers on several nodes
    /// take disjoint rows without waiting on each other.
    fn skip_locked(&self) -> &'static str;
    /// Whether an entry of the ticket event log may become visible after one with a higher
    /// `seq` (transactions commit in another order than they took their `seq`). On SQLite
    /// writers are serialised, so a gap below a visible entry is a rolled-back transaction.
    fn log_gaps_may_fill(&self) -> bool;
}

/// PostgreSQL.
#[derive(Debug)]
pub struct Postgres;

/// SQLite.
#[derive(Debug)]
pub struct Sqlite;

/// The backend of a database kind; anything but PostgreSQL is treated as SQLite, the embedded
/// default.
pub fn for_kind(kind: DbBackend) -> &'static dyn Backend {
    match kind {
        DbBackend::Postgres => &Postgres,
        _ => &Sqlite,
    }
}

/// The backend of a connection.
pub fn of(db: &impl ConnectionTrait) -> &'static dyn Backend {
    for_kind(db.get_database_backend())
}

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the transaction
/// takes the write lock first, so one that reads before it writes waits its turn behind
/// another writer (up to `busy_timeout`) instead of failing when that writer commits between
/// its read and its first write (a deferred transaction cannot upgrade a stale snapshot). On
/// PostgreSQL it is a plain `BEGIN`.
///
/// # Errors
/// Fails when the database does.
#[allow(clippy::disallowed_methods)] // the one place a transaction is begun
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The backend a database URL names, before connecting.
pub fn for_url(url: &str) -> &'static dyn Backend {
    if url.starts_with("postgres") {
        &Postgres
    } else {
        &Sqlite
    }
}

impl Backend for Postgres {
    fn connection_setup(&self) -> Option<&'static str> {
        None
    }

    fn parameter(&self, n: usize) -> String {
        format!("${n}")
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn log_gaps_may_fill(&self) -> bool {
        true
    }

    /// The array is asked whether it contains the tag (a GIN index on `tags::jsonb` answers it).
    fn has_tag(&self, tag: &str) -> SimpleExpr {
        Expr::cust_with_values(
            r#"CAST("tickets"."tags" AS jsonb) @> CAST($1 AS jsonb)"#,
            [serde_json::json!([tag]).to_string()],
        )
    }

    fn searches_through_index(&self) -> bool {
        true
    }

    fn contains_word(&self, word: &str, indexed: bool) -> Condition {
        if indexed {
            through_index(word)
        } else {
            Condition::all().add(exactly(word))
        }
    }

    fn tag_rows(&self, select: &mut SelectStatement) -> Expr {
        select.from_function(
            Func::cust("json_array_elements_text")
                .arg(Expr::col((ticket::Entity, ticket::Column::Tags))),
            Alias::new("tag"),
        );
        Expr::cust("\"tag\"")
    }

    /// UUIDs are their own type: grouped as they are, formatted once per group.
    fn company_key(&self) -> Bucket {
        let company = Expr::col((ticket::Entity, ticket::Column::CompanyId));
        Bucket {
            group: company.clone(),
            key: company.cast_as(Alias::new("text")),
        }
    }

    /// One arithmetic step per row (date_trunc + to_char cost three times as much), formatted
    /// once per group.
    fn quarter_hour_key(&self) -> Bucket {
        let quarter = "floor(date_part('epoch', \"tickets\".\"created_at\") / 900)::bigint";
        Bucket {
            group: Expr::cust(quarter),
            key: Expr::cust(format!("({quarter})::text")),
        }
    }
}

impl Backend for Sqlite {
    fn parameter(&self, n: usize) -> String {
        format!("?{n}")
    }

    /// Writers are serialised: the conditional UPDATE alone decides who takes a row.
    fn skip_locked(&self) -> &'static str {
        ""
    }

    fn log_gaps_may_fill(&self) -> bool {
        false
    }

    /// Concurrent readers beside one writer, foreign keys enforced, and a writer that waits for
    /// a lock instead of failing at once.
    fn connection_setup(&self) -> Option<&'static str> {
        Some("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
    }

    /// Looks through the array's elements.
    fn has_tag(&self, tag: &str) -> SimpleExpr {
        Expr::cust_with_values(
            r#"EXISTS (SELECT 1 FROM json_each("tickets"."tags") WHERE json_each.value = ?)"#,
            [tag.to_owned()],
        )
    }

    /// SQLite plans each statement as it comes and has no trigram index.
    fn searches_through_index(&self) -> bool {
        false
    }

    fn contains_word(&self, word: &str, _indexed: bool) -> Condition {
        Condition::all().add(ticket::Column::SearchText.like(like_pattern(word)))
    }

    fn tag_rows(&self, select: &mut SelectStatement) -> Expr {
        select.from_function(
            Func::cust("json_each").arg(Expr::col((ticket::Entity, ticket::Column::Tags))),
            Alias::new("tag"),
        );
        Expr::cust("\"tag\".\"value\"")
    }

    /// UUIDs are 16-byte blobs: their hex parses as a UUID.
    fn company_key(&self) -> Bucket {
        Bucket::plain(Expr::cust("lower(hex(\"tickets\".\"company_id\"))"))
    }

    fn quarter_hour_key(&self) -> Bucket {
        Bucket::plain(Expr::cust(
            "CAST(CAST(strftime('%s', \"tickets\".\"created_at\") AS INTEGER) / 900 AS TEXT)",
        ))
    }
}

/// Tickets whose search text contains `word` literally, asking the trigram index (PostgreSQL).
///
/// A word that is one run of letters and digits is one `LIKE`, which the trigram
/// index answers. Any other word (`ex-4821`, `ana@uni.edu`) is asked of the index through its
/// runs of [`crate::tickets::criteria::MIN_INDEXED_RUN`] characters or more (`4821`), and
/// matched exactly by a `LIKE` under the `"C"` collation: the index, built under the column's
/// own collation, cannot answer it, while the planner still estimates it from the column's
/// statistics. A comparison the planner could not estimate (`search_text || ''`, `strpos`)
/// looked so selective that common words were searched through the index instead of the newest
/// tickets, 40 ms instead of 1 ms.
fn through_index(word: &str) -> Condition {
    let runs = indexed_runs(word);
    if runs == [word] {
        return Condition::all().add(ticket::Column::SearchText.like(like_pattern(word)));
    }
    let mut all = Condition::all();
    for run in runs {
        all = all.add(ticket::Column::SearchText.like(like_pattern(run)));
    }
    all.add(exactly(word))
}

/// Tickets whose search text contains `word` literally, never through the trigram index
/// (PostgreSQL; see [`through_index`]).
fn exactly(word: &str) -> SimpleExpr {
    Expr::cust_with_values(
        format!(r#""tickets"."search_text" COLLATE "C" LIKE $1 ESCAPE '{LIKE_ESCAPE}'"#),
        [pattern_text(word)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres_sql(word: &str) -> String {
        #[allow(clippy::disallowed_methods)] // SQL text only, never run
        sea_orm::sea_query::Query::select()
            .cond_where(Postgres.contains_word(word, true))
            .to_string(sea_orm::sea_query::PostgresQueryBuilder)
    }

    #[test]
    fn a_plain_word_is_one_indexed_pattern() {
        let sql = postgres_sql("camera");
        assert!(
            sql.ends_with(r#"WHERE "tickets"."search_text" LIKE '%camera%' ESCAPE '!'"#),
            "{sql}"
        );
    }

    #[test]
    fn other_words_ask_the_index_for_their_long_runs_and_match_exactly() {
        let sql = postgres_sql("ex-4821");
        assert!(
            sql.contains(r#""tickets"."search_text" LIKE '%4821%' ESCAPE '!'"#),
            "{sql}"
        );
        assert!(
            sql.contains(r#""tickets"."search_text" COLLATE "C" LIKE '%ex-4821%' ESCAPE '!'"#),
            "{sql}"
        );
        assert!(!sql.contains("'%ex%'"), "{sql}");
        let short = postgres_sql("a_b");
        assert!(
            short.ends_with(r#"COLLATE "C" LIKE '%a!_b%' ESCAPE '!'"#),
            "{short}"
        );
    }

    #[test]
    fn each_kind_of_database_has_its_backend() {
        assert!(for_kind(DbBackend::Postgres).searches_through_index());
        assert!(!for_kind(DbBackend::Sqlite).searches_through_index());
        assert!(
            for_url("postgres://db/helpdesk")
                .connection_setup()
                .is_none()
        );
        assert!(for_url("sqlite://helpdesk.db").connection_setup().is_some());
    }
}
