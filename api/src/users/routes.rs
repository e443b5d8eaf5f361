//! HTTP endpoints of user management.
use super::dto::{CreateUser, PasswordResetDto, UpdateUser, UserDto, UserFilter};
use super::service;
use crate::auth::principal::{Admin, Authorized, UsersRead};
use crate::error::{ApiError, Problem};
use crate::http::pagination::{self, Page, PageQuery};
use crate::http::query::ListQuery;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the user endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(deactivate_user)
        .service(issue_password_reset);
}

/// Creates a user in the caller's tenant or a tenant below it.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first response is replayed")),
    responses(
        (status = 201, description = "Created", body = UserDto, headers(("Location" = String, description = "The new user"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Tenant not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "E-mail taken in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or role, or a password too easy to guess (`weak_password`, saying why)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let created = service::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", created.id)))
        .json(UserDto::new(created, Vec::new())))
}

/// Lists users of the caller's tenant and the tenants below it.
#[utoipa::path(
    tag = "users",
    params(PageQuery, UserFilter),
    responses(
        (status = 200, description = "One page", body = Page<UserDto>, headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"))),
        (status = 400, description = "Bad cursor or a query parameter the operation does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the users:read permission", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["users:read"]), ("api_key" = ["users:read"]))
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    auth: Authorized<UsersRead>,
    req: HttpRequest,
    query: ListQuery<UserFilter>,
) -> Result<HttpResponse, ApiError> {
    let ListQuery { page, filter } = query;
    let page = page.parse()?;
    let rows = service::list(&state, &auth, filter.tenant_id, page).await?;
    let rows = service::with_groups(&state.db, &auth.scope, rows).await?;
    Ok(pagination::respond(
        &req,
        page,
        rows,
        |(user, _)| user.id,
        |(user, groups)| UserDto::new(user, groups),
    ))
}

/// One user in the caller's scope.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["users:read"]), ("api_key" = ["users:read"]))
)]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    auth: Authorized<UsersRead>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = service::get(&state.db, &auth, id.into_inner()).await?;
    let mut rows = service::with_groups(&state.db, &auth.scope, vec![found]).await?;
    let (found, groups) = rows.pop().ok_or(ApiError::NotFound("user"))?;
    Ok(HttpResponse::Ok().json(UserDto::new(found, groups)))
}

/// Renames a user, changes the role, or deactivates/reactivates the account.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Updated", body = UserDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission, or changes oneself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[patch("/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let updated = service::update(&state, &auth, id.into_inner(), body.into_inner()).await?;
    let mut rows = service::with_groups(&state.db, &auth.scope, vec![updated]).await?;
    let (updated, groups) = rows.pop().ok_or(ApiError::NotFound("user"))?;
    Ok(HttpResponse::Ok().json(UserDto::new(updated, groups)))
}

/// Deactivates a user: sessions end at the next request; history stays.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission, or deactivates oneself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[delete("/users/{id}")]
async fn deactivate_user(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let change = UpdateUser {
        active: Some(false),
        ..UpdateUser::default()
    };
    service::update(&state, &auth, id.into_inner(), change).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Issues a one-time password-reset token for a user (shown once).
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 201, description = "Token issued", body = PasswordResetDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found in the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user is deactivated", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/users/{id}/password-reset")]
async fn issue_password_reset(
    state: web::Data<AppState>,
    auth: Authorized<Admin>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (token, expires_at) = service::issue_reset(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(PasswordResetDto { token, expires_at }))
}
