//! Reading the ticket event log in order, missing nothing.
//!
//! Entries are appended by the tickets' write path ([`crate::tickets::change`]) and read by
//! `seq`. On SQLite writers are serialised, so an entry becomes visible only after every entry
//! with a lower `seq`: a missing `seq` below a visible one belongs to a transaction that rolled
//! back. On PostgreSQL a transaction that took `seq` 7 may commit after another took 8, so a
//! reader that saw 8 but not 7 must not move past 7 until the transaction holding it has ended.
//! The reader notes, when it first sees such a gap, the first transaction id not yet started
//! (`pg_snapshot_xmax`); the holder of every `seq` below the visible one had written already,
//! so it is older. Once the oldest running transaction (`pg_snapshot_xmin`) is at or past
//! that mark, the holders have all committed (their entries are visible now) or rolled back
//! (the gap is final), and the reader moves on.
use crate::error::ApiError;
use entity::ticket_event;
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

/// A gap seen in the log: every `seq` below `below` not yet read is final once the oldest
/// running transaction is at or past `horizon`.
#[derive(Clone, Copy, Debug)]
struct Gap {
    below: i64,
    horizon: i64,
}

/// A reader of the whole log (every tenant's entries) from a position on. Whoever holds one
/// decides what each entry may reach: the event stream filters them by each subscriber's scope.
#[derive(Debug)]
pub struct LogReader {
    position: i64,
    gap: Option<Gap>,
}

#[derive(FromQueryResult)]
struct Head {
    head: Option<i64>,
}

#[derive(FromQueryResult)]
struct Xid {
    xid: i64,
}

/// The `seq` of the newest entry (0 for an empty log).
///
/// # Errors
/// Fails when the database does.
pub async fn head(db: &DatabaseConnection) -> Result<i64, ApiError> {
    let backend = db.get_database_backend();
    let found = Head::find_by_statement(Statement::from_string(
        backend,
        "SELECT MAX(seq) AS head FROM ticket_events",
    ))
    .one(db)
    .await?;
    Ok(found.and_then(|h| h.head).unwrap_or(0))
}

/// `pg_snapshot_xmin` or `pg_snapshot_xmax` of the current snapshot.
async fn snapshot_bound(db: &DatabaseConnection, bound: &str) -> Result<i64, ApiError> {
    let sql = format!("SELECT ({bound}(pg_current_snapshot()))::text::bigint AS xid");
    Xid::find_by_statement(Statement::from_string(DatabaseBackend::Postgres, sql))
        .one(db)
        .await?
        .map(|x| x.xid)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no snapshot")))
}

impl LogReader {
    /// A reader that starts after `position`.
    pub fn after(position: i64) -> Self {
        Self {
            position,
            gap: None,
        }
    }

    /// The `seq` of the last entry returned.
    pub fn position(&self) -> i64 {
        self.position
    }

    /// The next entries in order, at most `limit`; fewer (or none) when the log has no more or
    /// a gap must settle first.
    ///
    /// # Errors
    /// Fails when the database does.
    #[allow(clippy::disallowed_methods)] // the log's reader sees every tenant's entries; what
    // each entry may reach is decided by the consumer (the stream by each subscriber's scope).
    pub async fn next(
        &mut self,
        db: &DatabaseConnection,
        limit: u64,
    ) -> Result<Vec<ticket_event::Model>, ApiError> {
        let rows = ticket_event::Entity::find()
            .filter(ticket_event::Column::Seq.gt(self.position))
            .order_by_asc(ticket_event::Column::Seq)
            .limit(limit)
            .all(db)
            .await?;
        let gaps_may_fill = crate::backend::of(db).log_gaps_may_fill();
        if gaps_may_fill && let Some(gap) = self.gap {
            if snapshot_bound(db, "pg_snapshot_xmin").await? >= gap.horizon {
                // Every holder of a seq below `gap.below` has ended: what is visible below it
                // is read now, and what is still missing there was rolled back.
                let reached = (rows.len() as u64) < limit
                    || rows.last().is_some_and(|row| row.seq >= gap.below);
                let mut taken = Vec::with_capacity(rows.len());
                let mut rest = rows.into_iter().peekable();
                while let Some(row) = rest.next_if(|row| row.seq < gap.below) {
                    self.position = row.seq;
                    taken.push(row);
                }
                if reached {
                    // Nothing fills the rest of the gap: read on past it.
                    self.gap = None;
                    self.position = self.position.max(gap.below - 1);
                    taken.extend(self.contiguous(db, rest.collect()).await?);
                }
                return Ok(taken);
            }
            return Ok(self.contiguous_until_gap(rows));
        }
        if gaps_may_fill {
            self.contiguous(db, rows).await
        } else {
            // Gaps on SQLite are rolled-back transactions: nothing will fill them.
            if let Some(last) = rows.last() {
                self.position = last.seq;
            }
            Ok(rows)
        }
    }

    /// The rows that follow the position without a gap; at the first gap, notes it with the
    /// current horizon.
    async fn contiguous(
        &mut self,
        db: &DatabaseConnection,
        rows: Vec<ticket_event::Model>,
    ) -> Result<Vec<ticket_event::Model>, ApiError> {
        let mut taken = Vec::with_capacity(rows.len());
        for row in rows {
            if row.seq != self.position + 1 {
                let horizon = snapshot_bound(db, "pg_snapshot_xmax").await?;
                self.gap = Some(Gap {
                    below: row.seq,
                    horizon,
                });
                break;
            }
            self.position = row.seq;
            taken.push(row);
        }
        Ok(taken)
    }

    /// With a gap still open: the rows before it (none, since the position stops at a gap).
    fn contiguous_until_gap(&mut self, rows: Vec<ticket_event::Model>) -> Vec<ticket_event::Model> {
        let mut taken = Vec::new();
        for row in rows {
            if row.seq != self.position + 1 {
                break;
            }
            self.position = row.seq;
            taken.push(row);
        }
        taken
    }
}
