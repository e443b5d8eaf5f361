//! The one state value every handler receives.
use crate::auth::jwt::KeyRing;
use crate::auth::password::PasswordHasher;
use crate::cache::Cache;
use crate::cache::per_tenant::PerTenant;
use crate::config::Settings;
use dashmap::DashMap;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tenants::TenantKind;
use uuid::Uuid;

/// The immutable facts about a tenant that every request needs (a tenant never moves in the
/// tree and never changes kind), cached per node.
#[derive(Clone, Debug)]
pub struct TenantFacts {
    /// Materialised path.
    pub path: String,
    /// Kind.
    pub kind: TenantKind,
    /// Slug.
    pub slug: String,
}

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// The time everything here reads (the system clock, moved by tests).
    pub clock: crate::clock::Clock,
    /// Shared counters and idempotency records.
    pub cache: Cache,
    /// This node's copy of the deny-list of revoked tokens, sessions, users and tenants.
    pub revocations: Arc<crate::auth::revocation::Revocations>,
    /// JWT signing keys.
    pub keys: Arc<KeyRing>,
    /// The key-encryption key that seals secrets at rest (signing keys, channels' secrets).
    pub secrets_key: Arc<crate::auth::key_encryption::KeyEncryptionKey>,
    /// Password hashing.
    pub hasher: Arc<PasswordHasher>,
    /// Settings.
    pub settings: Arc<Settings>,
    /// Real-time ticket events.
    pub events: crate::events::bus::EventBus,
    /// The batching writer of new tickets.
    pub ticket_writer: Arc<crate::tickets::writer::TicketWriter>,
    /// Custom field definitions by tenant, read on every ticket creation.
    pub field_definitions: Arc<PerTenant<Arc<[entity::ticket_field::Model]>>>,
    /// The tenants whose support data each partner's (or the platform's) scope reaches: the
    /// tenant itself and its client tenants, read by every list over them.
    pub support_reach: Arc<PerTenant<Arc<[Uuid]>>>,
    /// Immutable tenant facts by id.
    pub tenant_facts: Arc<DashMap<Uuid, TenantFacts>>,
    /// Where attachment bytes are kept.
    pub storage: Arc<dyn crate::attachments::storage::Storage>,
    /// Wakes this node's job runner when a job is accepted here.
    pub job_wakeup: Arc<tokio::sync::Notify>,
    /// Which words of a search are rare, for the ticket list's search plan.
    pub word_sample: Arc<crate::tickets::word_sample::WordSample>,
    /// The background workers' metrics of this node.
    pub work: Arc<crate::work::WorkMetrics>,
}

impl AppState {
    /// `scope` with its support reach resolved from this node's cache (see
    /// [`tenants::Scope::with_support_reach`]), for reads over many tenants' tickets.
    ///
    /// # Errors
    /// Fails when the database does.
    pub async fn with_support_reach(
        &self,
        scope: &tenants::Scope,
    ) -> Result<tenants::Scope, crate::error::ApiError> {
        if scope.reach() != tenants::Reach::Subtree {
            return Ok(scope.clone());
        }
        let root = scope.tenant_id();
        let reach = self
            .support_reach
            .get_or_load(root, || async {
                Ok(tenants::tree::support_reach(&self.db, root).await?.into())
            })
            .await?;
        Ok(scope.clone().with_support_reach(reach))
    }

    /// Tells every node, this one first, that cached settings of `tenant_id` changed.
    pub async fn announce_stale(&self, tenant_id: Uuid) {
        self.field_definitions.forget(Some(tenant_id));
        self.support_reach.forget(Some(tenant_id));
        self.events.announce_stale(Some(tenant_id)).await;
    }

    /// The immutable facts of a tenant, from this node's cache or the database.
    ///
    /// # Errors
    /// Fails when the database does; `None` when the tenant does not exist.
    pub async fn tenant_facts(&self, id: Uuid) -> anyhow::Result<Option<TenantFacts>> {
        if let Some(facts) = self.tenant_facts.get(&id) {
            return Ok(Some(facts.clone()));
        }
        let Some(tenant) = tenants::tree::tenant_by_id(&self.db, id).await? else {
            return Ok(None);
        };
        let kind: TenantKind = tenant.kind.parse().map_err(anyhow::Error::msg)?;
        let facts = TenantFacts {
            path: tenant.path,
            kind,
            slug: tenant.slug,
        };
        self.tenant_facts.insert(id, facts.clone());
        Ok(Some(facts))
    }
}
