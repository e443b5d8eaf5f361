//! The real-time stream: events reach subscribers in scope, on any node when Redis is there.
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tests::{TestApp, body, spawn_app};

pub(crate) type Events =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

pub(crate) async fn subscribe(app: &TestApp, token: &str) -> Events {
    let response = app
        .request(Method::GET, "/api/v1/events", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    Box::pin(response.bytes_stream())
}

/// The next `event:` entry, skipping comments; `None` after `wait` without one.
pub(crate) async fn next_event(stream: &mut Events, wait: Duration) -> Option<(String, Value)> {
    let mut buffer = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let entry: String = buffer.drain(..end + 2).collect();
            let mut kind = None;
            let mut data = None;
            for line in entry.lines() {
                if let Some(rest) = line.strip_prefix("event: ") {
                    kind = Some(rest.to_owned());
                } else if let Some(rest) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(rest).ok();
                }
            }
            if let (Some(kind), Some(data)) = (kind, data) {
                return Some((kind, data));
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .ok()??
            .ok()?;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn agents_see_their_scope_live_and_nothing_else() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mut partner_a = subscribe(&app, &tree.agent_a).await;
    let mut partner_b = subscribe(&app, &tree.admin_b).await;
    let mut client_staff = subscribe(&app, &tree.client_admin_a).await;
    let mut platform = subscribe(&app, &tree.root).await;
    let created = body(app.post("/api/v1/tickets", &tree.agent_a, &json!({"tenant_id": tree.client_a, "subject": "Live", "requester": {"email": "s@uni.example"}})).await).await;
    let (kind, data) = next_event(&mut partner_a, Duration::from_secs(5))
        .await
        .expect("partner A hears its client's ticket");
    assert_eq!(kind, "ticket.created");
    assert_eq!(data["ticket_id"], created["id"]);
    assert!(data.get("tenant_path").is_none());
    let id = created["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/tickets/{id}/notes"),
        &tree.agent_a,
        &json!({"body": "internal"}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{id}/replies"),
        &tree.agent_a,
        &json!({"body": "public"}),
    )
    .await;
    assert_eq!(
        next_event(&mut partner_a, Duration::from_secs(5))
            .await
            .unwrap()
            .0,
        "ticket.note"
    );
    assert_eq!(
        next_event(&mut partner_a, Duration::from_secs(5))
            .await
            .unwrap()
            .0,
        "ticket.reply"
    );
    // The client's staff see the creation and the reply, never the note.
    assert_eq!(
        next_event(&mut client_staff, Duration::from_secs(5))
            .await
            .unwrap()
            .0,
        "ticket.created"
    );
    assert_eq!(
        next_event(&mut client_staff, Duration::from_secs(5))
            .await
            .unwrap()
            .0,
        "ticket.reply"
    );
    // Partner B hears nothing of partner A, only its own ticket.
    let own = body(
        app.post(
            "/api/v1/tickets",
            &tree.admin_b,
            &json!({"subject": "B", "requester": {"email": "b@uni.example"}}),
        )
        .await,
    )
    .await;
    let (_, data) = next_event(&mut partner_b, Duration::from_secs(5))
        .await
        .expect("partner B hears its own ticket");
    assert_eq!(data["ticket_id"], own["id"]);
    // The platform hears none of the partners' tickets: the first event it gets is its
    // dedicated client's.
    let dedicated = body(
        app.post(
            "/api/v1/tickets",
            &tree.root,
            &json!({"tenant_id": tree.dedicated, "subject": "D", "requester": {"email": "d@uni.example"}}),
        )
        .await,
    )
    .await;
    let (_, data) = next_event(&mut platform, Duration::from_secs(5))
        .await
        .expect("the platform hears its dedicated client's ticket");
    assert_eq!(data["ticket_id"], dedicated["id"]);
    assert!(data.get("tenant_kind").is_none());
}

#[tokio::test]
async fn with_redis_an_event_reaches_subscribers_on_another_node() {
    let app = spawn_app().await;
    if app.state.settings.redis_url.is_none() {
        // In-process events stay on their node by design.
        return;
    }
    let other = app.second_node().await;
    let root = app.root().await;
    let mut stream = subscribe(&other, &root).await;
    let created = body(
        app.post(
            "/api/v1/tickets",
            &root,
            &json!({"subject": "Across nodes", "requester": {"email": "n@uni.example"}}),
        )
        .await,
    )
    .await;
    let (kind, data) = next_event(&mut stream, Duration::from_secs(5))
        .await
        .expect("the other node relays the event");
    assert_eq!(kind, "ticket.created");
    assert_eq!(data["ticket_id"], created["id"]);
}
