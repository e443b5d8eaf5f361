//! The server-sent-events stream of ticket events.
use super::bus::TicketEvent;
use crate::auth::principal::{Authorized, TicketsRead};
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use std::time::Duration;
use tenants::Role;
use tokio::sync::broadcast::error::RecvError;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the event stream.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ticket_events);
}

/// How often an idle stream sends a comment line, so proxies keep it open.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// A stream (`text/event-stream`) of events about tickets in the caller's scope: `ticket.created`,
/// `ticket.updated`, `ticket.reply`, `ticket.note` (not for client staff), `ticket.merged`,
/// `ticket.escalated`, `ticket.routed`. The
/// stream ends when the access token expires; reconnect with a fresh one.
#[utoipa::path(
    tag = "tickets",
    responses(
        (status = 200, description = "An endless stream of `event: <kind>` / `data: <json>` entries", body = TicketEvent, content_type = "text/event-stream"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/events")]
async fn ticket_events(
    state: web::Data<AppState>,
    auth: Authorized<TicketsRead>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let receiver = state.events.subscribe();
    let hide_notes = principal.role() == Some(Role::ClientAdmin);
    let ends_at = principal.claims.as_ref().map(|claims| {
        let left = claims.exp - chrono::Utc::now().timestamp();
        tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left.max(0)).unwrap_or(0))
    });
    let opening = futures_util::stream::once(async {
        Ok::<Bytes, actix_web::Error>(Bytes::from_static(b": connected\n\n"))
    });
    let events = futures_util::stream::unfold(receiver, move |mut receiver| {
        let scope = principal.scope.clone();
        async move {
            loop {
                let expired = ends_at.is_some_and(|at| tokio::time::Instant::now() >= at);
                if expired {
                    return None;
                }
                let next = tokio::time::timeout(KEEPALIVE, receiver.recv()).await;
                let chunk = match next {
                    Err(_) => Bytes::from_static(b": keep-alive\n\n"),
                    Ok(Err(RecvError::Closed)) => return None,
                    Ok(Err(RecvError::Lagged(missed))) => {
                        Bytes::from(format!("event: lagged\ndata: {{\"missed\":{missed}}}\n\n"))
                    }
                    Ok(Ok(event)) => {
                        if !scope.covers_support(&event.tenant_path, event.tenant_kind)
                            || (hide_notes && event.kind == "ticket.note")
                        {
                            continue;
                        }
                        // The tenant path routes the event between nodes; clients never see it.
                        let Ok(mut data) = serde_json::to_value(&event) else {
                            continue;
                        };
                        if let Some(fields) = data.as_object_mut() {
                            fields.remove("tenant_path");
                            fields.remove("tenant_kind");
                        }
                        Bytes::from(format!("event: {}\ndata: {data}\n\n", event.kind))
                    }
                };
                return Some((Ok::<Bytes, actix_web::Error>(chunk), receiver));
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(futures_util::StreamExt::chain(opening, events)))
}
