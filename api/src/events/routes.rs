//! The server-sent-events stream of ticket events.
use super::bus::TicketEvent;
use super::limit::StreamSlots;
use crate::auth::principal::{Actor, Authorized, Principal, TicketsRead};
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

/// What a caller refused a stream is told to wait: long enough for a closed tab's stream to
/// be noticed and its slot given back.
const RETRY_AFTER_SECS: u64 = 15;

/// Whose slots a stream counts against: the user or the API key, not the token, so that
/// signing in again does not open more.
fn stream_owner(principal: &Principal) -> String {
    match &principal.actor {
        Actor::User { id, .. } => format!("user:{id}"),
        Actor::ApiKey { id, .. } => format!("api_key:{id}"),
        Actor::Operator => "operator".to_owned(),
    }
}

/// A stream (`text/event-stream`) of events about tickets in the caller's scope: `ticket.created`,
/// `ticket.updated`, `ticket.reply`, `ticket.note` (not for client staff), `ticket.incoming`,
/// `ticket.merged`, `ticket.escalated`, `ticket.routed`; each entry's `id:` is its entry in the
/// ticket event log. The stream ends when the access token expires; reconnect
/// with a fresh one. One user or API key may hold `events.max_streams_per_principal` streams at
/// once on each node (5 unless configured); one more is a 429 with `Retry-After` until one of
/// them is closed.
#[utoipa::path(
    tag = "tickets",
    responses(
        (status = 200, description = "An endless stream of `event: <kind>` / `data: <json>` entries", body = TicketEvent, content_type = "text/event-stream"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The credentials lack `tickets:read`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "This user or API key already holds as many streams as allowed (`too_many_streams`)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    ),
    security(("bearer" = ["tickets:read"]), ("api_key" = ["tickets:read"]))
)]
#[get("/events")]
async fn ticket_events(
    state: web::Data<AppState>,
    slots: web::Data<StreamSlots>,
    auth: Authorized<TicketsRead>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth.0;
    let slot = slots
        .acquire(stream_owner(&principal))
        .ok_or(ApiError::TooManyStreams {
            limit: slots.limit(),
            retry_after: RETRY_AFTER_SECS,
        })?;
    let receiver = state.events.subscribe();
    // What was committed before the stream opened may still be on its way through this node's
    // relay: the stream starts after the log's head as it is now.
    let opened_after = crate::events::log::head(&state.db).await?;
    let hide_notes = principal.role() == Some(Role::ClientAdmin);
    let ends_at = principal.claims.as_ref().map(|claims| {
        let left = claims.exp - state.clock.now().timestamp();
        tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left.max(0)).unwrap_or(0))
    });
    let opening = futures_util::stream::once(async {
        Ok::<Bytes, actix_web::Error>(Bytes::from_static(b": connected\n\n"))
    });
    // The slot travels with the stream and is given back when actix drops it.
    let events = futures_util::stream::unfold((receiver, slot), move |(mut receiver, slot)| {
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
                        if event.seq <= opened_after
                            || !scope.covers_support(&event.tenant_path, event.tenant_kind)
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
                        Bytes::from(format!(
                            "id: {}\nevent: {}\ndata: {data}\n\n",
                            event.id, event.kind
                        ))
                    }
                };
                return Some((Ok::<Bytes, actix_web::Error>(chunk), (receiver, slot)));
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(futures_util::StreamExt::chain(opening, events)))
}
