//! Bulk updates and mass replies: accepted as jobs, worked in the background, resumed after a
//! crash without replying twice.
use crate::events::{next_event, subscribe};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;
use tests::{TestApp, assert_problem, body, spawn_app, spawn_app_with};
use uuid::Uuid;

async fn new_ticket(app: &TestApp, token: &str, subject: &str, name: &str, tags: &[&str]) -> Value {
    let email = format!("{}@example.test", Uuid::new_v4().simple());
    let response = app
        .post(
            "/api/v1/tickets",
            token,
            &json!({"subject": subject, "source": "email", "tags": tags,
                    "requester": {"email": email, "name": name}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body(response).await
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn uuid(value: &Value) -> Uuid {
    value["id"].as_str().unwrap().parse().unwrap()
}

/// Posts a bulk request, expecting `202`; returns the job id.
async fn accepted(app: &TestApp, token: &str, request: &Value) -> String {
    let response = app.post("/api/v1/tickets/bulk", token, request).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{request}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let job = body(response).await;
    let job_id = job["job_id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/jobs/{job_id}"));
    assert_eq!(job["status"], "queued");
    job_id
}

/// Polls the job until `done(job)` holds (the runner works in the background).
async fn wait_for(
    app: &TestApp,
    token: &str,
    job_id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..1200 {
        let response = app.get(&format!("/api/v1/jobs/{job_id}"), token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let job = body(response).await;
        if done(&job) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job_id} did not get there");
}

async fn finished(app: &TestApp, token: &str, job_id: &str) -> Value {
    wait_for(app, token, job_id, |job| {
        job["status"] == "completed" || job["status"] == "failed"
    })
    .await
}

async fn replies(app: &TestApp, ticket: Uuid) -> Vec<entity::ticket_message::Model> {
    entity::ticket_message::Entity::find()
        .filter(entity::ticket_message::Column::TicketId.eq(ticket))
        .filter(entity::ticket_message::Column::Kind.eq("reply"))
        .all(&app.db)
        .await
        .unwrap()
}

async fn outbox(app: &TestApp, ticket: Uuid) -> Vec<entity::outbox::Model> {
    entity::outbox::Entity::find()
        .filter(entity::outbox::Column::TicketId.eq(ticket))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn bulk_changes_by_ids_apply_to_every_ticket_with_history() {
    let app = spawn_app().await;
    let root = app.root().await;
    let a = new_ticket(&app, &root, "Exam froze", "Ana", &["exam"]).await;
    let b = new_ticket(&app, &root, "Cannot log in", "Ben", &[]).await;
    let job_id = accepted(
        &app,
        &root,
        &json!({"ticket_ids": [id(&a), id(&b)],
                "changes": {"status": "pending", "priority": "high", "add_tags": ["bulk"]}}),
    )
    .await;
    let job = finished(&app, &root, &job_id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["total"], 2);
    assert_eq!(job["processed"], 2);
    assert_eq!(job["succeeded"], 2);
    assert_eq!(job["failed"], 0);
    assert!(job["started_at"].is_string() && job["finished_at"].is_string());
    for (ticket, tags) in [(&a, json!(["exam", "bulk"])), (&b, json!(["bulk"]))] {
        let now = body(
            app.get(&format!("/api/v1/tickets/{}", id(ticket)), &root)
                .await,
        )
        .await;
        assert_eq!(now["status"], "pending");
        assert_eq!(now["priority"], "high");
        assert_eq!(now["tags"], tags);
        let history = body(
            app.get(&format!("/api/v1/tickets/{}/activities", id(ticket)), &root)
                .await,
        )
        .await;
        let status = history
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["field"] == "status")
            .expect("status change recorded");
        assert_eq!(status["old_value"], "open");
        assert_eq!(status["new_value"], "pending");
        assert_eq!(status["actor_type"], "user");
    }
    // Running the same changes again changes nothing more (an update is idempotent).
    let again = accepted(
        &app,
        &root,
        &json!({"ticket_ids": [id(&a)], "changes": {"status": "pending", "add_tags": ["bulk"]}}),
    )
    .await;
    assert_eq!(finished(&app, &root, &again).await["succeeded"], 1);
    let now = body(app.get(&format!("/api/v1/tickets/{}", id(&a)), &root).await).await;
    assert_eq!(now["tags"], json!(["exam", "bulk"]));
}

#[tokio::test]
async fn bulk_changes_by_filter_touch_only_matching_tickets() {
    let app = spawn_app().await;
    let root = app.root().await;
    let a = new_ticket(&app, &root, "Exam froze", "Ana", &["exam"]).await;
    let b = new_ticket(&app, &root, "Exam again", "Ben", &["exam"]).await;
    let other = new_ticket(&app, &root, "Invoice", "Cy", &["billing"]).await;
    let job_id = accepted(
        &app,
        &root,
        &json!({"filter": {"tag": "exam"}, "changes": {"priority": "urgent", "remove_tags": ["exam"], "add_tags": ["proctoring"]}}),
    )
    .await;
    let job = finished(&app, &root, &job_id).await;
    assert_eq!(job["total"], 2);
    assert_eq!(job["succeeded"], 2);
    for ticket in [&a, &b] {
        let now = body(
            app.get(&format!("/api/v1/tickets/{}", id(ticket)), &root)
                .await,
        )
        .await;
        assert_eq!(now["priority"], "urgent");
        assert_eq!(now["tags"], json!(["proctoring"]));
    }
    let untouched = body(
        app.get(&format!("/api/v1/tickets/{}", id(&other)), &root)
            .await,
    )
    .await;
    assert_eq!(untouched["priority"], "medium");
    assert_eq!(untouched["version"], other["version"]);
}

#[tokio::test]
async fn a_mass_reply_is_rendered_for_each_requester_and_queued_in_the_outbox() {
    let app = spawn_app().await;
    let root = app.root().await;
    let a = new_ticket(&app, &root, "Exam froze", "Lucía", &[]).await;
    let b = new_ticket(&app, &root, "Cannot log in", "Ben <b>", &[]).await;
    let job_id = accepted(
        &app,
        &root,
        &json!({"ticket_ids": [id(&a), id(&b)],
                "reply": {"body": "Hello {{ requester.name }}, about #{{ticket.number}} ({{ticket.subject}}): fixed."}}),
    )
    .await;
    let job = finished(&app, &root, &job_id).await;
    assert_eq!(job["succeeded"], 2, "{job}");
    for (ticket, name) in [(&a, "Lucía"), (&b, "Ben <b>")] {
        let sent = replies(&app, uuid(ticket)).await;
        assert_eq!(sent.len(), 1);
        let expected = format!(
            "Hello {name}, about #{} ({}): fixed.",
            ticket["number"],
            ticket["subject"].as_str().unwrap()
        );
        assert_eq!(sent[0].body_text, expected);
        assert!(!sent[0].body_html.contains("<b>"), "{}", sent[0].body_html);
        let queued = outbox(&app, uuid(ticket)).await;
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].message_id, Some(sent[0].id));
        assert_eq!(queued[0].channel, "email");
        // Queued for the worker, which without a relay writes it into the test's mail folder.
        assert!(
            matches!(queued[0].status.as_str(), "queued" | "sending" | "sent"),
            "{:?}",
            queued[0]
        );
        let now = body(
            app.get(&format!("/api/v1/tickets/{}", id(ticket)), &root)
                .await,
        )
        .await;
        assert!(now["first_responded_at"].is_string());
        assert_eq!(now["version"], ticket["version"].as_i64().unwrap() + 1);
        let history = body(
            app.get(&format!("/api/v1/tickets/{}/activities", id(ticket)), &root)
                .await,
        )
        .await;
        assert!(history.as_array().unwrap().iter().any(
            |a| a["field"] == "reply" && a["new_value"]["message_id"] == sent[0].id.to_string()
        ));
    }
    // A private note goes to nobody.
    let note = accepted(
        &app,
        &root,
        &json!({"ticket_ids": [id(&a)], "reply": {"body": "Checked with the proctor", "note": true}}),
    )
    .await;
    assert_eq!(finished(&app, &root, &note).await["succeeded"], 1);
    assert_eq!(outbox(&app, uuid(&a)).await.len(), 1);
}

#[tokio::test]
async fn merged_unknown_and_foreign_tickets_are_reported_per_ticket() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let primary = new_ticket(&app, &tree.agent_a, "Exam froze", "Ana", &[]).await;
    let secondary = new_ticket(&app, &tree.agent_a, "Exam froze too", "Ana", &[]).await;
    let merged = app
        .post(
            &format!("/api/v1/tickets/{}/merge", id(&primary)),
            &tree.agent_a,
            &json!({"secondary_ids": [id(&secondary)]}),
        )
        .await;
    assert_eq!(merged.status(), StatusCode::OK);
    let foreign = new_ticket(&app, &tree.admin_b, "Theirs", "Zoe", &[]).await;
    let unknown = Uuid::now_v7().to_string();
    let job_id = accepted(
        &app,
        &tree.agent_a,
        &json!({"ticket_ids": [id(&primary), id(&secondary), id(&foreign), unknown],
                "changes": {"priority": "high"},
                "reply": {"body": "We are on it, {{requester.name}}."}}),
    )
    .await;
    let job = finished(&app, &tree.agent_a, &job_id).await;
    assert_eq!(job["status"], "completed");
    assert_eq!(job["total"], 4);
    assert_eq!(job["processed"], 4);
    assert_eq!(job["succeeded"], 1);
    assert_eq!(job["failed"], 3);
    let failures: Vec<(String, String)> = job["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["ticket_id"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            (id(&secondary), "ticket_merged".to_owned()),
            (id(&foreign), "not_found".to_owned()),
            (unknown, "not_found".to_owned()),
        ]
    );
    assert_eq!(replies(&app, uuid(&primary)).await.len(), 1);
    // Nothing reached the other tenant's ticket.
    assert!(replies(&app, uuid(&foreign)).await.is_empty());
    assert!(outbox(&app, uuid(&foreign)).await.is_empty());
    let theirs = body(
        app.get(&format!("/api/v1/tickets/{}", id(&foreign)), &tree.admin_b)
            .await,
    )
    .await;
    assert_eq!(theirs["priority"], "medium");
    assert_eq!(theirs["version"], foreign["version"]);
}

#[tokio::test]
async fn another_tenants_job_is_not_found() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, "Exam froze", "Ana", &[]).await;
    let job_id = accepted(
        &app,
        &tree.agent_a,
        &json!({"ticket_ids": [id(&ticket)], "changes": {"priority": "low"}}),
    )
    .await;
    finished(&app, &tree.admin_a, &job_id).await;
    assert_problem(
        app.get(&format!("/api/v1/jobs/{job_id}"), &tree.admin_b)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/jobs/{}", Uuid::now_v7()), &tree.admin_a)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Nor can the other tenant name this tenant's tickets in a job of its own.
    let theirs = accepted(
        &app,
        &tree.admin_b,
        &json!({"ticket_ids": [id(&ticket)], "changes": {"priority": "urgent"}}),
    )
    .await;
    let job = finished(&app, &tree.admin_b, &theirs).await;
    assert_eq!(job["failures"][0]["code"], "not_found");
    let now = body(
        app.get(&format!("/api/v1/tickets/{}", id(&ticket)), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(now["priority"], "low");
}

#[tokio::test]
async fn a_retried_bulk_request_with_the_same_idempotency_key_returns_the_same_job() {
    let app = spawn_app().await;
    let root = app.root().await;
    let ticket = new_ticket(&app, &root, "Exam froze", "Ana", &[]).await;
    let request =
        json!({"ticket_ids": [id(&ticket)], "reply": {"body": "Fixed, {{requester.name}}."}});
    let mut jobs = Vec::new();
    for _ in 0..2 {
        let response = app
            .request(reqwest::Method::POST, "/api/v1/tickets/bulk", Some(&root))
            .header("Idempotency-Key", "mass-reply-1")
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        jobs.push(body(response).await["job_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(jobs[0], jobs[1]);
    finished(&app, &root, &jobs[0]).await;
    assert_eq!(entity::job::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(replies(&app, uuid(&ticket)).await.len(), 1);
}

#[tokio::test]
async fn bad_bulk_requests_are_refused_before_any_job_exists() {
    let app = spawn_app_with(|s| s.jobs.max_tickets = 3).await;
    let root = app.root().await;
    let mut tickets = Vec::new();
    for n in 0..4 {
        tickets.push(id(&new_ticket(
            &app,
            &root,
            &format!("T{n}"),
            "Ana",
            &["many"],
        )
        .await));
    }
    let reply = json!({"body": "Hello"});
    let refused = |request: Value| {
        let app = &app;
        let root = root.clone();
        async move { app.post("/api/v1/tickets/bulk", &root, &request).await }
    };
    let problem = assert_problem(
        refused(json!({"ticket_ids": tickets, "reply": reply})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_tickets",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "ticket_ids");
    let problem = assert_problem(
        refused(json!({"filter": {"tag": "many"}, "reply": reply})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_tickets",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "filter");
    for (request, field) in [
        (json!({"ticket_ids": [tickets[0]]}), "changes"),
        (json!({"reply": reply}), "ticket_ids"),
        (json!({"ticket_ids": [], "reply": reply}), "ticket_ids"),
        (
            json!({"ticket_ids": [tickets[0]], "filter": {}, "reply": reply}),
            "ticket_ids",
        ),
        (
            json!({"filter": {"tag": "nothing-has-this"}, "reply": reply}),
            "filter",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "reply": {"body": "Hi {{requester.shoe_size}}"}}),
            "reply.body",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "reply": {"body": "Hi {{requester.name"}}),
            "reply.body",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "reply": {"body": "  "}}),
            "reply.body",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {}}),
            "changes",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {"tags": ["a"], "add_tags": ["b"]}}),
            "changes.tags",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {"add_tags": ["a,b"]}}),
            "changes.add_tags",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {"group_id": Uuid::now_v7()}}),
            "changes.group_id",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {"assignee_id": Uuid::now_v7()}}),
            "changes.assignee_id",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {"status": "exploded"}}),
            "body",
        ),
        (
            json!({"ticket_ids": [tickets[0]], "changes": {"colour": "red"}}),
            "body",
        ),
    ] {
        let problem = assert_problem(
            refused(request.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{request}: {problem}");
    }
    let malformed = app
        .request(reqwest::Method::POST, "/api/v1/tickets/bulk", Some(&root))
        .header("content-type", "application/json")
        .body("{\"ticket_ids\": [")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert_eq!(entity::job::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn client_staff_cannot_send_mass_replies() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, "Exam froze", "Ana", &[]).await;
    let response = app
        .post(
            "/api/v1/tickets/bulk",
            &tree.client_admin_a,
            &json!({"ticket_ids": [id(&ticket)], "reply": {"body": "Hi"}}),
        )
        .await;
    assert_problem(response, StatusCode::FORBIDDEN, "insufficient_scope").await;
    assert!(replies(&app, uuid(&ticket)).await.is_empty());
}

/// A node that works `chunk_size` items at a time and "dies" (stops its runner, holding the
/// lease) after `halt_after` chunks; leases last one second.
async fn dying_node(chunk_size: u64, halt_after: u32) -> TestApp {
    spawn_app_with(|s| {
        s.jobs.chunk_size = chunk_size;
        s.jobs.halt_after_chunks = Some(halt_after);
        s.jobs.lease_secs = 1;
        s.jobs.poll_secs = 1;
    })
    .await
}

/// A second node on the same database that picks up a dead node's job once its lease runs out.
async fn taking_over(app: &TestApp) -> TestApp {
    app.second_node_with(|s| {
        s.jobs.halt_after_chunks = None;
        s.jobs.lease_secs = 30;
    })
    .await
}

#[tokio::test]
async fn a_job_whose_node_dies_midway_resumes_on_another_node_without_replying_twice() {
    let app = dying_node(5, 2).await;
    let root = app.root().await;
    let mut tickets = Vec::new();
    for n in 0..20 {
        tickets.push(
            new_ticket(
                &app,
                &root,
                &format!("Exam {n}"),
                &format!("Student {n}"),
                &[],
            )
            .await,
        );
    }
    let ids: Vec<String> = tickets.iter().map(id).collect();
    let job_id = accepted(
        &app,
        &root,
        &json!({"ticket_ids": ids, "reply": {"body": "Your exam is reset, {{requester.name}}."}}),
    )
    .await;
    // The first node works two chunks and "dies", holding its lease.
    let halted = wait_for(&app, &root, &job_id, |job| {
        job["processed"].as_i64() >= Some(10)
    })
    .await;
    assert_eq!(halted["status"], "running");
    assert_eq!(halted["processed"], 10);
    assert_eq!(
        entity::outbox::Entity::find().count(&app.db).await.unwrap(),
        10
    );

    // Another node picks the job up once the lease has run out.
    let second = taking_over(&app).await;
    let job = finished(&second, &root, &job_id).await;
    assert_eq!(job["status"], "completed");
    assert_eq!(job["processed"], 20);
    assert_eq!(job["succeeded"], 20);
    assert_eq!(job["failed"], 0);
    let mut messages = HashSet::new();
    for (n, ticket) in tickets.iter().enumerate() {
        let sent = replies(&app, uuid(ticket)).await;
        assert_eq!(sent.len(), 1, "ticket {n}");
        assert_eq!(
            sent[0].body_text,
            format!("Your exam is reset, Student {n}.")
        );
        let queued = outbox(&app, uuid(ticket)).await;
        assert_eq!(queued.len(), 1, "ticket {n}");
        assert_eq!(queued[0].message_id, Some(sent[0].id));
        messages.insert(sent[0].id);
    }
    assert_eq!(
        entity::outbox::Entity::find().count(&app.db).await.unwrap(),
        20
    );
    let items = entity::job_item::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(items.len(), 20);
    assert!(items.iter().all(
        |item| item.status == "done" && item.message_id.is_some_and(|m| messages.contains(&m))
    ));
}

#[tokio::test]
async fn a_mass_reply_to_an_escalated_ticket_flows_back_instead_of_leaving_through_a_channel() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let origin = new_ticket(&app, &tree.agent_a, "Proctor froze", "Ana", &[]).await;
    let escalated = app
        .post(
            &format!("/api/v1/tickets/{}/escalate", id(&origin)),
            &tree.agent_a,
            &json!({"note": "Need server logs"}),
        )
        .await;
    assert_eq!(escalated.status(), StatusCode::OK);
    let linked: Uuid = body(escalated).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let own = new_ticket(&app, &tree.root, "Platform's own", "Pat", &[]).await;
    let mut partner = subscribe(&app, &tree.agent_a).await;
    let job_id = accepted(
        &app,
        &tree.root,
        &json!({"ticket_ids": [linked, uuid(&own)], "changes": {"status": "pending"},
                "reply": {"body": "Logs attached for #{{ticket.number}}."}}),
    )
    .await;
    assert_eq!(finished(&app, &tree.root, &job_id).await["succeeded"], 2);
    // The partner's agents hear of both the status and the note that reached their ticket.
    let mut heard = Vec::new();
    for _ in 0..2 {
        let (kind, data) = next_event(&mut partner, Duration::from_secs(5))
            .await
            .expect("the partner hears what the job did to its ticket");
        assert_eq!(data["ticket_id"], id(&origin));
        heard.push(kind);
    }
    heard.sort();
    assert_eq!(heard, ["ticket.note", "ticket.updated"]);
    let origin_now = body(
        app.get(&format!("/api/v1/tickets/{}", id(&origin)), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(origin_now["status"], "pending");
    assert_eq!(replies(&app, linked).await.len(), 1);
    assert!(outbox(&app, linked).await.is_empty());
    assert_eq!(outbox(&app, uuid(&own)).await.len(), 1);
    // The partner's ticket got the answer as a note, and nothing went to its requester yet.
    let notes = entity::ticket_message::Entity::find()
        .filter(entity::ticket_message::Column::TicketId.eq(uuid(&origin)))
        .filter(entity::ticket_message::Column::Kind.eq("note"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(notes.iter().any(|n| n.body_text.contains("Logs attached")));
    assert!(outbox(&app, uuid(&origin)).await.is_empty());
}

#[tokio::test]
async fn an_api_key_job_acts_as_the_key_within_its_tenant() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (key_id, secret) = app
        .create_api_key(
            &tree.admin_a,
            tree.partner_a,
            &["tickets:read", "tickets:write"],
        )
        .await;
    let mine = new_ticket(&app, &tree.agent_a, "Exam froze", "Ana", &[]).await;
    let theirs = new_ticket(&app, &tree.admin_b, "Theirs", "Zoe", &[]).await;
    let job_id = accepted(
        &app,
        &secret,
        &json!({"ticket_ids": [id(&mine), id(&theirs)], "changes": {"status": "resolved"},
                "reply": {"body": "Solved, {{requester.name}}."}}),
    )
    .await;
    let job = finished(&app, &secret, &job_id).await;
    assert_eq!(job["succeeded"], 1, "{job}");
    assert_eq!(job["failures"][0]["code"], "not_found");
    let sent = replies(&app, uuid(&mine)).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].author_user_id, None);
    let history = body(
        app.get(
            &format!("/api/v1/tickets/{}/activities", id(&mine)),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    for field in ["status", "reply"] {
        let entry = history
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["field"] == field)
            .unwrap();
        assert_eq!(entry["actor_type"], "api_key");
        assert_eq!(entry["actor_id"], key_id.to_string());
    }
    let untouched = body(
        app.get(&format!("/api/v1/tickets/{}", id(&theirs)), &tree.admin_b)
            .await,
    )
    .await;
    assert_eq!(untouched["status"], "open");
    assert!(replies(&app, uuid(&theirs)).await.is_empty());
}

#[tokio::test]
async fn a_job_whose_creator_is_deactivated_midway_stops_with_actor_revoked() {
    let app = dying_node(2, 1).await;
    let tree = app.tree().await;
    let mut tickets = Vec::new();
    for n in 0..6 {
        tickets.push(
            new_ticket(
                &app,
                &tree.agent_a,
                "Exam froze",
                &format!("Student {n}"),
                &[],
            )
            .await,
        );
    }
    let ids: Vec<String> = tickets.iter().map(id).collect();
    let job_id = accepted(
        &app,
        &tree.agent_a,
        &json!({"ticket_ids": ids, "reply": {"body": "We are on it, {{requester.name}}."}}),
    )
    .await;
    // The first node sends one chunk and stops; then the agent who started the job leaves.
    wait_for(&app, &tree.admin_a, &job_id, |job| {
        job["processed"].as_i64() >= Some(2)
    })
    .await;
    let agent = body(app.get("/api/v1/me", &tree.agent_a).await).await;
    assert_eq!(
        app.delete(
            &format!("/api/v1/users/{}", agent["user_id"].as_str().unwrap()),
            &tree.admin_a
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    // The node that picks the job up may no longer act for that agent: nothing more is sent.
    let second = taking_over(&app).await;
    let job = finished(&second, &tree.admin_a, &job_id).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["processed"], 6);
    assert_eq!(job["succeeded"], 2);
    assert_eq!(job["failed"], 4);
    let failures = job["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 4);
    assert!(
        failures.iter().all(|f| f["code"] == "actor_revoked"),
        "{job}"
    );
    let mut sent = 0;
    for ticket in &tickets {
        sent += replies(&app, uuid(ticket)).await.len();
    }
    assert_eq!(sent, 2);
    assert_eq!(
        entity::outbox::Entity::find().count(&app.db).await.unwrap(),
        2
    );
}

#[tokio::test]
async fn a_mass_reply_by_tag_answers_only_tickets_with_exactly_that_tag() {
    let app = spawn_app().await;
    let root = app.root().await;
    let underscore = new_ticket(&app, &root, "Exam froze", "Ana", &["exam_2026"]).await;
    let dash = new_ticket(&app, &root, "Exam slow", "Ben", &["exam-2026"]).await;
    let job_id = accepted(
        &app,
        &root,
        &json!({"filter": {"tag": "exam_2026"}, "reply": {"body": "<p>Fixed.</p>"}}),
    )
    .await;
    let job = finished(&app, &root, &job_id).await;
    assert_eq!(job["total"], 1, "{job}");
    assert_eq!(replies(&app, uuid(&underscore)).await.len(), 1);
    assert!(
        replies(&app, uuid(&dash)).await.is_empty(),
        "exam-2026 was not asked for"
    );
    // A filter that is a pattern matches nothing rather than everything.
    let response = app
        .post(
            "/api/v1/tickets/bulk",
            &root,
            &json!({"filter": {"tag": "%"}, "reply": {"body": "Hello"}}),
        )
        .await;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(replies(&app, uuid(&dash)).await.is_empty());
}

/// `n` tickets of the agent's tenant, each from its own requester `Student {i}`.
async fn tickets_of(app: &TestApp, token: &str, n: usize) -> Vec<Value> {
    let mut tickets = Vec::with_capacity(n);
    for i in 0..n {
        tickets.push(
            new_ticket(
                app,
                token,
                &format!("Exam {i}"),
                &format!("Student {i}"),
                &[],
            )
            .await,
        );
    }
    tickets
}

/// Each ticket got exactly one reply, and the job's items are all `done` with distinct replies.
async fn replied_once(app: &TestApp, tickets: &[Value]) {
    let mut messages = HashSet::new();
    for (n, ticket) in tickets.iter().enumerate() {
        let sent = replies(app, uuid(ticket)).await;
        assert_eq!(sent.len(), 1, "ticket {n}");
        assert_eq!(outbox(app, uuid(ticket)).await.len(), 1, "ticket {n}");
        messages.insert(sent[0].id);
    }
    let items = entity::job_item::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(items.len(), tickets.len());
    assert!(items.iter().all(
        |item| item.status == "done" && item.message_id.is_some_and(|m| messages.contains(&m))
    ));
}

#[tokio::test]
async fn a_failing_job_backs_off_on_the_clock_goes_dead_and_an_admin_retries_it() {
    let app = spawn_app_with(|s| {
        s.jobs.chunk_size = 2;
        s.jobs.poll_secs = 1;
        s.jobs.fail_chunks = Some(3);
        s.jobs.max_attempts = 3;
        s.jobs.base_backoff_secs = 60;
        s.jobs.max_backoff_secs = 60;
    })
    .await;
    let tree = app.tree().await;
    let tickets = tickets_of(&app, &tree.agent_a, 5).await;
    let ids: Vec<String> = tickets.iter().map(id).collect();
    let job_id = accepted(
        &app,
        &tree.agent_a,
        &json!({"ticket_ids": ids, "reply": {"body": "Your exam is reset, {{requester.name}}."}}),
    )
    .await;
    let first = wait_for(&app, &tree.agent_a, &job_id, |job| job["attempts"] == 1).await;
    assert_eq!(first["status"], "queued", "{first}");
    assert_eq!(first["processed"], 0, "the failed chunk was rolled back");
    // The cause of an internal error stays in the server's log, as a 500's would.
    assert_eq!(
        first["last_error"], "internal error in attempt 1; the cause is in the server log",
        "{first}"
    );
    // The next attempt waits for the back-off: a woken runner does nothing until the clock
    // moves past it.
    app.state.job_wakeup.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = body(
        app.get(&format!("/api/v1/jobs/{job_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(waiting["attempts"], 1, "{waiting}");
    for attempts in 2..=3 {
        app.state.clock.advance(chrono::TimeDelta::seconds(61));
        app.state.job_wakeup.notify_one();
        wait_for(&app, &tree.agent_a, &job_id, |job| {
            job["attempts"] == attempts
        })
        .await;
    }
    let dead = wait_for(&app, &tree.agent_a, &job_id, |job| job["status"] == "dead").await;
    assert_eq!(dead["attempts"], 3);
    assert_eq!(dead["processed"], 0);
    assert!(dead["finished_at"].is_null());
    assert_eq!(
        dead["last_error"], "internal error in attempt 3; the cause is in the server log",
        "{dead}"
    );
    let pending = entity::job_item::Entity::find()
        .filter(entity::job_item::Column::Status.eq("pending"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(pending, 5, "a dead job keeps its remaining items");
    for ticket in &tickets {
        assert!(replies(&app, uuid(ticket)).await.is_empty());
    }
    // A dead job stays dead, however long one waits.
    app.state.clock.advance(chrono::TimeDelta::seconds(600));
    app.state.job_wakeup.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still = body(
        app.get(&format!("/api/v1/jobs/{job_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(still["status"], "dead");

    // Only an admin of the job's tenant may retry it.
    let path = format!("/api/v1/jobs/{job_id}/retry");
    let refused = app.post(&path, &tree.agent_a, &json!({})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_problem(
        app.post(&path, &tree.admin_b, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/jobs/{}/retry", Uuid::now_v7()),
            &tree.admin_a,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let retried = app.post(&path, &tree.admin_a, &json!({})).await;
    assert_eq!(retried.status(), StatusCode::OK);
    let retried = body(retried).await;
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["attempts"], 0);
    assert!(
        retried["last_error"].is_string(),
        "kept until the job completes"
    );
    let job = finished(&app, &tree.agent_a, &job_id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["succeeded"], 5);
    assert_eq!(job["attempts"], 0);
    assert!(job["last_error"].is_null(), "{job}");
    replied_once(&app, &tickets).await;
    // A job that is not dead is not retried.
    assert_problem(
        app.post(&path, &tree.admin_a, &json!({})).await,
        StatusCode::CONFLICT,
        "not_retryable",
    )
    .await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("helpdesk_work_retried_total{kind=\"jobs\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_dead_job_shows_in_the_gauges() {
    let app = spawn_app_with(|s| {
        s.jobs.fail_chunks = Some(1);
        s.jobs.max_attempts = 1;
    })
    .await;
    let root = app.root().await;
    let ticket = new_ticket(&app, &root, "Exam froze", "Ana", &[]).await;
    let job_id = accepted(
        &app,
        &root,
        &json!({"ticket_ids": [id(&ticket)], "reply": {"body": "Hello"}}),
    )
    .await;
    wait_for(&app, &root, &job_id, |job| job["status"] == "dead").await;
    for _ in 0..100 {
        if app
            .metrics()
            .await
            .contains("helpdesk_work_dead{kind=\"jobs\"} 1")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no dead job in the gauges: {}", app.metrics().await);
}

#[tokio::test]
async fn two_live_nodes_racing_for_one_job_never_work_the_same_chunk() {
    let app = spawn_app_with(|s| {
        s.jobs.chunk_size = 1;
        s.jobs.lease_secs = 1;
        s.jobs.poll_secs = 1;
    })
    .await;
    let other = app.second_node().await;
    let root = app.root().await;
    let tickets = tickets_of(&app, &root, 60).await;
    let ids: Vec<String> = tickets.iter().map(id).collect();
    // A long body, so that a chunk spends a while rendering before it writes.
    let body = format!(
        "<p>Your exam is reset, {{{{requester.name}}}}.</p>{}",
        "<p>Open the <b>exam portal</b>, sign in again and resume where you left off.</p>"
            .repeat(40)
    );
    let job_id: Uuid = accepted(
        &app,
        &root,
        &json!({"ticket_ids": ids, "reply": {"body": body}}),
    )
    .await
    .parse()
    .unwrap();
    // Whenever the job made progress, the clock of the node that is behind jumps two seconds
    // ahead of the other's: every lease the other node writes (one second from its own time)
    // has then run out for it. Woken, it takes the job if it was idle, often in the middle of
    // the other node's chunk, whose commit the token then refuses; if it was the one working,
    // the other node jumps ahead next time.
    let nodes = [&app, &other];
    let mut moved = [0_i64; 2];
    let mut holders = HashSet::new();
    let mut seen = -1;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let job = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the job did not finish"
        );
        let row = entity::job::Entity::find_by_id(job_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        holders.extend(row.lease_token);
        if !matches!(row.status.as_str(), "queued" | "running") {
            break row;
        }
        if row.processed > seen {
            seen = row.processed;
            let behind = usize::from(moved[1] < moved[0]);
            let by = moved[1 - behind] + 2 - moved[behind];
            moved[behind] += by;
            nodes[behind]
                .state
                .clock
                .advance(chrono::TimeDelta::seconds(by));
            nodes[behind].state.job_wakeup.notify_one();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(job.status, "completed", "{job:?}");
    assert_eq!(job.processed, 60);
    assert_eq!(job.succeeded, 60);
    assert!(
        holders.len() >= 3,
        "the job changed hands again and again: {holders:?}"
    );
    replied_once(&app, &tickets).await;
    assert_eq!(
        entity::outbox::Entity::find().count(&app.db).await.unwrap(),
        60
    );
}
