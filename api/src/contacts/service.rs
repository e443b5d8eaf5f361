//! The rules of contacts; every query goes through the caller's scope.
use super::dto::{ContactDto, ContactExport, ExportedMessage, ExportedTicket};
use super::dto::{ContactFields, UpdateContact};
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::http::pagination::PageRequest;
use crate::tickets::change::{self, Actor, Edit, Guard};
use chrono::{DateTime, Utc};
use entity::{company, contact, ticket, ticket_message};
use sea_orm::DatabaseConnection;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use tenants::{Scope, Scoped, ScopedInsert};
use uuid::Uuid;

/// A contact's fields after checking and normalising.
#[derive(Clone, Debug, Default)]
pub struct CheckedContact {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    whatsapp_id: Option<String>,
    telegram_id: Option<String>,
    locale: Option<String>,
    time_zone: Option<String>,
    company_id: Option<Uuid>,
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn check_phone(phone: &str) -> Result<(), ApiError> {
    let digits = phone.strip_prefix('+').unwrap_or_default();
    let ok = (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "phone",
            "must be in E.164 form, e.g. +351912345678",
        ))
    }
}

fn check_handle(field: &'static str, value: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@_.-+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "1-64 characters of letters, digits and @_.-+",
        ))
    }
}

/// Checks and normalises a contact's fields; at least one identifier is required.
///
/// # Errors
/// 422 naming the first bad field.
pub fn check(fields: ContactFields) -> Result<CheckedContact, ApiError> {
    let email = clean(fields.email)
        .map(|e| crate::users::service::normalise_email(&e))
        .transpose()?;
    let phone = clean(fields.phone);
    if let Some(phone) = &phone {
        check_phone(phone)?;
    }
    let whatsapp_id = clean(fields.whatsapp_id);
    if let Some(id) = &whatsapp_id {
        check_handle("whatsapp_id", id)?;
    }
    let telegram_id = clean(fields.telegram_id);
    if let Some(id) = &telegram_id {
        check_handle("telegram_id", id)?;
    }
    if email.is_none() && phone.is_none() && whatsapp_id.is_none() && telegram_id.is_none() {
        return Err(ApiError::invalid(
            "email",
            "give at least one of email, phone, whatsapp_id or telegram_id",
        ));
    }
    let locale = clean(fields.locale);
    if let Some(locale) = &locale {
        tenants::provisioning::validate_locales(std::slice::from_ref(locale))
            .map_err(|_| ApiError::invalid("locale", "a language tag such as `en` or `pt-BR`"))?;
    }
    let time_zone = clean(fields.time_zone);
    if let Some(zone) = &time_zone {
        tenants::provisioning::validate_time_zone(zone)?;
    }
    let name = clean(fields.name);
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::invalid("name", "must be at most 200 characters"));
    }
    Ok(CheckedContact {
        name,
        email,
        phone,
        whatsapp_id,
        telegram_id,
        locale,
        time_zone,
        company_id: fields.company_id,
    })
}

fn default_name(checked: &CheckedContact) -> String {
    checked
        .name
        .clone()
        .or_else(|| {
            checked
                .email
                .as_ref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .or_else(|| checked.phone.clone())
        .or_else(|| checked.whatsapp_id.clone())
        .or_else(|| checked.telegram_id.clone())
        .unwrap_or_else(|| "Unknown".into())
}

fn exists(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            ErrorCode::ContactExists,
            "another contact of this tenant has the same e-mail, phone, WhatsApp or Telegram id",
        ),
        _ => err.into(),
    }
}

async fn company_for(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: Uuid,
    checked: &CheckedContact,
) -> Result<Option<Uuid>, ApiError> {
    match checked.company_id {
        Some(id) => {
            let found = company::Entity::scoped_by_id(scope, id)
                .filter(company::Column::TenantId.eq(tenant_id))
                .one(db)
                .await?;
            found.map(|c| Some(c.id)).ok_or_else(|| {
                ApiError::invalid("company_id", "no such company in the contact's tenant")
            })
        }
        None => match &checked.email {
            Some(email) => Ok(crate::companies::service::by_email_domain(
                db, scope, tenant_id, email,
            )
            .await?
            .map(|c| c.id)),
            None => Ok(None),
        },
    }
}

/// Creates a contact in a tenant of the caller's scope.
///
/// # Errors
/// 404 for a tenant outside the scope, 409 when an identifier is taken, 422 for bad fields.
pub async fn create(
    db: &impl ConnectionTrait,
    principal: &crate::auth::principal::Principal,
    body: super::dto::CreateContact,
    now: DateTime<Utc>,
) -> Result<contact::Model, ApiError> {
    let checked = check(body.fields)?;
    let tenant_id = body.tenant_id.unwrap_or(principal.tenant_id);
    let owner = entity::tenant::Entity::scoped_by_id(&principal.scope, tenant_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    // A contact is support data: the tenant must be one whose tickets the caller works.
    let own = principal
        .scope
        .narrowed_to_tenant(&owner)
        .ok_or(ApiError::NotFound("tenant"))?;
    insert(db, &own, checked, now).await
}

/// Creates a contact of the tenant `own` is narrowed to (its owner comes from the scope).
///
/// # Errors
/// 409 when an identifier is taken in the tenant, 422 for a company of another tenant.
pub async fn insert(
    db: &impl ConnectionTrait,
    own: &Scope,
    checked: CheckedContact,
    now: DateTime<Utc>,
) -> Result<contact::Model, ApiError> {
    let company_id = company_for(db, own, own.tenant_id(), &checked).await?;
    contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(default_name(&checked)),
        email: Set(checked.email),
        phone: Set(checked.phone),
        whatsapp_id: Set(checked.whatsapp_id),
        telegram_id: Set(checked.telegram_id),
        locale: Set(checked.locale),
        time_zone: Set(checked.time_zone),
        company_id: Set(company_id),
        stands_for_tenant_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .owned_by(own)?
    .insert(db)
    .await
    .map_err(exists)
}

/// The contact of the tenant `own` is narrowed to matching any identifier of `checked`, or a
/// new one.
///
/// # Errors
/// Fails when the database does, or as [`insert`].
pub async fn find_or_create(
    db: &impl ConnectionTrait,
    own: &Scope,
    checked: CheckedContact,
    now: DateTime<Utc>,
) -> Result<contact::Model, ApiError> {
    let (scope, tenant_id) = (own, own.tenant_id());
    let mut any = Condition::any();
    if let Some(email) = &checked.email {
        any = any.add(contact::Column::Email.eq(email.clone()));
    }
    if let Some(phone) = &checked.phone {
        any = any.add(contact::Column::Phone.eq(phone.clone()));
    }
    if let Some(id) = &checked.whatsapp_id {
        any = any.add(contact::Column::WhatsappId.eq(id.clone()));
    }
    if let Some(id) = &checked.telegram_id {
        any = any.add(contact::Column::TelegramId.eq(id.clone()));
    }
    let any_identifier = any.clone();
    let found = contact::Entity::scoped(scope)
        .filter(contact::Column::TenantId.eq(tenant_id))
        .filter(any)
        .order_by_asc(contact::Column::Id)
        .one(db)
        .await?;
    if let Some(found) = found {
        return Ok(found);
    }
    match insert(db, own, checked, now).await {
        // Two first messages from the same person at once: the other request created the
        // contact between our lookup and our insert; use it.
        Err(ApiError::Conflict {
            code: ErrorCode::ContactExists,
            ..
        }) => contact::Entity::scoped(scope)
            .filter(contact::Column::TenantId.eq(tenant_id))
            .filter(any_identifier)
            .order_by_asc(contact::Column::Id)
            .one(db)
            .await?
            .ok_or_else(|| {
                ApiError::conflict(
                    ErrorCode::ContactExists,
                    "the contact changed while it was being created; retry",
                )
            }),
        other => other,
    }
}

/// One page of contacts in the scope.
///
/// # Errors
/// Fails when the database does.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &super::dto::ContactFilter,
    page: PageRequest,
) -> Result<Vec<contact::Model>, ApiError> {
    let mut query = contact::Entity::scoped(scope)
        .order_by_asc(contact::Column::Id)
        .limit(page.limit + 1);
    if let Some(tenant_id) = filter.tenant_id {
        query = query.filter(contact::Column::TenantId.eq(tenant_id));
    }
    if let Some(company_id) = filter.company_id {
        query = query.filter(contact::Column::CompanyId.eq(company_id));
    }
    if let Some(email) = &filter.email {
        query = query.filter(contact::Column::Email.eq(email.trim().to_lowercase()));
    }
    if let Some(after) = page.after {
        query = query.filter(contact::Column::Id.gt(after));
    }
    Ok(query.all(db).await?)
}

/// A contact in the scope.
///
/// # Errors
/// 404 outside the scope.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<contact::Model, ApiError> {
    contact::Entity::scoped_by_id(scope, id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("contact"))
}

/// Changes a contact; identifiers stay unique per tenant.
///
/// # Errors
/// 404 outside the scope, 409 for a taken identifier, 422 for bad fields or for removing the
/// last identifier.
pub async fn update(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
    body: UpdateContact,
    now: DateTime<Utc>,
) -> Result<contact::Model, ApiError> {
    let found = get(db, scope, id).await?;
    let pick = |change: Option<Option<String>>, current: &Option<String>| {
        change.unwrap_or_else(|| current.clone())
    };
    let merged = ContactFields {
        name: body.name.or_else(|| Some(found.name.clone())),
        email: pick(body.email, &found.email),
        phone: pick(body.phone, &found.phone),
        whatsapp_id: pick(body.whatsapp_id, &found.whatsapp_id),
        telegram_id: pick(body.telegram_id, &found.telegram_id),
        locale: pick(body.locale, &found.locale),
        time_zone: pick(body.time_zone, &found.time_zone),
        company_id: body.company_id.unwrap_or(found.company_id),
    };
    let clear_company = merged.company_id.is_none();
    let checked = check(merged)?;
    let company_id = if clear_company {
        None
    } else {
        company_for(db, scope, found.tenant_id, &checked).await?
    };
    let mut active: contact::ActiveModel = found.into();
    active.name = Set(default_name(&checked));
    active.email = Set(checked.email);
    active.phone = Set(checked.phone);
    active.whatsapp_id = Set(checked.whatsapp_id);
    active.telegram_id = Set(checked.telegram_id);
    active.locale = Set(checked.locale);
    active.time_zone = Set(checked.time_zone);
    active.company_id = Set(company_id);
    active.updated_at = Set(now);
    active.update(db).await.map_err(exists)
}

/// Everything held about a contact: its fields and its tickets with their public conversation.
///
/// # Errors
/// 404 outside the scope.
pub async fn export(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: Uuid,
) -> Result<ContactExport, ApiError> {
    let found = get(db, scope, id).await?;
    let tickets = ticket::Entity::scoped(scope)
        .filter(ticket::Column::RequesterId.eq(found.id))
        .order_by_asc(ticket::Column::Id)
        .all(db)
        .await?;
    let messages = ticket_message::Entity::scoped(scope)
        .filter(
            ticket_message::Column::TicketId
                .is_in(tickets.iter().map(|t| t.id).collect::<Vec<_>>()),
        )
        .filter(ticket_message::Column::Kind.ne("note"))
        .order_by_asc(ticket_message::Column::Id)
        .all(db)
        .await?;
    let tickets = tickets
        .into_iter()
        .map(|t| ExportedTicket {
            messages: messages
                .iter()
                .filter(|m| m.ticket_id == t.id)
                .map(|m| ExportedMessage {
                    kind: m.kind.clone(),
                    body_text: m.body_text.clone(),
                    created_at: m.created_at,
                })
                .collect(),
            id: t.id,
            number: t.number,
            subject: t.subject,
            description: t.description,
            status: t.status,
            created_at: t.created_at,
        })
        .collect();
    Ok(ContactExport {
        contact: ContactDto::from(found),
        tickets,
    })
}

/// Erases a contact's personal data on request: its identifiers and name go, its tickets stay
/// (for the numbers) with their subject, description and the requester's own messages blanked.
///
/// # Errors
/// 404 outside the scope.
pub async fn erase(
    db: &DatabaseConnection,
    principal: &crate::auth::principal::Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let scope = &principal.scope;
    let found = get(db, scope, id).await?;
    let txn = crate::backend::begin(db).await?;
    let mut active: contact::ActiveModel = found.clone().into();
    active.name = Set("Erased contact".into());
    active.email = Set(None);
    active.phone = Set(None);
    active.whatsapp_id = Set(None);
    active.telegram_id = Set(None);
    active.locale = Set(None);
    active.time_zone = Set(None);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let tickets = ticket::Entity::scoped(scope)
        .filter(ticket::Column::RequesterId.eq(found.id))
        .all(&txn)
        .await?;
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    change::erase(&txn, scope, Actor::of(principal), &tickets, now).await?;
    ticket_message::Entity::scoped_update(scope)
        .col_expr(ticket_message::Column::BodyText, Expr::value("[erased]"))
        .col_expr(
            ticket_message::Column::BodyHtml,
            Expr::value("<p>[erased]</p>"),
        )
        .filter(ticket_message::Column::TicketId.is_in(ids.clone()))
        .filter(ticket_message::Column::Kind.eq("incoming"))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(contact = %found.id, by = %principal.actor_id(), "contact erased on request");
    Ok(())
}

/// Folds secondary contacts into a primary one of the same tenant.
///
/// # Errors
/// 404 for contacts outside the scope, 422 for self-merge, contacts of another tenant or more
/// than 20.
pub async fn merge(
    db: &DatabaseConnection,
    principal: &crate::auth::principal::Principal,
    id: Uuid,
    secondary_ids: Vec<Uuid>,
    now: DateTime<Utc>,
) -> Result<contact::Model, ApiError> {
    let scope = &principal.scope;
    let mut secondary_ids = secondary_ids;
    secondary_ids.sort();
    secondary_ids.dedup();
    if secondary_ids.is_empty() || secondary_ids.len() > 20 {
        return Err(ApiError::invalid(
            "secondary_ids",
            "give 1 to 20 contacts to merge",
        ));
    }
    if secondary_ids.contains(&id) {
        return Err(ApiError::invalid(
            "secondary_ids",
            "a contact cannot be merged into itself",
        ));
    }
    let primary = get(db, scope, id).await?;
    let secondaries = contact::Entity::scoped(scope)
        .filter(contact::Column::Id.is_in(secondary_ids.clone()))
        .all(db)
        .await?;
    if secondaries.len() != secondary_ids.len() {
        return Err(ApiError::NotFound("contact"));
    }
    if secondaries.iter().any(|c| c.tenant_id != primary.tenant_id) {
        return Err(ApiError::invalid(
            "secondary_ids",
            "only contacts of the primary's tenant can be merged",
        ));
    }
    let mut merged = primary.clone();
    for secondary in &secondaries {
        merged.email = merged.email.or_else(|| secondary.email.clone());
        merged.phone = merged.phone.or_else(|| secondary.phone.clone());
        merged.whatsapp_id = merged.whatsapp_id.or_else(|| secondary.whatsapp_id.clone());
        merged.telegram_id = merged.telegram_id.or_else(|| secondary.telegram_id.clone());
        merged.locale = merged.locale.or_else(|| secondary.locale.clone());
        merged.time_zone = merged.time_zone.or_else(|| secondary.time_zone.clone());
        merged.company_id = merged.company_id.or(secondary.company_id);
    }
    let txn = crate::backend::begin(db).await?;
    let moved = ticket::Entity::scoped(scope)
        .filter(ticket::Column::RequesterId.is_in(secondary_ids.clone()))
        .all(&txn)
        .await?;
    let actor = Actor::of(principal);
    for t in &moved {
        let mut edit = Edit::of(t);
        edit.requester(primary.id);
        let guard = Guard::RequestedBy(t.requester_id);
        change::edit(&txn, scope, actor, edit, guard, false, now).await?;
    }
    // Identifiers are unique per tenant: the secondaries go before the primary takes theirs.
    contact::Entity::scoped_delete(scope)
        .filter(contact::Column::Id.is_in(secondary_ids))
        .exec(&txn)
        .await?;
    let mut active: contact::ActiveModel = primary.into();
    active.email = Set(merged.email);
    active.phone = Set(merged.phone);
    active.whatsapp_id = Set(merged.whatsapp_id);
    active.telegram_id = Set(merged.telegram_id);
    active.locale = Set(merged.locale);
    active.time_zone = Set(merged.time_zone);
    active.company_id = Set(merged.company_id);
    active.updated_at = Set(now);
    let stored = active.update(&txn).await.map_err(exists)?;
    txn.commit().await?;
    Ok(stored)
}
