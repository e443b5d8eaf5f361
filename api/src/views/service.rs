//! The rules of saved views. A view stores the ticket list's own filter parameters and runs
//! through the ticket list's own query, so the two can never disagree.
use super::dto::{CreateView, UpdateView};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::tickets::criteria::{TicketCriteria, nested};
use chrono::{DateTime, Utc};
use entity::{ticket, ticket_view};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect, Select, Set, TransactionTrait,
};
use serde_json::{Map, Value};
use tenants::{Role, Scoped, ScopedInsert};
use uuid::Uuid;

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "must be 1-100 characters"));
    }
    Ok(name.to_owned())
}

/// Whether the caller may share views with the whole tenant.
fn may_share(principal: &Principal) -> bool {
    matches!(
        principal.role(),
        Some(Role::PlatformAdmin | Role::TenantAdmin | Role::Supervisor)
    )
}

fn taken(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::ViewNameTaken,
            "you already have a view with this name",
        ),
        _ => err.into(),
    }
}

/// The criteria a view stores, read as the ticket list reads them.
fn stored_criteria(view: &ticket_view::Model) -> Result<TicketCriteria, ApiError> {
    let object = view
        .filters
        .as_object()
        .ok_or_else(|| ApiError::invalid("filters", "the stored filters are not an object"))?;
    Ok(TicketCriteria::from_json(object)
        .map_err(|err| nested("filters", err))?
        .0)
}

/// Checks filters as the ticket list would (the one reader and check of ticket criteria);
/// answers them as stored, without `null`s.
///
/// # Errors
/// 422 naming `filters.<key>`.
fn check_filters(filters: &Map<String, Value>) -> Result<Value, ApiError> {
    let (criteria, clean) = TicketCriteria::from_json(filters).map_err(|e| nested("filters", e))?;
    criteria.check().map_err(|e| nested("filters", e))?;
    Ok(clean)
}

/// The views a user sees: their own, and those shared in their tenant.
fn visible(principal: &Principal, me: Uuid) -> Select<ticket_view::Entity> {
    ticket_view::Entity::scoped(&principal.scope).filter(
        Condition::any()
            .add(ticket_view::Column::OwnerId.eq(me))
            .add(
                Condition::all()
                    .add(ticket_view::Column::Shared.eq(true))
                    .add(ticket_view::Column::TenantId.eq(principal.tenant_id)),
            ),
    )
}

fn sharing_allowed(principal: &Principal) -> Result<(), ApiError> {
    if may_share(principal) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            ErrorCode::InsufficientRole,
            "only admins and supervisors share views with the tenant",
        ))
    }
}

/// Saves a view for the calling user.
///
/// # Errors
/// 403 for API keys or sharing without the role, 409 for a taken name, 422 for bad fields.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    body: CreateView,
    now: DateTime<Utc>,
) -> Result<ticket_view::Model, ApiError> {
    let me = principal.user_id()?;
    if body.shared {
        sharing_allowed(principal)?;
    }
    let name = check_name(&body.name)?;
    let filters = check_filters(&body.filters)?;
    // A view belongs to its owner's own tenant, whatever its filters reach.
    ticket_view::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: NotSet,
        owner_id: Set(me),
        name: Set(name),
        filters: Set(filters),
        shared: Set(body.shared),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .owned_by(&principal.scope)?
    .insert(db)
    .await
    .map_err(taken)
}

/// One page of the views the caller sees, oldest first.
///
/// # Errors
/// 403 for API keys.
pub async fn list(
    db: &impl ConnectionTrait,
    principal: &Principal,
    page: PageRequest,
) -> Result<Vec<ticket_view::Model>, ApiError> {
    let me = principal.user_id()?;
    let mut query = visible(principal, me)
        .order_by_asc(ticket_view::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = page.after {
        query = query.filter(ticket_view::Column::Id.gt(after));
    }
    Ok(query.all(db).await?)
}

/// A view the caller sees.
///
/// # Errors
/// 403 for API keys; 404 for another user's private view or another tenant's view.
pub async fn get(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<ticket_view::Model, ApiError> {
    let me = principal.user_id()?;
    visible(principal, me)
        .filter(ticket_view::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("view"))
}

/// A view the caller may change: their own, or a shared one of their tenant for its admins
/// and supervisors.
async fn editable(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<ticket_view::Model, ApiError> {
    let found = get(db, principal, id).await?;
    if found.owner_id != principal.user_id()? && !may_share(principal) {
        return Err(ApiError::forbidden(
            ErrorCode::NotViewOwner,
            "only the owner, an admin or a supervisor changes a shared view",
        ));
    }
    Ok(found)
}

/// Changes a view.
///
/// # Errors
/// As [`get`]; 403 for others' views or sharing without the role, 409 for a taken name, 422
/// for bad fields.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    id: Uuid,
    body: UpdateView,
    now: DateTime<Utc>,
) -> Result<ticket_view::Model, ApiError> {
    let found = editable(db, principal, id).await?;
    let mut active: ticket_view::ActiveModel = found.into();
    if let Some(name) = body.name {
        active.name = Set(check_name(&name)?);
    }
    if let Some(filters) = body.filters {
        active.filters = Set(check_filters(&filters)?);
    }
    if let Some(shared) = body.shared {
        if shared {
            sharing_allowed(principal)?;
        }
        active.shared = Set(shared);
    }
    active.updated_at = Set(now);
    active.update(db).await.map_err(taken)
}

/// Deletes a view.
///
/// # Errors
/// As [`update`].
pub async fn delete(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> Result<(), ApiError> {
    let found = editable(db, principal, id).await?;
    ticket_view::Entity::scoped_delete(&principal.scope)
        .filter(ticket_view::Column::Id.eq(found.id))
        .exec(db)
        .await?;
    Ok(())
}

/// One page of the tickets a view selects, from the ticket list itself, in the caller's scope.
///
/// # Errors
/// As [`get`]; 422 naming `filters.<key>` when the stored filters are no longer valid.
pub async fn tickets(
    db: &(impl ConnectionTrait + TransactionTrait),
    words: &crate::tickets::word_sample::WordSample,
    principal: &Principal,
    id: Uuid,
    page: PageRequest,
) -> Result<Vec<ticket::Model>, ApiError> {
    let found = get(db, principal, id).await?;
    let criteria = stored_criteria(&found)?;
    crate::tickets::service::list(db, words, &principal.scope, &criteria, page)
        .await
        .map_err(|err| nested("filters", err))
}
