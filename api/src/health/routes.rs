//! `/health` (the process answers) and `/ready` (the database and the cache answer).
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// The longest `/ready` waits for one dependency: the probe answers within a second even with
/// every dependency down.
const PROBE_DEADLINE: Duration = Duration::from_millis(700);

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
    /// The dependencies that did not answer: `database`, `redis` (readiness only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub down: Vec<&'static str>,
}

impl ProbeStatus {
    /// The liveness answer.
    pub fn up() -> Self {
        Self {
            status: "ok",
            database: None,
            cache: None,
            down: Vec::new(),
        }
    }
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = ProbeStatus)), security(()))]
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(ProbeStatus::up())
}

/// The database and the cache answer, each within a deadline; the answer names what is down.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = ProbeStatus),
        (status = 503, description = "A dependency is down; `down` names it", body = ProbeStatus),
    ),
    security(())
)]
#[get("/ready")]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = async {
        matches!(
            tokio::time::timeout(PROBE_DEADLINE, state.db.execute_unprepared("SELECT 1")).await,
            Ok(Ok(_))
        )
    };
    let cache = async {
        matches!(
            tokio::time::timeout(PROBE_DEADLINE, state.cache.ping()).await,
            Ok(Ok(()))
        )
    };
    let (database_ok, cache_ok) = tokio::join!(database, cache);
    let mut down = Vec::new();
    if !database_ok {
        down.push("database");
    }
    if !cache_ok {
        down.push("redis");
    }
    let body = ProbeStatus {
        status: if down.is_empty() { "ok" } else { "unavailable" },
        database: Some(if database_ok { "ok" } else { "unavailable" }),
        cache: Some(format!(
            "{} {}",
            state.cache.backend(),
            if cache_ok { "ok" } else { "unavailable" }
        )),
        down,
    };
    if body.down.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
