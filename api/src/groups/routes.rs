//! HTTP endpoints of groups and memberships.
use super::dto::{CreateGroup, GroupDto, GroupFilter, SetMemberships, UpdateGroup};
use super::service;
use crate::auth::principal::{Admin, Authorized, UsersRead};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the group endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_group)
        .service(list_groups)
        .service(get_group)
        .service(update_group)
        .service(delete_group)
        .service(set_user_groups);
}

/// Creates a group (a support tier or a team) in the caller's tenant or one below it.
#[utoipa::path(
    tag = "groups",
    request_body = CreateGroup,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = GroupDto, headers(("Location" = String, description = "The new group"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/groups")]
async fn create_group(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    body: web::Json<CreateGroup>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/groups/{}", created.id)))
        .json(GroupDto::new(created, Vec::new())))
}

/// Lists groups of the caller's tenant and the tenants below it, with their members.
#[utoipa::path(
    tag = "groups",
    params(PageQuery, GroupFilter),
    responses(
        (status = 200, description = "One page", body = Page<GroupDto>),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the users:read permission", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["users:read"]), ("api_key" = ["users:read"]))
)]
#[get("/groups")]
async fn list_groups(
    state: web::Data<AppState>,
    auth: Authorized<UsersRead>,
    req: HttpRequest,
    query: ListQuery<GroupFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let rows = service::list(&state, &auth.scope, filter.tenant_id, page).await?;
    let mut members =
        service::members_of(&state.db, &auth.scope, rows.iter().map(|g| g.id).collect()).await?;
    let rows: Vec<_> = rows
        .into_iter()
        .map(|g| {
            let ids = members.remove(&g.id).unwrap_or_default();
            (g, ids)
        })
        .collect();
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |(g, _)| g.id,
        |(g, ids)| GroupDto::new(g, ids),
    ))
}

/// One group in the caller's scope, with its members.
#[utoipa::path(
    tag = "groups",
    params(("id" = Uuid, Path, description = "Group id")),
    responses(
        (status = 200, description = "The group", body = GroupDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["users:read"]), ("api_key" = ["users:read"]))
)]
#[get("/groups/{id}")]
async fn get_group(
    state: web::Data<AppState>,
    auth: Authorized<UsersRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state, &auth.scope, id.into_inner()).await?;
    let members = service::members_of(&state.db, &auth.scope, vec![found.id])
        .await?
        .remove(&found.id)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(GroupDto::new(found, members)))
}

/// Renames a group or changes its kind or description.
#[utoipa::path(
    tag = "groups",
    params(("id" = Uuid, Path, description = "Group id")),
    request_body = UpdateGroup,
    responses(
        (status = 200, description = "Updated", body = GroupDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[patch("/groups/{id}")]
async fn update_group(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateGroup>,
) -> Result<HttpResponse, ApiError> {
    let updated = service::update(&state, &auth.scope, id.into_inner(), body.into_inner()).await?;
    let members = service::members_of(&state.db, &auth.scope, vec![updated.id])
        .await?
        .remove(&updated.id)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(GroupDto::new(updated, members)))
}

/// Deletes a group and its memberships.
#[utoipa::path(
    tag = "groups",
    params(("id" = Uuid, Path, description = "Group id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[delete("/groups/{id}")]
async fn delete_group(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service::delete(&state, &auth.scope, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets the groups a user belongs to (replacing the previous memberships).
#[utoipa::path(
    tag = "groups",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = SetMemberships,
    responses(
        (status = 200, description = "The user's groups now", body = SetMemberships),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "User not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A group is not of the user's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[put("/users/{id}/groups")]
async fn set_user_groups(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
    body: web::Json<SetMemberships>,
) -> Result<HttpResponse, ApiError> {
    let group_ids = service::set_memberships(
        &state,
        &auth.scope,
        id.into_inner(),
        body.into_inner().group_ids,
    )
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "group_ids": group_ids })))
}
