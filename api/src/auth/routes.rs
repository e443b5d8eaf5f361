//! HTTP endpoints of authentication.
use super::dto::{
    ChangePasswordRequest, Jwk, JwkAlgorithm, JwkCurve, JwkKeyType, JwkSet, JwkUse, LoginRequest,
    LogoutRequest, MeResponse, RefreshRequest, ResetPasswordRequest, RotatedKey, TokenResponse,
};
use super::principal::{Actor, Admin, Authorized, Principal};
use super::service;
use crate::error::ErrorCode;
use crate::error::{ApiError, Problem};
use crate::http::rate_limit::limit_by_ip;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the auth endpoints.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_password)
        .service(reset_password)
        .service(rotate_signing_key);
}

/// Registers the public endpoints outside `/api/v1` (the JWK Set).
pub fn configure_well_known(cfg: &mut ServiceConfig) {
    cfg.service(jwks);
}

/// The public keys that verify access tokens (RFC 7517 JWK Set), for integrators that check
/// tokens themselves. Lists the current key and retired keys whose tokens may still be alive;
/// refetch it when a token names an unknown `kid` (after a rotation).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The JWK Set", body = JwkSet, content_type = "application/jwk-set+json",
         headers(("cache-control" = String, description = "`public, max-age=300`"))),
    ),
    security(())
)]
#[get("/.well-known/jwks.json")]
async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let keys = state
        .keys
        .public_keys()
        .into_iter()
        .map(|key| Jwk {
            kty: JwkKeyType::Okp,
            crv: JwkCurve::Ed25519,
            x: key.x,
            kid: key.kid,
            key_use: JwkUse::Sig,
            alg: JwkAlgorithm::EdDSA,
        })
        .collect();
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .content_type("application/jwk-set+json")
        .json(JwkSet { keys })
}

/// Signs in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password (the same answer for an unknown e-mail)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The tenant is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed body, or `tenant_required`: the password fits accounts in several tenants", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_by_ip(&state, &req, "login", state.settings.auth.login_per_minute).await?;
    let body = body.into_inner();
    let tokens = service::login(&state, &body.email, body.password, body.tenant.as_deref()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(tokens))
}

/// Exchanges a refresh token for a new token pair (the old refresh token is spent).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_by_ip(
        &state,
        &req,
        "refresh",
        state.settings.auth.login_per_minute.saturating_mul(5),
    )
    .await?;
    let tokens = service::refresh(&state, &body.refresh_token).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(tokens))
}

/// Signs out: the session the access token belongs to ends at once (its refresh token and every
/// access token issued in it stop working); a refresh token of another session ends that too.
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "Optional refresh token of another session to end too"),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    principal: Principal,
    body: Option<web::Json<LogoutRequest>>,
) -> Result<HttpResponse, ApiError> {
    let claims = principal.claims.as_ref().ok_or_else(|| {
        ApiError::forbidden(
            ErrorCode::UserRequired,
            "API keys do not sign out; revoke the key instead",
        )
    })?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    service::logout(&state, claims, body.refresh_token.as_ref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller: user or API key, tenant, role and permission scopes.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Missing, invalid, expired or revoked credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The tenant is suspended", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me")]
async fn me(principal: Principal) -> HttpResponse {
    let (principal_type, user_id, api_key_id, email, name, role) = match &principal.actor {
        Actor::User {
            id,
            role,
            email,
            name,
        } => (
            "user",
            Some(*id),
            None,
            Some(email.clone()),
            name.clone(),
            Some(role.as_str().to_owned()),
        ),
        Actor::ApiKey { id, name } => ("api_key", None, Some(*id), None, name.clone(), None),
        Actor::Operator => (
            "operator",
            None,
            None,
            None,
            "operator".into(),
            Some("platform_admin".into()),
        ),
    };
    HttpResponse::Ok().json(MeResponse {
        principal_type,
        user_id,
        api_key_id,
        email,
        name,
        role,
        tenant_id: principal.tenant_id,
        tenant_slug: principal.tenant_slug.clone(),
        tenant_kind: principal.tenant_kind.as_str().to_owned(),
        scopes: principal.scopes.clone(),
    })
}

/// Changes the caller's own password; every session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; sign in again"),
        (status = 401, description = "Current password wrong, or not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "New password too short or too easy to guess (`weak_password`, saying why)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/password")]
async fn change_password(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let user_id = principal.user_id()?;
    let body = body.into_inner();
    service::change_password(&state, user_id, body.current_password, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a new password with a one-time token an admin issued.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password set; sign in with it"),
        (status = 401, description = "Unknown, used or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "New password too short or too easy to guess (`weak_password`, saying why)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/password-reset")]
async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_by_ip(&state, &req, "reset", state.settings.auth.login_per_minute).await?;
    let body = body.into_inner();
    service::reset_password(&state, &body.token, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotates the JWT signing key; tokens signed with the previous key stay valid until they expire.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "New signing key in use", body = RotatedKey),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only platform administrators rotate keys", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]), ("api_key" = ["admin"]))
)]
#[post("/auth/signing-keys/rotate")]
async fn rotate_signing_key(
    state: web::Data<AppState>,
    principal: Authorized<Admin>,
) -> Result<HttpResponse, ApiError> {
    if !principal.is_platform_admin() {
        return Err(ApiError::forbidden(
            ErrorCode::InsufficientScope,
            "only platform administrators rotate signing keys",
        ));
    }
    let kid = state.keys.rotate(&state.db).await?;
    tracing::info!(%kid, "signing key rotated");
    Ok(HttpResponse::Ok().json(RotatedKey { kid }))
}
