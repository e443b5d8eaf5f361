//! Durable readers of the ticket event log.
//!
//! A reader keeps its position (the `seq` of the last entry it handled) on its named lease in
//! `work_leases`; one node at a time holds it. It reads the entries after its position in
//! order ([`LogReader`], which waits out PostgreSQL's in-flight gaps), handles a batch of them
//! in one transaction and stores the new position in that same transaction, fenced by its
//! lease token. A reader that dies midway loses the uncommitted batch, effects and position
//! together, and whoever takes the lease over next starts after the last committed batch: no
//! entry is missed and no effect written twice. A node that stalled past its lease cannot
//! commit: its position write matches no row and the batch rolls back.
//!
//! A batch that fails is retried with back-off; after `events.consumer_max_attempts` failures
//! the reader goes one entry at a time, and an entry that still fails on its own is skipped
//! with its error kept on the reader's row and counted as dead, so one bad entry cannot stop
//! every later one.
use super::log::{self, LogReader};
use crate::error::ApiError;
use crate::state::AppState;
use crate::work::named::{self, Held};
use crate::work::{Backoff, WorkerKind};
use chrono::TimeDelta;
use entity::ticket_event;
use std::time::{Duration, Instant};

/// The durable readers of the event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consumer {
    /// Carries a linked ticket's public replies and status changes back to its origin.
    FlowBack,
}

impl Consumer {
    /// Every reader, started on each node that runs them.
    pub const ALL: [Self; 1] = [Self::FlowBack];

    /// The name of its lease row.
    pub fn name(self) -> &'static str {
        match self {
            Self::FlowBack => "flow_back",
        }
    }

    fn kind(self) -> WorkerKind {
        match self {
            Self::FlowBack => WorkerKind::FlowBack,
        }
    }

    async fn handle(
        self,
        txn: &sea_orm::DatabaseTransaction,
        state: &AppState,
        entries: &[ticket_event::Model],
    ) -> Result<(), ApiError> {
        match self {
            Self::FlowBack => {
                crate::tickets::change::flow_back(txn, entries, state.clock.now()).await
            }
        }
    }
}

/// Back-off between failed attempts at a batch.
const BACKOFF: Backoff = Backoff {
    base: TimeDelta::seconds(1),
    max: TimeDelta::seconds(60),
};

/// Starts this node's readers (unless `events.consumers` is off).
pub fn spawn(state: &AppState) {
    if !state.settings.events.consumers {
        return;
    }
    for consumer in Consumer::ALL {
        tokio::spawn(run(state.clone(), consumer));
    }
}

/// Why a node stopped following the log.
enum Stop {
    /// Another node holds the reader now.
    Lost,
    /// Fault injection: stop as if the node had died, keeping the lease.
    Halted,
}

async fn run(state: AppState, consumer: Consumer) {
    let settings = &state.settings.events;
    let poll = Duration::from_millis(settings.consumer_poll_millis.max(10));
    // A node that does not hold the reader looks again now and then: a holder that died is
    // taken over once its lease has run out.
    let idle = poll.max(Duration::from_millis(500));
    let mut batches = 0_u32;
    loop {
        match named::claim(
            &state.db,
            consumer.name(),
            state.clock.now(),
            settings.consumer_lease_secs,
        )
        .await
        {
            Ok(Some(held)) => match follow(&state, consumer, held, &mut batches).await {
                Ok(Stop::Halted) => {
                    tracing::warn!(
                        consumer = consumer.name(),
                        "event reader halted (events.consumer_halt_after_batches)"
                    );
                    return;
                }
                Ok(Stop::Lost) => {
                    tracing::info!(consumer = consumer.name(), "event reader lease lost")
                }
                Err(err) => {
                    tracing::warn!(consumer = consumer.name(), error = ?err, "event reader stopped");
                }
            },
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(consumer = consumer.name(), error = ?err, "cannot claim event reader");
            }
        }
        tokio::time::sleep(idle).await;
    }
}

/// Follows the log while this node holds the reader.
async fn follow(
    state: &AppState,
    consumer: Consumer,
    mut held: Held,
    batches: &mut u32,
) -> Result<Stop, ApiError> {
    let settings = &state.settings.events;
    let poll = Duration::from_millis(settings.consumer_poll_millis.max(10));
    let lease_secs = settings.consumer_lease_secs;
    let mut reader = LogReader::after(held.position);
    let mut failures: u32 = 0;
    let mut measured: Option<Instant> = None;
    loop {
        let now = state.clock.now();
        if held.due_for_renewal(now, lease_secs)
            && !named::renew(&state.db, &mut held, now, lease_secs).await?
        {
            return Ok(Stop::Lost);
        }
        if measured.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            measured = Some(Instant::now());
            let head = log::head(&state.db).await?;
            state.work.set_lag(consumer.kind(), head - held.position);
        }
        let one_by_one = failures >= settings.consumer_max_attempts;
        let limit = if one_by_one {
            1
        } else {
            settings.consumer_batch.max(1)
        };
        let entries = reader.next(&state.db, limit).await?;
        if entries.is_empty() {
            tokio::time::sleep(poll).await;
            continue;
        }
        let halt = settings.consumer_halt_after_batches == Some(*batches);
        let full = entries.len() as u64 >= limit;
        match apply(
            state,
            consumer,
            &mut held,
            &entries,
            reader.position(),
            halt,
        )
        .await
        {
            Ok(Applied::Committed) => {
                failures = 0;
                *batches = batches.saturating_add(1);
                if !full {
                    // Caught up: let entries gather rather than commit a handful at a time.
                    tokio::time::sleep(poll).await;
                }
            }
            Ok(Applied::Halted) => return Ok(Stop::Halted),
            Ok(Applied::Lost) => return Ok(Stop::Lost),
            Err(err) => {
                // Read the batch again from the stored position.
                reader = LogReader::after(held.position);
                let now = state.clock.now();
                let text = err.to_string();
                if one_by_one {
                    skip(state, consumer, &mut held, &entries, &text).await?;
                    reader = LogReader::after(held.position);
                    failures = 0;
                    continue;
                }
                failures += 1;
                state.work.retried(consumer.kind());
                tracing::warn!(consumer = consumer.name(), failures, error = %text,
                    "an event reader's batch failed; it will be retried");
                named::record_failure(&state.db, &held, &text, now).await?;
                let wait = BACKOFF.next_attempt(now, i32::try_from(failures).unwrap_or(i32::MAX));
                let wait = (wait - now).to_std().unwrap_or(Duration::from_secs(1));
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// How handling a batch ended.
enum Applied {
    Committed,
    Lost,
    Halted,
}

/// Handles `entries` and stores `position` after them, in one transaction.
async fn apply(
    state: &AppState,
    consumer: Consumer,
    held: &mut Held,
    entries: &[ticket_event::Model],
    position: i64,
    halt: bool,
) -> Result<Applied, ApiError> {
    let txn = crate::backend::begin(&state.db).await?;
    consumer.handle(&txn, state, entries).await?;
    if halt {
        // The node "dies" before the commit: the batch's effects go with the transaction.
        txn.rollback().await?;
        return Ok(Applied::Halted);
    }
    let now = state.clock.now();
    if !named::advance(
        &txn,
        held,
        position,
        now,
        state.settings.events.consumer_lease_secs,
    )
    .await?
    {
        txn.rollback().await?;
        return Ok(Applied::Lost);
    }
    txn.commit().await?;
    Ok(Applied::Committed)
}

/// Moves past an entry that failed on its own, keeping why on the reader's row.
async fn skip(
    state: &AppState,
    consumer: Consumer,
    held: &mut Held,
    entries: &[ticket_event::Model],
    error: &str,
) -> Result<(), ApiError> {
    let Some(entry) = entries.first() else {
        return Ok(());
    };
    let now = state.clock.now();
    let lease_secs = state.settings.events.consumer_lease_secs;
    tracing::error!(consumer = consumer.name(), seq = entry.seq, event_id = %entry.id,
        error, "an event reader skipped an entry it cannot handle");
    if named::advance(&state.db, held, entry.seq, now, lease_secs).await? {
        let reason = format!("skipped entry {} ({}): {error}", entry.seq, entry.id);
        named::record_failure(&state.db, held, &reason, now).await?;
        state.work.dead(consumer.kind());
    }
    Ok(())
}
