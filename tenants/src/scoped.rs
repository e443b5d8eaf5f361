//! The only door from feature code to tenant-owned tables.
#![allow(clippy::disallowed_methods)] // this module is where the scope filter is applied

use crate::Scope;
use crate::scope::Data;
use sea_orm::{DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany};

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
}

impl<E: TenantOwned> Scoped for E {}

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
