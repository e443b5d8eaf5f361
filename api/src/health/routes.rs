//! `/health` (the process answers) and `/ready` (the database and the cache answer).
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the probes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready);
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeStatus {
    /// `ok`, or `unavailable`.
    pub status: &'static str,
    /// Database state (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// Cache state and backend (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = ProbeStatus)), security(()))]
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(ProbeStatus {
        status: "ok",
        database: None,
        cache: None,
    })
}

/// The database and the cache answer.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = ProbeStatus),
        (status = 503, description = "A dependency is down", body = ProbeStatus),
    ),
    security(())
)]
#[get("/ready")]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database_ok = state.db.execute_unprepared("SELECT 1").await.is_ok();
    let cache_ok = state.cache.ping().await.is_ok();
    let body = ProbeStatus {
        status: if database_ok && cache_ok {
            "ok"
        } else {
            "unavailable"
        },
        database: Some(if database_ok { "ok" } else { "unavailable" }),
        cache: Some(format!(
            "{} {}",
            state.cache.backend(),
            if cache_ok { "ok" } else { "unavailable" }
        )),
    };
    if database_ok && cache_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
