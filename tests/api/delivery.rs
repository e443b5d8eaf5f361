//! The outbox's leased worker: replies leave by e-mail through a relay (an SMTP sink on
//! loopback), failures are retried with back-off on the server's clock, dead-lettered after the
//! last attempt and retried by an admin, and two nodes never send the same row twice.
use crate::smtp_sink::SmtpSink;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;
use tests::{TestApp, assert_problem, body, spawn_app_with};

fn relay_to(sink: &SmtpSink, settings: &mut api::config::Settings) {
    settings.delivery.smtp_relay = Some(sink.addr.to_string());
    settings.delivery.from_address = "support@helpdesk.test".into();
    settings.delivery.poll_millis = 20;
}

async fn ticket_for(app: &TestApp, token: &str, requester: Value) -> String {
    let created = app
        .post(
            "/api/v1/tickets",
            token,
            &json!({"subject": "Exam camera", "requester": requester}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await["id"].as_str().unwrap().to_owned()
}

async fn reply(app: &TestApp, token: &str, ticket: &str, text: &str) -> Value {
    let posted = app
        .post(
            &format!("/api/v1/tickets/{ticket}/replies"),
            token,
            &json!({"body": text}),
        )
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    body(posted).await
}

/// The delivery of the ticket's last reply, once `done` holds for it (or after 10 s).
async fn delivery_when(
    app: &TestApp,
    token: &str,
    ticket: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..500 {
        let conversation = body(
            app.get(&format!("/api/v1/tickets/{ticket}/conversation"), token)
                .await,
        )
        .await;
        last = conversation
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["kind"] == "reply")
            .map(|m| m["delivery"].clone())
            .unwrap_or(Value::Null);
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the delivery never got there: {last}");
}

#[tokio::test]
async fn a_reply_leaves_by_email_and_the_conversation_shows_it_sent() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| relay_to(&sink, s)).await;
    let tree = app.tree().await;
    let ticket = ticket_for(&app, &tree.agent_a, json!({"email": "ana@uni.example"})).await;
    let posted = reply(&app, &tree.agent_a, &ticket, "Please restart the browser.").await;
    // The worker may already hold it when the answer is written.
    let status = posted["delivery"]["status"].as_str().unwrap();
    assert!(["queued", "sending", "sent"].contains(&status), "{posted}");
    let sent = delivery_when(&app, &tree.agent_a, &ticket, |d| d["status"] == "sent").await;
    assert_eq!(sent["channel"], "email");
    assert_eq!(sent["attempts"], 1);
    assert!(sent["reason"].is_null());
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("To: ana@uni.example"), "{mail}");
    assert!(mail.contains("From: support@helpdesk.test"), "{mail}");
    assert!(mail.contains("Subject: [#1] Exam camera"), "{mail}");
    assert!(mail.contains("Please restart the browser."), "{mail}");

    // A requester known only by phone has no address to write to: the reply says so at once
    // and nothing waits in the outbox for a worker.
    let unreachable = ticket_for(&app, &tree.agent_a, json!({"phone": "+34600000000"})).await;
    let posted = reply(&app, &tree.agent_a, &unreachable, "Call us").await;
    assert_eq!(posted["delivery"]["status"], "failed");
    assert!(
        posted["delivery"]["reason"]
            .as_str()
            .unwrap()
            .contains("no e-mail address")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.mails().len(), 1);
    // Notes never leave.
    app.post(
        &format!("/api/v1/tickets/{ticket}/notes"),
        &tree.agent_a,
        &json!({"body": "internal"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.mails().len(), 1);
}

async fn outbox(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let listed = app.get(&format!("/api/v1/outbox{query}"), token).await;
    assert_eq!(listed.status(), StatusCode::OK);
    body(listed).await["items"].as_array().unwrap().clone()
}

/// The outbox row of the admin's tenant once `done` holds for it.
async fn row_when(app: &TestApp, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..500 {
        if let Some(row) = outbox(app, token, "").await.into_iter().find(|r| done(r)) {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "no outbox row got there: {:?}",
        outbox(app, token, "").await
    );
}

#[tokio::test]
async fn a_failing_delivery_backs_off_on_the_clock_goes_dead_and_an_admin_retries_it() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        relay_to(&sink, s);
        s.delivery.max_attempts = 3;
        s.delivery.base_backoff_secs = 60;
        s.delivery.max_backoff_secs = 60;
    })
    .await;
    let tree = app.tree().await;
    sink.refuse(true);
    let ticket = ticket_for(&app, &tree.agent_a, json!({"email": "bo@uni.example"})).await;
    reply(&app, &tree.agent_a, &ticket, "We are looking into it.").await;
    let first = row_when(&app, &tree.admin_a, |r| {
        r["attempts"] == 1 && r["status"] == "queued"
    })
    .await;
    assert!(
        first["last_error"].as_str().unwrap().contains("451"),
        "{first}"
    );
    // The next attempt waits for the back-off: nothing happens until the clock moves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox(&app, &tree.admin_a, "").await[0]["attempts"], 1);
    app.state.clock.advance(chrono::TimeDelta::seconds(61));
    row_when(&app, &tree.admin_a, |r| {
        r["attempts"] == 2 && r["status"] == "queued"
    })
    .await;
    app.state.clock.advance(chrono::TimeDelta::seconds(61));
    let dead = row_when(&app, &tree.admin_a, |r| r["status"] == "dead").await;
    assert_eq!(dead["attempts"], 3);
    assert!(dead["last_error"].as_str().unwrap().contains("451"));
    let shown = delivery_when(&app, &tree.agent_a, &ticket, |d| d["status"] == "dead").await;
    assert_eq!(shown["attempts"], 3);
    assert!(sink.mails().is_empty());

    // The dead letter is the admin's to see and retry; another tenant finds nothing, an agent
    // may not.
    let dead_letters = outbox(&app, &tree.admin_a, "?status=dead").await;
    assert_eq!(dead_letters.len(), 1);
    let id = dead_letters[0]["id"].as_str().unwrap();
    assert!(outbox(&app, &tree.admin_b, "?status=dead").await.is_empty());
    let path = format!("/api/v1/outbox/{id}/retry");
    assert_problem(
        app.post(&path, &tree.admin_b, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let refused = app.post(&path, &tree.agent_a, &json!({})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_problem(
        app.get("/api/v1/outbox?status=lost", &tree.admin_a).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    sink.refuse(false);
    let retried = app.post(&path, &tree.admin_a, &json!({})).await;
    assert_eq!(retried.status(), StatusCode::OK);
    assert_eq!(body(retried).await["status"], "queued");
    let sent = delivery_when(&app, &tree.agent_a, &ticket, |d| d["status"] == "sent").await;
    assert_eq!(sent["attempts"], 1);
    assert_eq!(sink.mails().len(), 1);
    // Retrying what was sent is a conflict.
    assert_problem(
        app.post(&path, &tree.admin_a, &json!({})).await,
        StatusCode::CONFLICT,
        "not_retryable",
    )
    .await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("helpdesk_work_retried_total{kind=\"outbox\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn two_nodes_take_disjoint_rows_and_send_each_reply_once() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| relay_to(&sink, s)).await;
    let other = app.second_node().await;
    let tree = app.tree().await;
    let mut tickets = Vec::new();
    for n in 0..30 {
        let ticket = ticket_for(
            &app,
            &tree.agent_a,
            json!({"email": format!("s{n}@uni.example")}),
        )
        .await;
        tickets.push(ticket);
    }
    for (n, ticket) in tickets.iter().enumerate() {
        let node = if n % 2 == 0 { &app } else { &other };
        reply(node, &tree.agent_a, ticket, "The exam is back.").await;
    }
    for _ in 0..500 {
        if sink.mails().len() >= 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 30);
    let ids: HashSet<&str> = mails
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("Message-ID:")))
        .collect();
    assert_eq!(ids.len(), 30, "each row is sent once");
    let rows = outbox(&app, &tree.admin_a, "?status=sent&limit=100").await;
    assert_eq!(rows.len(), 30);
    assert!(rows.iter().all(|r| r["attempts"] == 1));
}

#[tokio::test]
async fn without_a_relay_replies_are_written_as_eml_files() {
    let app = spawn_app_with(|s| {
        s.delivery.from_address = "support@helpdesk.test".into();
        s.delivery.poll_millis = 20;
    })
    .await;
    let tree = app.tree().await;
    let ticket = ticket_for(&app, &tree.agent_a, json!({"email": "ana@uni.example"})).await;
    reply(&app, &tree.agent_a, &ticket, "Please restart the browser.").await;
    let sent = delivery_when(&app, &tree.agent_a, &ticket, |d| d["status"] == "sent").await;
    let dir = app.state.settings.delivery.resolved_mail_dir("");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let mail = std::fs::read_to_string(&files[0]).unwrap();
    assert!(mail.contains("To: ana@uni.example"), "{mail}");
    assert!(mail.contains("From: support@helpdesk.test"), "{mail}");
    assert!(mail.contains("Subject: [#1] Exam camera"), "{mail}");
    assert!(mail.contains("Please restart the browser."), "{mail}");
    assert_eq!(sent["attempts"], 1);
    // The file carries the Message-ID the outbox row records as the provider's id, which a
    // student's answer names in In-Reply-To.
    use sea_orm::EntityTrait;
    let rows = entity::outbox::Entity::find().all(&app.db).await.unwrap();
    let provider_id = rows[0].provider_message_id.clone().unwrap();
    assert!(
        mail.contains(&format!("Message-ID: {provider_id}")),
        "{provider_id} {mail}"
    );
}
