//! The only door from feature code to tenant-owned tables.
#![allow(clippy::disallowed_methods)] // this module is where the scope filter is applied

use crate::scope::Data;
use crate::{Scope, TenancyError, TenantKind};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ActiveModelTrait, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany, Value};

/// A table whose rows belong to one tenant.
pub trait TenantOwned: EntityTrait {
    /// What the table holds: support data unless it says otherwise, so a new table starts
    /// with the narrower reach.
    const DATA: Data = Data::Support;

    /// The column holding the owning tenant's id.
    fn tenant_column() -> Self::Column;
}

/// Scope-filtered access to a tenant-owned table.
pub trait Scoped: TenantOwned {
    /// Every row inside the scope.
    fn scoped(scope: &Scope) -> Select<Self> {
        Self::find().filter(scope.condition_for(Self::tenant_column(), Self::DATA))
    }

    /// The row with this primary key, if it lies inside the scope.
    fn scoped_by_id<T>(scope: &Scope, id: T) -> Select<Self>
    where
        T: Into<<Self::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType>,
    {
        Self::find_by_id(id).filter(scope.condition_for(Self::tenant_column(), Self::DATA))
    }

    /// An update of rows inside the scope; add the row filter before executing.
    fn scoped_update(scope: &Scope) -> UpdateMany<Self> {
        Self::update_many().filter(scope.condition_for(Self::tenant_column(), Self::DATA))
    }

    /// A delete of rows inside the scope; add the row filter before executing.
    fn scoped_delete(scope: &Scope) -> DeleteMany<Self> {
        Self::delete_many().filter(scope.condition_for(Self::tenant_column(), Self::DATA))
    }

    /// A hand-built `SELECT … FROM` the table, already keeping only rows inside the scope; add
    /// the columns, further conditions and grouping (reports that aggregate in SQL).
    fn scoped_select(scope: &Scope) -> SelectStatement {
        Query::select()
            .from(Self::default())
            .cond_where(scope.condition_for(Self::tenant_column(), Self::DATA))
            .to_owned()
    }
}

impl<E: TenantOwned> Scoped for E {}

/// A table whose rows each belong to the tenant named in their tenant column, so a new row's
/// owner can be taken from a scope: every tenant-owned table but the tenant tree itself, whose
/// "tenant column" is the row's own id.
pub trait OwnedRows: TenantOwned {}

/// A new row of a tenant-owned table whose owner comes from a scope, never from a hand-written
/// `tenant_id`: whatever the row says is overwritten.
pub trait ScopedInsert: ActiveModelTrait
where
    Self::Entity: OwnedRows,
{
    /// This row owned by the scope's own tenant.
    ///
    /// # Errors
    /// `Db` only when the table's tenant column does not hold a UUID.
    fn owned_by(self, scope: &Scope) -> Result<Self, TenancyError> {
        with_owner(self, scope.tenant_id())
    }

    /// This row owned by `tenant`, a tenant row the caller read: refused as
    /// [`TenancyError::NotFound`] unless the scope reaches that tenant's data of this table's
    /// kind ([`TenantOwned::DATA`]), as a read of the table would.
    ///
    /// # Errors
    /// `NotFound` for a tenant outside the scope; `Db` as [`ScopedInsert::owned_by`].
    fn owned_by_tenant(
        self,
        scope: &Scope,
        tenant: &entity::tenant::Model,
    ) -> Result<Self, TenancyError> {
        let reached = match <Self::Entity as TenantOwned>::DATA {
            Data::Administration => scope.covers_path(&tenant.path),
            Data::Support => tenant
                .kind
                .parse::<TenantKind>()
                .is_ok_and(|kind| scope.covers_support(&tenant.path, kind)),
        };
        if !reached {
            return Err(TenancyError::NotFound);
        }
        with_owner(self, tenant.id)
    }
}

/// `row` owned by `tenant_id`; private, so every owner comes through [`ScopedInsert`]'s checks.
fn with_owner<A>(mut row: A, tenant_id: uuid::Uuid) -> Result<A, TenancyError>
where
    A: ActiveModelTrait,
    A::Entity: OwnedRows,
{
    let column = <A::Entity as TenantOwned>::tenant_column();
    row.try_set(column, Value::from(tenant_id))?;
    Ok(row)
}

impl<A> ScopedInsert for A
where
    A: ActiveModelTrait,
    A::Entity: OwnedRows,
{
}

impl TenantOwned for entity::tenant::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::tenant::Column::Id
    }
}

impl TenantOwned for entity::tenant_branding::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::tenant_branding::Column::TenantId
    }
}

impl TenantOwned for entity::user::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::user::Column::TenantId
    }
}

impl TenantOwned for entity::api_key::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::api_key::Column::TenantId
    }
}

impl TenantOwned for entity::refresh_token::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::refresh_token::Column::TenantId
    }
}

impl TenantOwned for entity::password_reset::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::password_reset::Column::TenantId
    }
}

impl TenantOwned for entity::business_calendar::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::business_calendar::Column::TenantId
    }
}

impl TenantOwned for entity::group::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::group::Column::TenantId
    }
}

impl TenantOwned for entity::group_member::Entity {
    const DATA: Data = Data::Administration;

    fn tenant_column() -> Self::Column {
        entity::group_member::Column::TenantId
    }
}

impl TenantOwned for entity::channel::Entity {
    fn tenant_column() -> Self::Column {
        entity::channel::Column::TenantId
    }
}

impl TenantOwned for entity::inbound_message::Entity {
    fn tenant_column() -> Self::Column {
        entity::inbound_message::Column::TenantId
    }
}

impl TenantOwned for entity::company::Entity {
    fn tenant_column() -> Self::Column {
        entity::company::Column::TenantId
    }
}

impl TenantOwned for entity::contact::Entity {
    fn tenant_column() -> Self::Column {
        entity::contact::Column::TenantId
    }
}

impl TenantOwned for entity::ticket::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket::Column::TenantId
    }
}

impl TenantOwned for entity::ticket_counter::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket_counter::Column::TenantId
    }
}

impl TenantOwned for entity::ticket_message::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket_message::Column::TenantId
    }
}

impl TenantOwned for entity::ticket_activity::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket_activity::Column::TenantId
    }
}

impl TenantOwned for entity::ticket_event::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket_event::Column::TenantId
    }
}

impl TenantOwned for entity::ticket_field::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket_field::Column::TenantId
    }
}

impl TenantOwned for entity::job::Entity {
    fn tenant_column() -> Self::Column {
        entity::job::Column::TenantId
    }
}

impl TenantOwned for entity::job_item::Entity {
    fn tenant_column() -> Self::Column {
        entity::job_item::Column::TenantId
    }
}

impl TenantOwned for entity::outbox::Entity {
    fn tenant_column() -> Self::Column {
        entity::outbox::Column::TenantId
    }
}

impl TenantOwned for entity::attachment::Entity {
    fn tenant_column() -> Self::Column {
        entity::attachment::Column::TenantId
    }
}

impl TenantOwned for entity::ticket_view::Entity {
    fn tenant_column() -> Self::Column {
        entity::ticket_view::Column::TenantId
    }
}

impl OwnedRows for entity::tenant_branding::Entity {}
impl OwnedRows for entity::user::Entity {}
impl OwnedRows for entity::api_key::Entity {}
impl OwnedRows for entity::refresh_token::Entity {}
impl OwnedRows for entity::password_reset::Entity {}
impl OwnedRows for entity::business_calendar::Entity {}
impl OwnedRows for entity::channel::Entity {}
impl OwnedRows for entity::inbound_message::Entity {}
impl OwnedRows for entity::group::Entity {}
impl OwnedRows for entity::group_member::Entity {}
impl OwnedRows for entity::company::Entity {}
impl OwnedRows for entity::contact::Entity {}
impl OwnedRows for entity::ticket::Entity {}
impl OwnedRows for entity::ticket_counter::Entity {}
impl OwnedRows for entity::ticket_message::Entity {}
impl OwnedRows for entity::ticket_activity::Entity {}
impl OwnedRows for entity::ticket_field::Entity {}
impl OwnedRows for entity::job::Entity {}
impl OwnedRows for entity::job_item::Entity {}
impl OwnedRows for entity::outbox::Entity {}
impl OwnedRows for entity::attachment::Entity {}
impl OwnedRows for entity::ticket_view::Entity {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doors::Why;
    use sea_orm::{ActiveValue, NotSet, Set};
    use uuid::Uuid;

    #[test]
    fn a_new_row_is_owned_by_the_scopes_tenant_whatever_was_written_by_hand() {
        let tenant = Uuid::now_v7();
        let scope = Scope::for_tenant_work(tenant, Why::LinkedTicketOpen);
        let unset = entity::ticket_view::ActiveModel {
            tenant_id: NotSet,
            ..Default::default()
        };
        let owned = unset.owned_by(&scope).unwrap();
        assert_eq!(owned.tenant_id, ActiveValue::Set(tenant));
        let forged = entity::ticket_view::ActiveModel {
            tenant_id: Set(Uuid::now_v7()),
            ..Default::default()
        };
        assert_eq!(forged.owned_by(&scope).unwrap().tenant_id, Set(tenant));
    }

    fn tenant(kind: TenantKind, path: String) -> entity::tenant::Model {
        let id = crate::scope::path_ids(&path).pop().unwrap();
        entity::tenant::Model {
            id,
            parent_id: None,
            kind: kind.as_str().to_owned(),
            dedicated: false,
            slug: "t".into(),
            name: "T".into(),
            region: None,
            locales: serde_json::json!(["en"]),
            default_locale: "en".into(),
            time_zone: "UTC".into(),
            status: "active".into(),
            path,
            depth: 0,
            suspended_at: None,
            intake_group_id: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_row_of_another_tenant_needs_that_tenant_in_the_tables_reach() {
        use crate::doors::Caller;
        use crate::scope::{child_path, root_path};
        let root = Uuid::now_v7();
        let root_p = root_path(root);
        let partner = tenant(TenantKind::Partner, child_path(&root_p, Uuid::now_v7()));
        let platform = Scope::for_caller(Caller::AccessToken, root, root_p, crate::Reach::Subtree);
        // The platform administers the partner (its groups) but does not run its support (its
        // contacts).
        let group = <entity::group::ActiveModel as Default>::default()
            .owned_by_tenant(&platform, &partner)
            .unwrap();
        assert_eq!(group.tenant_id, Set(partner.id));
        assert!(matches!(
            <entity::contact::ActiveModel as Default>::default()
                .owned_by_tenant(&platform, &partner),
            Err(TenancyError::NotFound)
        ));
        let stranger = tenant(TenantKind::Partner, root_path(Uuid::now_v7()));
        assert!(matches!(
            <entity::group::ActiveModel as Default>::default()
                .owned_by_tenant(&platform, &stranger),
            Err(TenancyError::NotFound)
        ));
    }

    #[test]
    fn a_scoped_select_starts_from_the_scope() {
        let tenant = Uuid::now_v7();
        let scope = Scope::for_tenant_work(tenant, Why::JobBookkeeping);
        let sql = entity::ticket::Entity::scoped_select(&scope)
            .expr(sea_orm::sea_query::Expr::cust("COUNT(*)"))
            .to_string(sea_orm::sea_query::SqliteQueryBuilder);
        assert!(
            sql.contains(r#"FROM "tickets" WHERE "tickets"."tenant_id" = "#),
            "{sql}"
        );
    }
}
