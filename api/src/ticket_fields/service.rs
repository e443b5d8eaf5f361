//! The rules of custom fields; every query goes through the caller's scope.
use super::dto::{CreateTicketField, FieldType};
use crate::auth::principal::Principal;
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;
use chrono::NaiveDate;
use entity::{tenant, ticket_field};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Map, Value};
use tenants::{Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// Creates a field definition for a tenant in the caller's scope; every node forgets its copy
/// of the tenant's definitions.
///
/// # Errors
/// 404 for a tenant outside the scope, 409 for a key in use, 422 for bad fields.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    body: CreateTicketField,
) -> Result<ticket_field::Model, ApiError> {
    let db = &state.db;
    let key = body.key.trim().to_owned();
    if key.is_empty()
        || key.len() > 64
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(ApiError::invalid(
            "key",
            "1-64 characters of a-z, 0-9 and _",
        ));
    }
    let label = body.label.trim().to_owned();
    if label.is_empty() || label.chars().count() > 200 {
        return Err(ApiError::invalid("label", "must be 1-200 characters"));
    }
    let mut options: Vec<String> = body
        .options
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    options.dedup();
    match body.field_type {
        FieldType::Dropdown if options.is_empty() || options.len() > 200 => {
            return Err(ApiError::invalid(
                "options",
                "a dropdown needs 1-200 options",
            ));
        }
        FieldType::Dropdown => {}
        _ if !options.is_empty() => {
            return Err(ApiError::invalid("options", "only dropdowns have options"));
        }
        _ => {}
    }
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let owner = tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    // A field shapes a tenant's tickets (support data): only a tenant whose tickets the caller
    // works may get one.
    let created = ticket_field::ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(key),
        label: Set(label),
        field_type: Set(body.field_type.as_str().to_owned()),
        options: Set(Value::from(options)),
        required: Set(body.required),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .owned_by_tenant(&principal.scope, &owner)?
    .insert(db)
    .await
    .map_err(|err| match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::FieldKeyTaken,
            "this tenant already has a field with this key",
        ),
        _ => err.into(),
    })?;
    state.announce_stale(created.tenant_id).await;
    Ok(created)
}

/// The definitions in the scope, optionally of one tenant.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Option<Uuid>,
) -> Result<Vec<ticket_field::Model>, ApiError> {
    let mut query = ticket_field::Entity::scoped(scope).order_by_asc(ticket_field::Column::Id);
    if let Some(tenant_id) = tenant_id {
        query = query.filter(ticket_field::Column::TenantId.eq(tenant_id));
    }
    Ok(query.all(db).await?)
}

/// Deletes a definition; values already on tickets stay as they are. Every node forgets its
/// copy of the tenant's definitions.
///
/// # Errors
/// 404 outside the scope.
pub async fn delete(state: &AppState, scope: &Scope, id: Uuid) -> Result<(), ApiError> {
    let db = &state.db;
    let found = ticket_field::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("ticket field"))?;
    ticket_field::Entity::scoped_delete(scope)
        .filter(ticket_field::Column::Id.eq(found.id))
        .exec(db)
        .await?;
    state.announce_stale(found.tenant_id).await;
    Ok(())
}

fn check_value(field: &ticket_field::Model, value: &Value) -> Result<(), String> {
    match (field.field_type.as_str(), value) {
        ("text", Value::String(text)) if text.chars().count() <= 1000 => Ok(()),
        ("text", _) => Err("must be text of at most 1,000 characters".into()),
        ("number", Value::Number(_)) => Ok(()),
        ("number", _) => Err("must be a number".into()),
        ("checkbox", Value::Bool(_)) => Ok(()),
        ("checkbox", _) => Err("must be true or false".into()),
        ("date", Value::String(text)) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => {
            Ok(())
        }
        ("date", _) => Err("must be a date written YYYY-MM-DD".into()),
        ("dropdown", Value::String(choice)) => {
            let options: Vec<String> =
                serde_json::from_value(field.options.clone()).unwrap_or_default();
            if options.contains(choice) {
                Ok(())
            } else {
                Err(format!("must be one of: {}", options.join(", ")))
            }
        }
        ("dropdown", _) => Err("must be one of the field's options".into()),
        _ => Err("has an unknown field type".into()),
    }
}

/// Every field definition of one tenant, read through the caller's scope.
///
/// # Errors
/// Fails when the database does.
pub async fn definitions(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
) -> Result<Vec<ticket_field::Model>, ApiError> {
    Ok(ticket_field::Entity::scoped(scope)
        .filter(ticket_field::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?)
}

/// Applies `changes` to `current` after checking each value against `fields`, the definitions
/// of the ticket's tenant; `null` removes a value. On creation, required fields must be present.
/// Every bad value is named as `custom_fields.<key>`.
///
/// # Errors
/// 422 listing every bad or missing value.
pub fn apply(
    fields: &[ticket_field::Model],
    current: Map<String, Value>,
    changes: Map<String, Value>,
    creating: bool,
) -> Result<Map<String, Value>, ApiError> {
    let mut errors = Vec::new();
    let mut result = current;
    for (key, value) in changes {
        let Some(field) = fields.iter().find(|f| f.key == key) else {
            errors.push(FieldError {
                field: format!("custom_fields.{key}"),
                message: "no such field for this ticket's tenant".into(),
            });
            continue;
        };
        if value.is_null() {
            result.remove(&key);
            continue;
        }
        match check_value(field, &value) {
            Ok(()) => {
                result.insert(key, value);
            }
            Err(message) => errors.push(FieldError {
                field: format!("custom_fields.{key}"),
                message,
            }),
        }
    }
    if creating {
        for field in fields
            .iter()
            .filter(|f| f.required && !result.contains_key(&f.key))
        {
            errors.push(FieldError {
                field: format!("custom_fields.{}", field.key),
                message: "is required".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(result)
    } else {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(ApiError::Validation {
            code: ErrorCode::ValidationFailed,
            detail,
            errors,
        })
    }
}
