//! The event bus: this node's fan-out of ticket events to its streams (fed by the event log's
//! relay), and the announcements every node must hear (stale settings, revocations), carried
//! over Redis between nodes.
use crate::auth::revocation::Revocation;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tenants::TenantKind;
use tokio::sync::{broadcast, mpsc, oneshot};
use utoipa::ToSchema;
use uuid::Uuid;

/// Events a subscriber may lag behind before it misses some.
const BACKLOG: usize = 1024;

/// The kinds of [`TicketEvent`], as the stream's `event:` lines and the `kind` field name them.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub enum TicketEventKind {
    /// A ticket was created.
    #[serde(rename = "ticket.created")]
    Created,
    /// Its fields or status changed.
    #[serde(rename = "ticket.updated")]
    Updated,
    /// A public reply was added.
    #[serde(rename = "ticket.reply")]
    Reply,
    /// A private note was added (not sent to client staff).
    #[serde(rename = "ticket.note")]
    Note,
    /// Other tickets were merged into it.
    #[serde(rename = "ticket.merged")]
    Merged,
    /// It was handed up to the parent tenant.
    #[serde(rename = "ticket.escalated")]
    Escalated,
    /// It was handed down to a client organisation.
    #[serde(rename = "ticket.routed")]
    Routed,
    /// A message from the requester arrived.
    #[serde(rename = "ticket.incoming")]
    Incoming,
}

/// Something that happened to a ticket.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketEvent {
    /// What happened.
    #[schema(value_type = TicketEventKind)]
    pub kind: String,
    /// The entry of the ticket event log (UUIDv7), also the stream's `id:` line.
    pub id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its number.
    pub number: i64,
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its version after the change.
    pub version: i32,
    /// When.
    pub at: DateTime<Utc>,
    /// The entry's place in the log, so a stream skips what was committed before it opened
    /// (never sent).
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub seq: i64,
    /// The tenant's materialised path, to match subscribers' scopes (removed before the event
    /// is sent to a client).
    #[serde(default)]
    #[schema(ignore)]
    pub tenant_path: String,
    /// The tenant's kind, which decides whether support data reaches a subscriber (removed
    /// before the event is sent to a client).
    #[serde(default = "default_kind")]
    #[schema(ignore)]
    pub tenant_kind: TenantKind,
}

fn default_kind() -> TenantKind {
    TenantKind::Client
}

/// A node's cached settings of one tenant (`Some`) or of every tenant (`None`) went stale:
/// announced by the node that changed them, so every node forgets its copy.
pub type Stale = Option<Uuid>;

/// What travels on the `{channel}:stale` topic: stale settings (as older nodes send them too)
/// and revocations for every node's deny-list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Notice {
    Revoked(Revocation),
    Stale(Stale),
}

/// Messages waiting to be published before new ones are dropped: with Redis down nothing
/// waits for the bus, and what is dropped is either in the database (revocations, re-read by
/// every node) or a real-time nicety.
const OUTBOX: usize = 4096;

/// Publishes and fans out ticket events, announcements that cached settings went stale, and
/// revocations. Publishing never depends on Redis: a message is handed to a background task
/// that publishes it within a deadline, or drops it when Redis is away; a request waits at
/// most [`PUBLISH_WAIT`] for a healthy Redis to take it, and not at all for a failing one.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<TicketEvent>,
    stale: broadcast::Sender<Stale>,
    revoked: broadcast::Sender<Revocation>,
    redis: Option<Redis>,
}

#[derive(Clone)]
struct Redis {
    outgoing: mpsc::Sender<Outgoing>,
    /// Whether the last publication failed: then nobody waits for the next ones.
    failing: Arc<AtomicBool>,
}

/// A message waiting to be published, and who wants to know when it was.
struct Outgoing {
    payload: Vec<u8>,
    published: Option<oneshot::Sender<()>>,
}

/// How long a request waits for its message to be handed to a healthy Redis, so that what it
/// announces is on its way to every node when it answers (as when publishing was a step of the
/// request); a slower or failing Redis is not waited for.
const PUBLISH_WAIT: Duration = Duration::from_millis(100);

impl EventBus {
    /// An in-process bus.
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(BACKLOG).0,
            stale: broadcast::channel(BACKLOG).0,
            revoked: broadcast::channel(BACKLOG).0,
            redis: None,
        }
    }

    /// A bus over Redis pub/sub on the channel `{channel}:stale` (stale settings and
    /// revocations; ticket events reach every node through the event log, see
    /// [`super::relay`]): a background task relays every
    /// message to this node, reconnecting when Redis goes away; after a reconnection it
    /// announces that everything is stale, because messages may have been missed while it was
    /// away. Redis may be down at start: the node starts, and the bus joins once Redis is back.
    /// `deadline` bounds each call to Redis.
    ///
    /// # Errors
    /// Fails when the Redis URL is malformed.
    pub async fn over_redis(
        url: &str,
        channel: String,
        deadline: Duration,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let publisher = crate::cache::redis_connection(url, deadline)?;
        let topic = format!("{channel}:stale");
        // Subscribed before start-up finishes when Redis is there, so no message published
        // afterwards is missed.
        let first = subscribe(&client, &topic, deadline).await;
        if let Err(err) = &first {
            tracing::warn!(error = %err, "event bus cannot reach Redis; starting without it");
        }
        let bus = Self {
            local: broadcast::channel(BACKLOG).0,
            stale: broadcast::channel(BACKLOG).0,
            revoked: broadcast::channel(BACKLOG).0,
            redis: None,
        };
        let relay = bus.clone();
        let subscribed_topic = topic.clone();
        tokio::spawn(async move {
            let topic = subscribed_topic;
            let mut subscribed = first.ok();
            loop {
                let pubsub = match subscribed.take() {
                    Some(pubsub) => Some(pubsub),
                    None => match subscribe(&client, &topic, deadline).await {
                        Ok(pubsub) => {
                            tracing::info!("event bus reconnected to Redis");
                            // No receivers on this node is fine.
                            let _ = relay.stale.send(None);
                            Some(pubsub)
                        }
                        Err(err) => {
                            tracing::debug!(error = %err, "event bus cannot reach Redis");
                            None
                        }
                    },
                };
                if let Some(pubsub) = pubsub {
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        relay.relay(message.get_payload_bytes());
                    }
                    tracing::warn!("event bus lost its Redis connection");
                }
                tokio::time::sleep(RECONNECT).await;
            }
        });
        let (outgoing, queue) = mpsc::channel(OUTBOX);
        let failing = Arc::new(AtomicBool::new(false));
        tokio::spawn(publish_all(
            publisher,
            queue,
            topic,
            deadline,
            Arc::clone(&failing),
        ));
        Ok(Self {
            redis: Some(Redis { outgoing, failing }),
            ..bus
        })
    }

    /// Hands a message that reached this node from Redis to its local subscribers.
    fn relay(&self, payload: &[u8]) {
        // No receivers on this node is fine.
        match serde_json::from_slice::<Notice>(payload) {
            Ok(Notice::Revoked(revocation)) => {
                let _ = self.revoked.send(revocation);
            }
            Ok(Notice::Stale(tenant)) => {
                let _ = self.stale.send(tenant);
            }
            Err(_) => {}
        }
    }

    /// Hands an event to this node's subscribers only: every node reads the event log itself
    /// ([`super::relay`]).
    pub fn deliver_local(&self, event: TicketEvent) {
        // No subscribers on this node is fine.
        let _ = self.local.send(event);
    }

    /// Whether any stream on this node listens for events.
    pub fn has_subscribers(&self) -> bool {
        self.local.receiver_count() > 0
    }

    /// A new subscription to every event reaching this node.
    pub fn subscribe(&self) -> broadcast::Receiver<TicketEvent> {
        self.local.subscribe()
    }

    /// Announces to every node that its cached settings of `tenant` are stale. The caller
    /// forgets its own copy first: the announcement reaches other nodes a moment later.
    pub async fn announce_stale(&self, tenant: Stale) {
        match &self.redis {
            Some(redis) => redis.send_and_wait(&tenant).await,
            None => {
                let _ = self.stale.send(tenant);
            }
        }
    }

    /// A new subscription to the stale-settings announcements reaching this node.
    pub fn subscribe_stale(&self) -> broadcast::Receiver<Stale> {
        self.stale.subscribe()
    }

    /// Announces a revocation to every node (this one included), without waiting for Redis.
    pub fn announce_revocation(&self, revocation: Revocation) {
        match &self.redis {
            Some(redis) => {
                redis.send(&revocation, None);
            }
            None => {
                let _ = self.revoked.send(revocation);
            }
        }
    }

    /// A new subscription to the revocations reaching this node.
    pub fn subscribe_revocations(&self) -> broadcast::Receiver<Revocation> {
        self.revoked.subscribe()
    }
}

/// How long the relay waits before subscribing again after losing Redis.
const RECONNECT: Duration = Duration::from_millis(200);

async fn subscribe(
    client: &redis::Client,
    topic: &str,
    deadline: Duration,
) -> anyhow::Result<redis::aio::PubSub> {
    let subscribed = tokio::time::timeout(deadline, async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(topic).await?;
        Ok::<_, redis::RedisError>(pubsub)
    })
    .await;
    match subscribed {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => Err(anyhow::anyhow!(
            "no answer within {} ms",
            deadline.as_millis()
        )),
    }
}

/// Publishes the queued messages one by one, each within `deadline`; an outage is logged once
/// and marked in `failing`, so that requests stop waiting for their messages meanwhile.
async fn publish_all(
    publisher: ConnectionManager,
    mut queue: mpsc::Receiver<Outgoing>,
    channel: String,
    deadline: Duration,
    failing: Arc<AtomicBool>,
) {
    while let Some(message) = queue.recv().await {
        let mut conn = publisher.clone();
        let sent = tokio::time::timeout(
            deadline,
            redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(message.payload)
                .query_async::<i64>(&mut conn),
        )
        .await;
        let error = match sent {
            Ok(Ok(_)) => None,
            Ok(Err(err)) => Some(err.to_string()),
            Err(_) => Some(format!("no answer within {} ms", deadline.as_millis())),
        };
        match error {
            None => {
                if let Some(published) = message.published {
                    // The request may have stopped waiting.
                    let _ = published.send(());
                }
                if failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("publishing on the event bus again");
                }
            }
            Some(error) => {
                if !failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "could not publish on the event bus; dropping messages until Redis is back");
                }
            }
        }
    }
}

impl Redis {
    /// Queues a message for publication; drops it when the queue is full.
    fn send(&self, message: &impl Serialize, published: Option<oneshot::Sender<()>>) {
        let Ok(payload) = serde_json::to_vec(message) else {
            return;
        };
        let outgoing = Outgoing { payload, published };
        if self.outgoing.try_send(outgoing).is_err() {
            tracing::debug!("event bus queue full; message dropped");
        }
    }

    /// Queues a message and, while Redis is healthy, waits up to [`PUBLISH_WAIT`] for it to be
    /// published.
    async fn send_and_wait(&self, message: &impl Serialize) {
        if self.failing.load(Ordering::Relaxed) {
            self.send(message, None);
            return;
        }
        let (published, done) = oneshot::channel();
        self.send(message, Some(published));
        let _ = tokio::time::timeout(PUBLISH_WAIT, done).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stale_topic_carries_both_stale_settings_and_revocations() {
        let bus = EventBus::in_process();
        let mut stale = bus.subscribe_stale();
        let mut revoked = bus.subscribe_revocations();
        let tenant = Uuid::now_v7();
        bus.relay(b"null");
        bus.relay(format!("\"{tenant}\"").as_bytes());
        let revocation = Revocation::Session {
            id: tenant,
            until: 1,
        };
        bus.relay(&serde_json::to_vec(&revocation).unwrap());
        bus.relay(b"{\"unknown\": true}");
        assert_eq!(stale.try_recv().unwrap(), None);
        assert_eq!(stale.try_recv().unwrap(), Some(tenant));
        assert!(stale.try_recv().is_err());
        assert_eq!(revoked.try_recv().unwrap(), revocation);
        assert!(revoked.try_recv().is_err());
    }
}
