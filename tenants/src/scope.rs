//! The set of tenants one request may act on.
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

/// How far below its own tenant a principal reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Only the principal's own tenant.
    Own,
    /// The principal's tenant and all of its descendants.
    Subtree,
}

/// The tenants a request may act on: built once per request from the verified principal.
#[derive(Clone, Debug)]
pub struct Scope {
    tenant_id: Uuid,
    tenant_path: String,
    reach: Reach,
}

impl Scope {
    /// A scope rooted at `tenant_id`, whose materialised path is `tenant_path`.
    pub fn new(tenant_id: Uuid, tenant_path: impl Into<String>, reach: Reach) -> Self {
        Self {
            tenant_id,
            tenant_path: tenant_path.into(),
            reach,
        }
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

    /// Whether the tenant with materialised path `path` lies inside this scope.
    pub fn covers_path(&self, path: &str) -> bool {
        match self.reach {
            Reach::Own => path == self.tenant_path,
            Reach::Subtree => path.starts_with(&self.tenant_path),
        }
    }

    /// The condition that keeps rows whose tenant column `column` lies inside the scope.
    pub fn condition<C: ColumnTrait>(&self, column: C) -> Condition {
        match self.reach {
            Reach::Own => Condition::all().add(column.eq(self.tenant_id)),
            Reach::Subtree => {
                let mut subtree = Query::select();
                subtree
                    .column(entity::tenant::Column::Id)
                    .from(entity::tenant::Entity)
                    .and_where(entity::tenant::Column::Path.starts_with(&self.tenant_path));
                Condition::all().add(column.in_subquery(subtree.to_owned()))
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
        let scope = Scope::new(partner, partner_p.clone(), Reach::Subtree);
        assert!(scope.covers_path(&partner_p));
        assert!(scope.covers_path(&client_p));
        assert!(!scope.covers_path(&root_p));
        assert!(!scope.covers_path(&sibling_p));
        let own = Scope::new(partner, partner_p.clone(), Reach::Own);
        assert!(!own.covers_path(&client_p));
        assert_eq!(path_ids(&client_p), vec![root, partner, client]);
    }
}
