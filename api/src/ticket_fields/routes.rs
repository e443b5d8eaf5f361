//! HTTP endpoints of custom ticket fields.
use super::dto::{CreateTicketField, TicketFieldDto, TicketFieldFilter};
use super::service;
use crate::auth::principal::{Admin, Authorized, TicketsRead};
use crate::error::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the custom field endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_field)
        .service(list_fields)
        .service(delete_field);
}

/// Defines a custom ticket field for a tenant.
#[utoipa::path(
    tag = "tickets",
    request_body = CreateTicketField,
    responses(
        (status = 201, description = "Created", body = TicketFieldDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Key in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid definition", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/ticket-fields")]
async fn create_field(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    body: web::Json<CreateTicketField>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(TicketFieldDto::from(
        service::create(&state, &auth, body.into_inner()).await?,
    )))
}

/// Lists custom ticket fields in the caller's scope.
#[utoipa::path(
    tag = "tickets",
    params(TicketFieldFilter),
    responses(
        (status = 200, description = "The definitions", body = Vec<TicketFieldDto>),
        (status = 400, description = "Malformed query or a parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/ticket-fields")]
async fn list_fields(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
    filter: Query<TicketFieldFilter>,
) -> Result<HttpResponse, ApiError> {
    let fields = service::list(&state.db, &auth.scope, filter.tenant_id).await?;
    Ok(HttpResponse::Ok().json(
        fields
            .into_iter()
            .map(TicketFieldDto::from)
            .collect::<Vec<_>>(),
    ))
}

/// Deletes a custom field definition (values on tickets stay).
#[utoipa::path(
    tag = "tickets",
    params(("id" = Uuid, Path, description = "Field id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[delete("/ticket-fields/{id}")]
async fn delete_field(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
