//! The only ways into a [`Scope`] from outside the kernel, each naming what it is for.
//!
//! A scope either stands for a caller whose credential was verified ([`Scope::for_caller`]) or
//! for work done on one tenant's behalf with no caller of that tenant present
//! ([`Scope::for_tenant_work`]). Both reasons are closed enums, so every scope in the code base
//! says why it exists and a new kind of work is a change to this file, seen in review. The raw
//! constructors are private to the kernel:
//!
//! ```compile_fail,E0624
//! // Feature code cannot name the raw constructor, whatever arguments it would pass.
//! let _build = tenants::Scope::new;
//! ```
//!
//! ```compile_fail,E0624
//! // Nor the single-tenant one: work for a tenant says why through `for_tenant_work`.
//! let _build = tenants::Scope::single;
//! ```
//!
//! The doors themselves are open, and say who or why (named the same way as above, so the two
//! tests above can only fail for the constructors' privacy):
//!
//! ```
//! use tenants::doors::{Caller, Why};
//! use tenants::{Reach, Scope};
//!
//! let _build = tenants::Scope::for_caller;
//! let _build = tenants::Scope::for_tenant_work;
//! let tenant_id = uuid::Uuid::now_v7();
//! let path = tenants::scope::root_path(tenant_id);
//! let caller = Scope::for_caller(Caller::AccessToken, tenant_id, path, Reach::Subtree);
//! let work = Scope::for_tenant_work(tenant_id, Why::LinkedTicketReport);
//! assert_eq!(caller.door(), tenants::doors::Door::Caller(Caller::AccessToken));
//! assert_eq!(work.reach(), Reach::Own);
//! ```
use crate::scope::{Reach, Scope};
use uuid::Uuid;

/// Whose verified credential a caller's scope stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A user's access token, verified (signature, lifetime, deny-list).
    AccessToken,
    /// An integrator's API key, verified (hash, revocation, expiry, tenant not suspended).
    ApiKey,
    /// The operator at the command line or the first start's seeding, acting for the platform
    /// over its whole tree.
    Operator,
    /// A bulk job acting with the powers its creator had when asking, after the runner checked
    /// that the creator (user or key) may still act.
    JobCreator,
}

/// Why work is done for one tenant rather than for a caller of that tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// A linked ticket is opened in the tenant it was handed to: its stand-in requester, its
    /// number and the copied conversation are that tenant's rows.
    LinkedTicketOpen,
    /// A linked ticket reports back to its origin: its public replies (with their files) and its
    /// status reach the origin's tenant, and the origin reads the linked tenant's name.
    LinkedTicketReport,
    /// A job runner keeps its job's own rows: the lease, the items and the counters.
    JobBookkeeping,
    /// A job's creator (user or API key) is looked up in its own tenant to see whether it may
    /// still act.
    JobCreatorCheck,
    /// An upload that no message took is removed through its own tenant.
    UploadSweep,
    /// The outbox's worker records how a delivery of the tenant's went.
    Delivery,
    /// A message reached one of the tenant's channels (a mail posted by a relay): its sender
    /// becomes or is found as the tenant's contact, and it opens or joins the tenant's ticket.
    InboundMessage,
}

/// Which door a scope came through (a narrowed scope keeps its origin's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// A verified caller.
    Caller(Caller),
    /// Work for one tenant.
    TenantWork(Why),
}

impl Scope {
    /// The scope of a caller whose credential was verified: its own tenant (`tenant_id`, whose
    /// materialised path is `tenant_path`) and, with [`Reach::Subtree`], what lies below it.
    pub fn for_caller(caller: Caller, tenant_id: Uuid, tenant_path: String, reach: Reach) -> Self {
        Self::new(Door::Caller(caller), tenant_id, tenant_path, reach)
    }

    /// A scope of exactly one tenant for work done on its behalf rather than a caller's; it
    /// reaches no other tenant, not even the tenant's clients.
    pub fn for_tenant_work(tenant_id: Uuid, why: Why) -> Self {
        Self::single(Door::TenantWork(why), tenant_id)
    }
}
