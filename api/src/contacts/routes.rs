//! HTTP endpoints of contacts.
use super::dto::{
    ContactDto, ContactExport, ContactFilter, CreateContact, MergeContacts, UpdateContact,
};
use super::service;
use crate::auth::principal::{Admin, Authorized, TicketsRead, TicketsWrite};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the contact endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_contact)
        .service(list_contacts)
        .service(get_contact)
        .service(update_contact)
        .service(merge_contacts)
        .service(export_contact)
        .service(erase_contact);
}

/// Creates a contact (a requester).
#[utoipa::path(
    tag = "contacts",
    request_body = CreateContact,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = ContactDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the tickets:write permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An identifier is taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/contacts")]
async fn create_contact(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    body: web::Json<CreateContact>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state.db, &auth, body.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/contacts/{}", created.id)))
        .json(ContactDto::from(created)))
}

/// Lists contacts in the caller's scope.
#[utoipa::path(
    tag = "contacts",
    params(PageQuery, ContactFilter),
    responses(
        (status = 200, description = "One page", body = Page<ContactDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/contacts")]
async fn list_contacts(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    req: HttpRequest,
    query: ListQuery<ContactFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let rows = service::list(&state.db, &auth.scope, &filter, page).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |row| row.id,
        ContactDto::from,
    ))
}

/// One contact.
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact", body = ContactDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/contacts/{id}")]
async fn get_contact(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ContactDto::from(
        service::get(&state.db, &auth.scope, id.into_inner()).await?,
    )))
}

/// Changes a contact; `null` clears a field.
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "Contact id")),
    request_body = UpdateContact,
    responses(
        (status = 200, description = "Updated", body = ContactDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An identifier is taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[patch("/contacts/{id}")]
async fn update_contact(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateContact>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ContactDto::from(
        service::update(
            &state.db,
            &auth.scope,
            id.into_inner(),
            body.into_inner(),
            state.clock.now(),
        )
        .await?,
    )))
}

/// Folds duplicate contacts into this one: their tickets move here (recorded in each ticket's
/// history), missing identifiers are taken over, and the duplicates are deleted.
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The contact to keep")),
    request_body = MergeContacts,
    responses(
        (status = 200, description = "The merged contact", body = ContactDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A contact is not in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Self-merge, another tenant's contact, or too many", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:write"]), ("api_key" = ["tickets:write"]))
)]
#[post("/contacts/{id}/merge")]
async fn merge_contacts(
    state: web::Data<AppState>,
    auth: Authorized<TicketsWrite>,
    id: web::Path<Uuid>,
    body: web::Json<MergeContacts>,
) -> Result<HttpResponse, ApiError> {
    let merged = service::merge(
        &state.db,
        &auth,
        id.into_inner(),
        body.into_inner().secondary_ids,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ContactDto::from(merged)))
}

/// Everything held about a contact (a data subject's access request).
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact's data", body = ContactExport),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/contacts/{id}/export")]
async fn export_contact(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::export(&state.db, &auth.scope, id.into_inner()).await?))
}

/// Erases a contact's personal data on request; the tickets stay, anonymised.
#[utoipa::path(
    tag = "contacts",
    params(("id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/contacts/{id}/erase")]
async fn erase_contact(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::erase(&state.db, &auth, id.into_inner(), state.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
