//! The server a node runs while it waits for its database at start: it answers `/health`
//! (the process is up), `/ready` (not ready: the database is down) and refuses everything else
//! with 503 `dependency_unavailable`, so a load balancer and a client both see why, at once.
use super::routes::ProbeStatus;
use crate::error::ApiError;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use std::net::TcpListener;

/// Serves the waiting answers on `listener` (one worker: it only says "not yet").
///
/// # Errors
/// Fails when the listener cannot be used.
pub fn serve(listener: TcpListener) -> anyhow::Result<Server> {
    let server = HttpServer::new(|| {
        App::new()
            .route("/health", web::get().to(health))
            .route("/ready", web::get().to(ready))
            .default_service(web::to(refuse))
            .wrap(from_fn(crate::http::request_id::echo))
            .wrap(from_fn(crate::http::security_headers::add))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .shutdown_timeout(5)
    .run();
    Ok(server)
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(ProbeStatus::up())
}

async fn ready() -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(ProbeStatus {
        status: "unavailable",
        database: Some("unavailable"),
        cache: None,
        down: vec!["database"],
    })
}

async fn refuse() -> HttpResponse {
    ApiError::dependency_unavailable("database").error_response()
}
