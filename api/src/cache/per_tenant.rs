//! Per-tenant values a node keeps for itself because every request of a kind needs them and
//! they rarely change: a tenant's custom field definitions (read by every ticket creation), the
//! tenants a partner's support reaches (read by every list over a partner's clients).
//!
//! A change is announced on the event bus: the node that made it forgets the tenant before it
//! answers, the other nodes when the announcement reaches them, and a node whose bus connection
//! dropped forgets everything once it is back (it may have missed announcements meanwhile).
//! A load that overlaps a change is used once but not kept, so a stale copy never outlives the
//! announcement that made it stale. A value is also reloaded once it is older than the cache's
//! maximum age, for changes no announcement reports (the command-line tool writes to the
//! database from a process of its own).
use crate::error::ApiError;
use dashmap::DashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Values of type `V` by tenant id, kept on this node, each with the time it was loaded.
pub struct PerTenant<V> {
    values: DashMap<Uuid, (V, Instant)>,
    /// Counts the changes seen; a load keeps its result only if none arrived meanwhile.
    changes: AtomicU64,
    max_age: Duration,
}

impl<V> PerTenant<V> {
    /// An empty cache whose values are reloaded once they are older than `max_age`.
    pub fn new(max_age: Duration) -> Self {
        Self {
            values: DashMap::new(),
            changes: AtomicU64::new(0),
            max_age,
        }
    }

    /// Forgets one tenant's value (`Some`) or every tenant's (`None`).
    pub fn forget(&self, tenant_id: Option<Uuid>) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        match tenant_id {
            Some(id) => {
                self.values.remove(&id);
            }
            None => self.values.clear(),
        }
    }
}

impl<V: Clone> PerTenant<V> {
    /// The value of `tenant_id`, from this node's copy or else from `load`.
    ///
    /// # Errors
    /// Whatever `load` fails with.
    pub async fn get_or_load<F, Fut>(&self, tenant_id: Uuid, load: F) -> Result<V, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, ApiError>>,
    {
        if let Some(known) = self.values.get(&tenant_id)
            && known.1.elapsed() < self.max_age
        {
            return Ok(known.0.clone());
        }
        let seen = self.changes.load(Ordering::SeqCst);
        let loaded = load().await?;
        // Checked while holding the entry's shard: a change counted after this check removes
        // the entry only after this insert, so it cannot leave the stale copy behind.
        let slot = self.values.entry(tenant_id);
        if self.changes.load(Ordering::SeqCst) == seen {
            slot.insert((loaded.clone(), Instant::now()));
        }
        Ok(loaded)
    }
}

/// Keeps `cache` in step with the stale-settings announcements on `bus`, for as long as the
/// cache is in use.
pub fn follow<V: Send + Sync + 'static>(
    cache: &Arc<PerTenant<V>>,
    bus: &crate::events::bus::EventBus,
) {
    let cache = Arc::downgrade(cache);
    let mut announcements = bus.subscribe_stale();
    tokio::spawn(async move {
        loop {
            let stale = match announcements.recv().await {
                Ok(stale) => stale,
                // Announcements were dropped: any tenant may be stale.
                Err(broadcast::error::RecvError::Lagged(_)) => None,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(cache) = cache.upgrade() else {
                break;
            };
            cache.forget(stale);
        }
    });
}
