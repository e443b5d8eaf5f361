//! Reads of the tenant tree that the kernel needs before or beside a scope: building a scope
//! from a token, checking that no ancestor is suspended, listing a subtree for revocation.
#![allow(clippy::disallowed_methods)] // the kernel itself builds scopes, so it reads the tree directly

use crate::TenantStatus;
use crate::scope::path_ids;
use entity::tenant;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

/// The tenant with this id, whoever asks; only for building a scope or authenticating.
///
/// # Errors
/// Fails when the database does.
pub async fn tenant_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find_by_id(id).one(db).await
}

/// The tenants whose support data a subtree scope rooted at `tenant_id` reaches: the tenant
/// itself and its client tenants directly below it (see [`crate::Data::Support`]).
///
/// # Errors
/// Fails when the database does.
pub async fn support_reach(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(
            Condition::any().add(tenant::Column::Id.eq(tenant_id)).add(
                Condition::all()
                    .add(tenant::Column::ParentId.eq(tenant_id))
                    .add(tenant::Column::Kind.eq(crate::TenantKind::Client.as_str())),
            ),
        )
        .into_tuple::<Uuid>()
        .all(db)
        .await
}

/// The tenant with this slug, whoever asks; only for choosing the tenant at login.
///
/// # Errors
/// Fails when the database does.
pub async fn tenant_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Whether the tenant at `path` or any of its ancestors is suspended.
///
/// # Errors
/// Fails when the database does.
pub async fn is_blocked(db: &impl ConnectionTrait, path: &str) -> Result<bool, DbErr> {
    let ids = path_ids(path);
    let suspended = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(ids))
        .filter(tenant::Column::Status.eq(TenantStatus::Suspended.as_str()))
        .count(db)
        .await?;
    Ok(suspended > 0)
}

/// The ids of the tenant at `path` and of all its descendants.
///
/// # Errors
/// Fails when the database does.
pub async fn subtree_ids(db: &impl ConnectionTrait, path: &str) -> Result<Vec<Uuid>, DbErr> {
    tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::Path.starts_with(path))
        .into_tuple::<Uuid>()
        .all(db)
        .await
}

/// The platform tenant (the root), if the deployment has one.
///
/// # Errors
/// Fails when the database does.
pub async fn platform(db: &impl ConnectionTrait) -> Result<Option<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .filter(tenant::Column::ParentId.is_null())
        .one(db)
        .await
}

/// Whether the deployment has no tenant yet (a fresh database).
///
/// # Errors
/// Fails when the database does.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(tenant::Entity::find().count(db).await? == 0)
}

/// Tenants suspended since `since`, with their paths; used to restore revocation markers.
///
/// # Errors
/// Fails when the database does.
pub async fn suspended_since(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<tenant::Model>, DbErr> {
    tenant::Entity::find()
        .filter(tenant::Column::Status.eq(TenantStatus::Suspended.as_str()))
        .filter(tenant::Column::SuspendedAt.gte(since))
        .all(db)
        .await
}
