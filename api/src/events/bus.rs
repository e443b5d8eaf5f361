//! The event bus: publish once, every node's subscribers in scope receive it.
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tenants::TenantKind;
use tokio::sync::broadcast;
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

/// Publishes and fans out ticket events, and announcements that cached settings went stale.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<TicketEvent>,
    stale: broadcast::Sender<Stale>,
    redis: Option<Redis>,
}

#[derive(Clone)]
struct Redis {
    publisher: ConnectionManager,
    events: String,
    stale: String,
}

impl EventBus {
    /// An in-process bus.
    pub fn in_process() -> Self {
        Self {
            local: broadcast::channel(BACKLOG).0,
            stale: broadcast::channel(BACKLOG).0,
            redis: None,
        }
    }

    /// A bus over Redis pub/sub on the channels `{channel}` (ticket events) and
    /// `{channel}:stale` (stale settings): a background task relays every message to this node,
    /// reconnecting when Redis goes away; after a reconnection it announces that everything is
    /// stale, because announcements may have been missed while it was away.
    ///
    /// # Errors
    /// Fails when the Redis URL is malformed or Redis cannot be reached.
    pub async fn over_redis(url: &str, channel: String) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let publisher = client.get_connection_manager().await?;
        let topics = [channel.clone(), format!("{channel}:stale")];
        // Subscribed before start-up finishes, so no message published afterwards is missed.
        let mut first = client.get_async_pubsub().await?;
        first.subscribe(&topics).await?;
        let local = broadcast::channel(BACKLOG).0;
        let stale = broadcast::channel(BACKLOG).0;
        let (relay, relay_stale) = (local.clone(), stale.clone());
        let stale_topic = topics[1].clone();
        let redis = Redis {
            publisher,
            events: topics[0].clone(),
            stale: topics[1].clone(),
        };
        tokio::spawn(async move {
            let mut subscribed = Some(first);
            loop {
                let pubsub = match subscribed.take() {
                    Some(pubsub) => Some(pubsub),
                    None => match client.get_async_pubsub().await {
                        Ok(mut pubsub) => match pubsub.subscribe(&topics).await {
                            Ok(()) => {
                                // No receivers on this node is fine.
                                let _ = relay_stale.send(None);
                                Some(pubsub)
                            }
                            Err(_) => None,
                        },
                        Err(err) => {
                            tracing::warn!(error = ?err, "event bus cannot reach Redis");
                            None
                        }
                    },
                };
                if let Some(pubsub) = pubsub {
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        let payload = message.get_payload_bytes();
                        if message.get_channel_name() == stale_topic {
                            if let Ok(tenant) = serde_json::from_slice::<Stale>(payload) {
                                let _ = relay_stale.send(tenant);
                            }
                        } else if let Ok(event) = serde_json::from_slice::<TicketEvent>(payload) {
                            let _ = relay.send(event);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Ok(Self {
            local,
            stale,
            redis: Some(redis),
        })
    }

    /// Publishes an event; a failure to publish is logged, never returned: the change it
    /// describes has already been committed.
    pub async fn publish(&self, event: TicketEvent) {
        match &self.redis {
            Some(redis) => redis.publish(&redis.events, &event).await,
            None => {
                let _ = self.local.send(event);
            }
        }
    }

    /// Hands an event to this node's subscribers only: every node reads the event log itself
    /// ([`super::relay`]).
    pub fn deliver_local(&self, event: TicketEvent) {
        // No subscribers on this node is fine.
        let _ = self.local.send(event);
    }

    /// A new subscription to every event reaching this node.
    pub fn subscribe(&self) -> broadcast::Receiver<TicketEvent> {
        self.local.subscribe()
    }

    /// Announces to every node that its cached settings of `tenant` are stale. The caller
    /// forgets its own copy first: the announcement reaches other nodes a moment later.
    pub async fn announce_stale(&self, tenant: Stale) {
        match &self.redis {
            Some(redis) => redis.publish(&redis.stale, &tenant).await,
            None => {
                let _ = self.stale.send(tenant);
            }
        }
    }

    /// A new subscription to the stale-settings announcements reaching this node.
    pub fn subscribe_stale(&self) -> broadcast::Receiver<Stale> {
        self.stale.subscribe()
    }
}

impl Redis {
    async fn publish(&self, channel: &str, message: &impl Serialize) {
        let Ok(payload) = serde_json::to_vec(message) else {
            return;
        };
        let mut conn = self.publisher.clone();
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(&mut conn)
            .await;
        if let Err(err) = sent {
            tracing::warn!(error = ?err, channel, "could not publish on the event bus");
        }
    }
}

impl TicketEvent {
    /// The event `kind` for a ticket as it is `at`.
    pub fn of(
        kind: &str,
        ticket: &entity::ticket::Model,
        tenant_path: String,
        tenant_kind: TenantKind,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: kind.to_owned(),
            id: Uuid::now_v7(),
            seq: 0,
            ticket_id: ticket.id,
            number: ticket.number,
            tenant_id: ticket.tenant_id,
            version: ticket.version,
            at,
            tenant_path,
            tenant_kind,
        }
    }
}
