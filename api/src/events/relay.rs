//! Each node follows the ticket event log and hands every new entry to the subscribers of its
//! event streams, whichever node wrote it. The log is in the database, so a change committed
//! while Redis is away still reaches every stream, and nothing depends on a publish after the
//! commit succeeding. How far it is behind the log's head is `/metrics`'
//! `helpdesk_event_consumer_lag_entries{consumer="event_relay"}`, measured every second.
use super::bus::TicketEvent;
use super::log::{self, LogReader};
use crate::state::AppState;
use crate::work::WorkerKind;
use entity::ticket_event;
use std::time::Duration;

/// How often an idle relay looks for new entries: the longest an event waits before it reaches
/// a stream.
const POLL: Duration = Duration::from_millis(50);
/// Entries read at once.
const BATCH: u64 = 500;

/// Starts this node's relay at the log's current head: a stream shows what happens from now on.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut reader = loop {
            match log::head(&state.db).await {
                Ok(head) => break LogReader::after(head),
                Err(err) => {
                    tracing::warn!(error = ?err, "event relay cannot read the log's head");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        let mut measured = std::time::Instant::now();
        loop {
            if measured.elapsed() >= Duration::from_secs(1) {
                measured = std::time::Instant::now();
                if let Ok(head) = log::head(&state.db).await {
                    state
                        .work
                        .set_lag(WorkerKind::EventRelay, head - reader.position());
                }
            }
            if !state.events.has_subscribers() {
                // Nobody listens on this node: move to the head without reading the entries (a
                // stream that opens starts after the head as it is then).
                match log::head(&state.db).await {
                    Ok(head) => reader = LogReader::after(head.max(reader.position())),
                    Err(err) => tracing::warn!(error = ?err, "event relay cannot read the log"),
                }
                tokio::time::sleep(POLL).await;
                continue;
            }
            match reader.next(&state.db, BATCH).await {
                Ok(entries) => {
                    let full = entries.len() as u64 == BATCH;
                    for entry in entries {
                        deliver(&state, entry).await;
                    }
                    if full {
                        continue;
                    }
                }
                Err(err) => tracing::warn!(error = ?err, "event relay cannot read the log"),
            }
            tokio::time::sleep(POLL).await;
        }
    });
}

/// The stream's name for an entry: `ticket.created`, `ticket.updated`, `ticket.reply`,
/// `ticket.note`, `ticket.incoming`, `ticket.merged`, `ticket.escalated`, `ticket.routed`.
pub fn stream_kind(entry: &ticket_event::Model) -> &'static str {
    let data: serde_json::Value = serde_json::from_str(&entry.data).unwrap_or_default();
    let field = |name: &str| data.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    match entry.kind.as_str() {
        "created" => "ticket.created",
        "message_added" => match field("kind") {
            "reply" => "ticket.reply",
            "incoming" => "ticket.incoming",
            _ => "ticket.note",
        },
        "merged" => "ticket.merged",
        "linked" => match field("link_kind") {
            "routing" => "ticket.routed",
            _ => "ticket.escalated",
        },
        _ => "ticket.updated",
    }
}

async fn deliver(state: &AppState, entry: ticket_event::Model) {
    let Ok(Some(facts)) = state.tenant_facts(entry.tenant_id).await else {
        return;
    };
    state.events.deliver_local(TicketEvent {
        kind: stream_kind(&entry).to_owned(),
        id: entry.id,
        seq: entry.seq,
        ticket_id: entry.ticket_id,
        number: entry.number,
        tenant_id: entry.tenant_id,
        version: entry.version,
        at: entry.created_at,
        tenant_path: facts.path,
        tenant_kind: facts.kind,
    });
}
