//! Writes new tickets in per-tenant batches.
//!
//! Numbers are gapless per tenant, so every creation must take the tenant's counter row lock
//! and hold it until it commits; one creation at a time would cap a busy tenant at one commit's
//! latency. Instead, creations that arrive while a batch is being written wait for the next
//! batch, and a batch takes `n` numbers, inserts `n` tickets with their automatic
//! assignment, history and events (through [`super::change::create`]) and commits once. A
//! batch that fails is retried one ticket at a time, so one bad ticket never fails its
//! neighbours and a refused ticket never leaves a hole in the numbering. Across API nodes the
//! counter row still serialises the batches, so numbering stays correct with any number of
//! nodes.
use crate::error::ApiError;
use dashmap::DashMap;
use entity::ticket;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Most tickets written in one transaction.
const MAX_BATCH: usize = 256;
/// A tenant's writer task ends after this long without work.
const IDLE: Duration = Duration::from_secs(30);

pub use super::change::NewTicket;

struct Job {
    new: NewTicket,
    done: oneshot::Sender<Result<ticket::Model, ApiError>>,
}

/// The per-tenant batching writers of one node. They run on a runtime thread of their own with
/// their own connections: on an HTTP worker's runtime a batch waited behind every request the
/// worker was serving, and writes slowed down as the request rate rose.
pub struct TicketWriter {
    db: DatabaseConnection,
    queues: Arc<DashMap<Uuid, mpsc::UnboundedSender<Job>>>,
    runtime: tokio::runtime::Handle,
    stop: Option<std::sync::mpsc::Sender<()>>,
}

impl Drop for TicketWriter {
    fn drop(&mut self) {
        // Ends the writer thread; its runtime is dropped there, outside any async context.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TicketWriter {
    /// A writer whose tasks and connections (at most `connections`) live on a dedicated thread.
    ///
    /// # Errors
    /// Fails when the thread, its runtime or its database connections cannot be started.
    pub fn start(settings: &crate::config::Settings, connections: u32) -> anyhow::Result<Self> {
        let mut settings = settings.clone();
        settings.database_max_connections = connections;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("ticket-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = ready_tx.send(Err(anyhow::Error::from(err)));
                        return;
                    }
                };
                let connected = runtime.block_on(crate::startup::connect_database(&settings));
                let _ = ready_tx.send(connected.map(|db| (db, runtime.handle().clone())));
                // Serve until the writer is dropped (or its owner is gone).
                runtime.block_on(async move {
                    let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                });
            })?;
        let (db, runtime) = ready_rx.recv()??;
        Ok(Self {
            db,
            queues: Arc::default(),
            runtime,
            stop: Some(stop_tx),
        })
    }

    /// Numbers and stores a ticket, together with whatever other tickets of the same tenant
    /// are waiting; returns the stored ticket.
    ///
    /// # Errors
    /// Fails when the database refuses the ticket.
    pub async fn write(&self, new: NewTicket) -> Result<ticket::Model, ApiError> {
        let tenant_id = new.ticket.tenant_id;
        let (done, result) = oneshot::channel();
        let mut job = Job { new, done };
        // A queue whose task has just ended refuses the job; the second try starts a new task.
        for _ in 0..2 {
            let sender = self
                .queues
                .entry(tenant_id)
                .or_insert_with(|| {
                    spawn_worker(
                        &self.runtime,
                        self.db.clone(),
                        tenant_id,
                        self.queues.clone(),
                    )
                })
                .clone();
            match sender.send(job) {
                Ok(()) => {
                    return result.await.map_err(|_| {
                        ApiError::Internal(anyhow::anyhow!("the ticket writer stopped"))
                    })?;
                }
                Err(mpsc::error::SendError(back)) => {
                    self.queues
                        .remove_if(&tenant_id, |_, queued| queued.same_channel(&sender));
                    job = back;
                }
            }
        }
        Err(ApiError::Internal(anyhow::anyhow!(
            "no ticket writer could be started"
        )))
    }
}

fn spawn_worker(
    runtime: &tokio::runtime::Handle,
    db: DatabaseConnection,
    tenant_id: Uuid,
    queues: Arc<DashMap<Uuid, mpsc::UnboundedSender<Job>>>,
) -> mpsc::UnboundedSender<Job> {
    let (sender, mut jobs) = mpsc::unbounded_channel::<Job>();
    let own = sender.clone();
    runtime.spawn(async move {
        loop {
            let first = match tokio::time::timeout(IDLE, jobs.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) => break,
                Err(_) => {
                    // Idle: leave the map first, then serve whatever slipped in meanwhile.
                    queues.remove_if(&tenant_id, |_, queued| queued.same_channel(&own));
                    jobs.close();
                    while let Some(job) = jobs.recv().await {
                        write_batch_or_each(&db, vec![job]).await;
                    }
                    break;
                }
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            write_batch_or_each(&db, batch).await;
        }
    });
    sender
}

async fn write_batch_or_each(db: &DatabaseConnection, batch: Vec<Job>) {
    let started = std::time::Instant::now();
    tracing::debug!(size = batch.len(), "writing a ticket batch");
    if batch.len() > 1 {
        let news: Vec<&NewTicket> = batch.iter().map(|job| &job.new).collect();
        match write(db, &news).await {
            Ok(written) => {
                for (job, ticket) in batch.into_iter().zip(written) {
                    // The requester may have gone away; the ticket is stored all the same.
                    let _ = job.done.send(Ok(ticket));
                }
                tracing::debug!(
                    elapsed_us = started.elapsed().as_micros(),
                    "ticket batch written"
                );
                return;
            }
            Err(err) => {
                tracing::warn!(error = ?err, size = batch.len(), "ticket batch failed; writing one by one")
            }
        }
    }
    for job in batch {
        let result = write(db, &[&job.new]).await.and_then(|mut written| {
            written
                .pop()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("ticket not written")))
        });
        let _ = job.done.send(result);
    }
}

/// Takes `count` numbers of the tenant and stores the tickets, their automatic assignment,
/// history and events in one transaction.
async fn write(
    db: &DatabaseConnection,
    news: &[&NewTicket],
) -> Result<Vec<ticket::Model>, ApiError> {
    let txn = crate::backend::begin(db).await?;
    let tickets = super::change::create(&txn, news).await?;
    txn.commit().await?;
    Ok(tickets)
}
