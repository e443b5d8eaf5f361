//! The set of tenants one request may act on.
#![allow(clippy::disallowed_methods)] // the kernel builds the scope's own subqueries
use crate::doors::Door;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};
use std::sync::Arc;
use uuid::Uuid;

/// How far below its own tenant a principal reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Only the principal's own tenant.
    Own,
    /// The principal's tenant and all of its descendants.
    Subtree,
}

/// What a table holds, which decides how far below its own tenant a subtree scope reaches.
///
/// Administration (the tenant tree, users, keys, groups) follows the whole subtree: the platform
/// provisions partners and their clients. Support data (tickets, their conversation, contacts,
/// companies) stops at the next support organisation: a partner runs its own support, so the
/// platform's principals see their own tenant's and their dedicated clients' tickets but none of
/// a partner's; what a partner hands up arrives as an escalated ticket of the platform's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    /// Reaches the whole subtree.
    Administration,
    /// Reaches the own tenant and its client tenants directly below it.
    Support,
}

/// The tenants a request may act on: built once per request from the verified principal, or
/// for one tenant's work; only through the doors of [`crate::doors`].
#[derive(Clone, Debug)]
pub struct Scope {
    door: Door,
    tenant_id: Uuid,
    tenant_path: String,
    reach: Reach,
    /// The support reach as a list of tenant ids, when the caller has resolved it (see
    /// [`Scope::with_support_reach`]).
    support: Option<Arc<[Uuid]>>,
}

impl Scope {
    /// A scope rooted at `tenant_id`, whose materialised path is `tenant_path`, built through
    /// `door`. Kernel only: the rest of the workspace comes in through the doors of
    /// [`crate::doors`], which name the reason. Not generic, so that naming it from outside can
    /// only fail for its privacy (the compile-fail test in `doors.rs`).
    pub(crate) fn new(door: Door, tenant_id: Uuid, tenant_path: String, reach: Reach) -> Self {
        Self {
            door,
            tenant_id,
            tenant_path,
            reach,
            support: None,
        }
    }

    /// A scope of exactly one tenant, built through `door`; it reaches no other tenant. Kernel
    /// only, as [`Self::new`].
    pub(crate) fn single(door: Door, tenant_id: Uuid) -> Self {
        Self::new(door, tenant_id, String::new(), Reach::Own)
    }

    /// The door this scope came through: which caller it stands for, or why it works for one
    /// tenant.
    pub fn door(&self) -> Door {
        self.door
    }

    /// The principal's own tenant.
    pub fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }

    /// The materialised path of the principal's own tenant.
    pub fn tenant_path(&self) -> &str {
        &self.tenant_path
    }

    /// How far the scope reaches.
    pub fn reach(&self) -> Reach {
        self.reach
    }

    /// Whether the tenant with materialised path `path` lies inside this scope for
    /// administration (the whole subtree).
    pub fn covers_path(&self, path: &str) -> bool {
        match self.reach {
            Reach::Own => path == self.tenant_path,
            Reach::Subtree => path.starts_with(&self.tenant_path),
        }
    }

    /// Whether the support data of the tenant at `path`, of kind `kind`, lies inside this scope:
    /// the own tenant, or a client tenant directly below it.
    pub fn covers_support(&self, path: &str, kind: crate::TenantKind) -> bool {
        if path == self.tenant_path {
            return true;
        }
        self.reach == Reach::Subtree
            && kind == crate::TenantKind::Client
            && path
                .strip_prefix(&self.tenant_path)
                .is_some_and(|rest| rest.trim_end_matches('/').split('/').count() == 1)
    }

    /// This scope narrowed to the support data of one tenant it covers (id, path, kind), or
    /// `None` when it does not cover it. Queries through the narrowed scope compare the tenant
    /// column with one id instead of resolving the whole reach, for work that concerns a single
    /// tenant already known to be in scope (creating that tenant's ticket).
    pub fn narrowed_to(
        &self,
        tenant_id: Uuid,
        path: &str,
        kind: crate::TenantKind,
    ) -> Option<Self> {
        self.covers_support(path, kind).then(|| Self {
            door: self.door,
            tenant_id,
            tenant_path: path.to_owned(),
            reach: Reach::Own,
            support: None,
        })
    }

    /// This scope narrowed to the support data of `tenant` (a tenant row the caller read), or
    /// `None` when the scope does not reach that tenant's support data: a new contact or
    /// company belongs to a tenant whose tickets the caller works, not to any tenant it
    /// administers (the platform administers its partners but does not work their clients).
    pub fn narrowed_to_tenant(&self, tenant: &entity::tenant::Model) -> Option<Self> {
        let kind = tenant.kind.parse::<crate::TenantKind>().ok()?;
        self.narrowed_to(tenant.id, &tenant.path, kind)
    }

    /// This scope with its support reach given as the list of tenant ids it stands for: the
    /// scope's own tenant and its client tenants, as [`crate::tree::support_reach`] reads them.
    /// Queries of support data then compare the tenant column with that list instead of asking
    /// the tenant tree each time, which PostgreSQL plans and runs faster (a partner's ticket
    /// list: ~7,900 against ~11,500 queries a second on this project's benchmark machine).
    /// Only a subtree scope has a reach to resolve; any other is returned as it is.
    pub fn with_support_reach(mut self, tenants: Arc<[Uuid]>) -> Self {
        if self.reach == Reach::Subtree {
            self.support = Some(tenants);
        }
        self
    }

    /// The condition that keeps rows whose tenant column `column` lies inside the scope for
    /// administration data.
    pub fn condition<C: ColumnTrait>(&self, column: C) -> Condition {
        self.condition_for(column, Data::Administration)
    }

    /// The condition that keeps rows of `data` whose tenant column `column` lies inside the scope.
    pub fn condition_for<C: ColumnTrait>(&self, column: C, data: Data) -> Condition {
        match (self.reach, data) {
            (Reach::Own, _) => Condition::all().add(column.eq(self.tenant_id)),
            (Reach::Subtree, Data::Administration) => {
                let mut subtree = Query::select();
                subtree
                    .column(entity::tenant::Column::Id)
                    .from(entity::tenant::Entity)
                    .and_where(entity::tenant::Column::Path.starts_with(&self.tenant_path));
                Condition::all().add(column.in_subquery(subtree.to_owned()))
            }
            (Reach::Subtree, Data::Support) if self.support.is_some() => {
                let tenants = self.support.iter().flat_map(|ids| ids.iter().copied());
                Condition::all().add(column.is_in(tenants))
            }
            (Reach::Subtree, Data::Support) => {
                // One subquery rather than `own OR IN (clients)`: PostgreSQL keeps using the
                // `(tenant_id, ...)` indexes for a plain IN.
                let clients = Condition::all()
                    .add(entity::tenant::Column::ParentId.eq(self.tenant_id))
                    .add(entity::tenant::Column::Kind.eq(crate::TenantKind::Client.as_str()));
                let mut reached = Query::select();
                reached
                    .column(entity::tenant::Column::Id)
                    .from(entity::tenant::Entity)
                    .cond_where(
                        Condition::any()
                            .add(entity::tenant::Column::Id.eq(self.tenant_id))
                            .add(clients),
                    );
                Condition::all().add(column.in_subquery(reached.to_owned()))
            }
        }
    }
}

/// The materialised path of a child of the tenant at `parent_path`.
pub fn child_path(parent_path: &str, child_id: Uuid) -> String {
    format!("{parent_path}{}/", child_id.simple())
}

/// The materialised path of a root tenant.
pub fn root_path(id: Uuid) -> String {
    format!("/{}/", id.simple())
}

/// The ids on a materialised path, root first.
pub fn path_ids(path: &str) -> Vec<Uuid> {
    path.split('/')
        .filter(|part| !part.is_empty())
        .filter_map(|part| Uuid::parse_str(part).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Scope {
        fn of(tenant_id: Uuid, path: &str, reach: Reach) -> Self {
            let door = Door::Caller(crate::doors::Caller::AccessToken);
            Self::new(door, tenant_id, path.to_owned(), reach)
        }
    }

    #[test]
    fn subtree_covers_descendants_but_not_siblings_or_ancestors() {
        let root = Uuid::now_v7();
        let partner = Uuid::now_v7();
        let sibling = Uuid::now_v7();
        let client = Uuid::now_v7();
        let root_p = root_path(root);
        let partner_p = child_path(&root_p, partner);
        let client_p = child_path(&partner_p, client);
        let sibling_p = child_path(&root_p, sibling);
        let scope = Scope::of(partner, &partner_p, Reach::Subtree);
        assert!(scope.covers_path(&partner_p));
        assert!(scope.covers_path(&client_p));
        assert!(!scope.covers_path(&root_p));
        assert!(!scope.covers_path(&sibling_p));
        let own = Scope::of(partner, &partner_p, Reach::Own);
        assert!(!own.covers_path(&client_p));
        assert!(!own.covers_support(&client_p, crate::TenantKind::Client));
        assert!(scope.covers_support(&client_p, crate::TenantKind::Client));
        assert!(scope.covers_support(&partner_p, crate::TenantKind::Partner));
        let platform = Scope::of(root, &root_p, Reach::Subtree);
        assert!(platform.covers_path(&client_p));
        assert!(!platform.covers_support(&partner_p, crate::TenantKind::Partner));
        assert!(!platform.covers_support(&client_p, crate::TenantKind::Client));
        assert!(platform.covers_support(&sibling_p, crate::TenantKind::Client));
        assert_eq!(path_ids(&client_p), vec![root, partner, client]);
    }

    #[test]
    fn narrowing_keeps_only_a_covered_tenant() {
        let root = Uuid::now_v7();
        let partner = Uuid::now_v7();
        let client = Uuid::now_v7();
        let root_p = root_path(root);
        let partner_p = child_path(&root_p, partner);
        let client_p = child_path(&partner_p, client);
        let scope = Scope::of(partner, &partner_p, Reach::Subtree);
        let narrowed = scope
            .narrowed_to(client, &client_p, crate::TenantKind::Client)
            .map(|s| (s.tenant_id(), s.reach(), s.covers_path(&partner_p)));
        assert_eq!(narrowed, Some((client, Reach::Own, false)));
        let platform = Scope::of(root, &root_p, Reach::Subtree);
        assert!(
            platform
                .narrowed_to(partner, &partner_p, crate::TenantKind::Partner)
                .is_none()
        );
        assert!(
            platform
                .narrowed_to(client, &client_p, crate::TenantKind::Client)
                .is_none()
        );
    }
}
