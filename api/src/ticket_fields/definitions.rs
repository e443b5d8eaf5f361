//! This node's copy of each tenant's field definitions, which every ticket creation reads.
//!
//! Definitions change rarely (an administrator adds or deletes a field) and are needed on every
//! new ticket, so each node keeps them per tenant instead of asking the database each time. A
//! change is announced on the event bus: the node that made it forgets the tenant before it
//! answers, the other nodes when the announcement reaches them, and a node whose bus connection
//! dropped forgets everything once it is back (it may have missed announcements meanwhile).
//! A load that overlaps a change is used once but not kept, so a stale copy never outlives the
//! announcement that made it stale.
use crate::error::ApiError;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use entity::ticket_field;
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tenants::Scope;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The definitions of one tenant, shared between the requests that read them.
pub type TenantFields = Arc<[ticket_field::Model]>;

/// Per-tenant field definitions cached on this node.
#[derive(Default)]
pub struct Definitions {
    tenants: DashMap<Uuid, TenantFields>,
    /// Counts the changes seen; a load keeps its result only if none arrived meanwhile.
    changes: AtomicU64,
}

impl Definitions {
    /// The definitions of `tenant_id`, from this node's copy or else read through `scope`
    /// (which the caller has checked covers the tenant).
    ///
    /// # Errors
    /// Fails when the database does.
    pub async fn of_tenant(
        &self,
        db: &impl ConnectionTrait,
        scope: &Scope,
        tenant_id: Uuid,
    ) -> Result<TenantFields, ApiError> {
        if let Some(known) = self.tenants.get(&tenant_id) {
            return Ok(known.clone());
        }
        let seen = self.changes.load(Ordering::SeqCst);
        let loaded: TenantFields = super::service::definitions(db, scope, tenant_id)
            .await?
            .into();
        // Checked while holding the entry's shard: a change counted after this check removes
        // the entry only after this insert, so it cannot leave the stale copy behind.
        if let Entry::Vacant(slot) = self.tenants.entry(tenant_id)
            && self.changes.load(Ordering::SeqCst) == seen
        {
            slot.insert(loaded.clone());
        }
        Ok(loaded)
    }

    /// Forgets one tenant's definitions (`Some`) or every tenant's (`None`).
    pub fn forget(&self, tenant_id: Option<Uuid>) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        match tenant_id {
            Some(id) => {
                self.tenants.remove(&id);
            }
            None => self.tenants.clear(),
        }
    }
}

/// Keeps `definitions` in step with the stale-settings announcements on `bus`, for as long as
/// the definitions are in use.
pub fn follow(definitions: &Arc<Definitions>, bus: &crate::events::bus::EventBus) {
    let definitions = Arc::downgrade(definitions);
    let mut announcements = bus.subscribe_stale();
    tokio::spawn(async move {
        loop {
            let stale = match announcements.recv().await {
                Ok(stale) => stale,
                // Announcements were dropped: any tenant may be stale.
                Err(broadcast::error::RecvError::Lagged(_)) => None,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(definitions) = definitions.upgrade() else {
                break;
            };
            definitions.forget(stale);
        }
    });
}
