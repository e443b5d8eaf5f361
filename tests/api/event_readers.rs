//! The durable readers of the ticket event log: one node at a time holds a reader, it stores
//! its position with what it did in one transaction, and a reader whose node dies midway is
//! resumed by another node from the last committed position, missing nothing and repeating
//! nothing. Flow-back (a linked ticket's replies reaching its origin) is such a reader.
use chrono::TimeDelta;
use entity::{ticket_event, ticket_message, work_lease};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use std::time::Duration;
use tests::{TestApp, body, spawn_app_with};
use uuid::Uuid;

const ANSWERS: usize = 5;

async fn flow_back_row(app: &TestApp) -> work_lease::Model {
    work_lease::Entity::find_by_id("flow_back")
        .one(&app.db)
        .await
        .unwrap()
        .expect("the flow-back reader's row")
}

/// The notes on `origin` that came back from its linked ticket, oldest first.
async fn flowed_notes(app: &TestApp, origin: Uuid) -> Vec<String> {
    ticket_message::Entity::find()
        .filter(ticket_message::Column::TicketId.eq(origin))
        .filter(ticket_message::Column::Kind.eq("note"))
        .order_by_asc(ticket_message::Column::CreatedAt)
        .order_by_asc(ticket_message::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body_text)
        .collect()
}

fn uuid(value: &Value) -> Uuid {
    value.as_str().unwrap().parse().unwrap()
}

/// Polls until `ready` holds, for at most ten seconds.
async fn until<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if ready().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test]
async fn a_reader_killed_midway_resumes_at_its_position_without_repeats() {
    // The first node writes the tickets but reads nothing of the log.
    let app = spawn_app_with(|s| s.events.consumers = false).await;
    let tree = app.tree().await;
    let origin = body(
        app.post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "subject": "Frozen exam",
                    "requester": {"email": "lucia@uni.example", "name": "Lucía"}}),
        )
        .await,
    )
    .await;
    let origin_id = uuid(&origin["id"]);
    let escalated = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/escalate"),
            &tree.agent_a,
            &json!({}),
        )
        .await;
    assert_eq!(escalated.status(), StatusCode::OK);
    let linked = uuid(&body(escalated).await["linked_ticket_id"]);
    for n in 1..=ANSWERS {
        let reply = app
            .post(
                &format!("/api/v1/tickets/{linked}/replies"),
                &tree.root,
                &json!({"body": format!("Answer {n}")}),
            )
            .await;
        assert_eq!(reply.status(), StatusCode::CREATED);
    }
    assert!(flowed_notes(&app, origin_id).await.is_empty());
    assert_eq!(flow_back_row(&app).await.position, 0);

    // The entries before the third answer's, which a reader taking one entry per batch commits
    // before it reaches that answer.
    let log = ticket_event::Entity::find()
        .order_by_asc(ticket_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let answers: Vec<&ticket_event::Model> = log
        .iter()
        .filter(|e| e.ticket_id == linked && e.kind == "message_added")
        .collect();
    assert_eq!(answers.len(), ANSWERS);
    let third = answers[2].seq;
    let before: Vec<i64> = log.iter().map(|e| e.seq).filter(|s| *s < third).collect();
    let last_committed = *before.last().unwrap();

    // A second node reads one entry at a time and dies while it handles the third answer:
    // after the note is written, before the commit.
    let dying = app
        .second_node_with(|s| {
            s.events.consumers = true;
            s.events.consumer_batch = 1;
            s.events.consumer_halt_after_batches = Some(u32::try_from(before.len()).unwrap());
        })
        .await;
    until("the dying reader's two answers", || async {
        flow_back_row(&app).await.position == last_committed
    })
    .await;
    // Give it time to handle the third answer and stop without committing.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let notes = flowed_notes(&app, origin_id).await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    let held = flow_back_row(&app).await;
    assert_eq!(held.position, last_committed);
    assert!(held.lease_until.unwrap() > dying.state.clock.now());

    // A third node does not take the reader while the dead node's lease lasts...
    let taking_over = app
        .second_node_with(|s| {
            s.events.consumers = true;
            s.events.consumer_halt_after_batches = None;
        })
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(flowed_notes(&app, origin_id).await.len(), 2);
    assert_eq!(flow_back_row(&app).await.lease_token, held.lease_token);

    // ...and once its clock is past the lease, resumes after the last committed entry.
    taking_over.state.clock.advance(TimeDelta::minutes(2));
    until("the reader's catching up", || async {
        let row = flow_back_row(&app).await;
        let head = api::events::log::head(&app.db).await.unwrap();
        row.position == head && row.lease_token != held.lease_token
    })
    .await;
    let notes = flowed_notes(&app, origin_id).await;
    assert_eq!(notes.len(), ANSWERS, "{notes:?}");
    for (n, note) in notes.iter().enumerate() {
        assert!(
            note.ends_with(&format!("Answer {}", n + 1)),
            "note {n}: {note}"
        );
    }
    // One `message_added` entry on the origin for each answer, none twice.
    let on_origin = ticket_event::Entity::find()
        .filter(ticket_event::Column::TicketId.eq(origin_id))
        .filter(ticket_event::Column::Kind.eq("message_added"))
        .filter(ticket_event::Column::ActorType.eq("linked_ticket"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(on_origin.len(), ANSWERS);

    // The taking-over node reports the reader's lag.
    let metrics = taking_over.metrics().await;
    assert!(
        metrics.contains("helpdesk_event_consumer_lag_entries{consumer=\"flow_back\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn each_status_of_a_linked_ticket_reaches_its_origin_in_order_through_the_reader() {
    let app = spawn_app_with(|_| {}).await;
    let tree = app.tree().await;
    let origin = body(
        app.post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "subject": "Proctor froze",
                    "requester": {"email": "ana@uni.example"}}),
        )
        .await,
    )
    .await;
    let origin_id = uuid(&origin["id"]);
    let linked = uuid(
        &body(
            app.post(
                &format!("/api/v1/tickets/{origin_id}/escalate"),
                &tree.agent_a,
                &json!({}),
            )
            .await,
        )
        .await["linked_ticket_id"],
    );
    for status in ["pending", "resolved"] {
        let changed = app
            .patch(
                &format!("/api/v1/tickets/{linked}"),
                &tree.root,
                &json!({"status": status}),
            )
            .await;
        assert_eq!(changed.status(), StatusCode::OK);
    }
    app.settled().await;
    let now = body(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(now["status"], "resolved");
    let changes: Vec<ticket_event::Model> = ticket_event::Entity::find()
        .filter(ticket_event::Column::TicketId.eq(origin_id))
        .filter(ticket_event::Column::Kind.eq("status_changed"))
        .order_by_asc(ticket_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let news: Vec<Value> = changes
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.data).unwrap()["new"].clone())
        .collect();
    assert_eq!(news, [json!("pending"), json!("resolved")]);
    assert!(changes.iter().all(|e| e.actor_type == "linked_ticket"));
}
