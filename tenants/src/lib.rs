//! The tenancy kernel.
//!
//! A request's [`Scope`] is built once from the verified principal and names the tenants it may
//! act on; outside this crate it is built only through the named doors of [`doors`]. Tenant-owned
//! tables are reached only through [`Scoped`] helpers, which start every query from a
//! scope-filtered `Select`; plain `Entity::find()` on them is refused by clippy in the rest of
//! the workspace (see `clippy.toml`).

pub mod branding;
pub mod doors;
pub mod model;
pub mod provisioning;
pub mod scope;
pub mod scoped;
pub mod tree;

pub use doors::{Caller, Why};
pub use model::{Role, TenantKind, TenantStatus};
pub use scope::{Data, Reach, Scope};
pub use scoped::{OwnedRows, Scoped, ScopedInsert, TenantOwned};

/// What the tenancy kernel can refuse.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    /// The tenant does not exist or lies outside the caller's scope (answered as 404).
    #[error("tenant not found")]
    NotFound,
    /// The caller may see the tenant but not do this to it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A field failed validation.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// Why it was refused.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}
