//! Tickets handed between tenants, and the line between a partner's support data and the
//! platform's.
use crate::attachments::{files_under, upload_text};
use crate::events::{next_event, subscribe};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tests::{PASSWORD, TestApp, assert_problem, body, spawn_app};

async fn new_ticket(app: &TestApp, token: &str, request: Value) -> Value {
    let response = app.post("/api/v1/tickets", token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{request}");
    body(response).await
}

fn student(subject: &str, tenant: impl std::fmt::Display) -> Value {
    json!({"subject": subject, "description": "The proctor froze my exam", "source": "whatsapp",
           "tenant_id": tenant.to_string(),
           "requester": {"whatsapp_id": "+34600111222", "name": "Lucía"}})
}

async fn ids(app: &TestApp, token: &str) -> Vec<String> {
    let page = body(app.get("/api/v1/tickets?limit=100", token).await).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn conversation(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/tickets/{id}/conversation"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await.as_array().unwrap().clone()
}

#[tokio::test]
async fn the_platform_sees_its_dedicated_clients_tickets_but_none_of_a_partners() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let partner_ticket = new_ticket(&app, &tree.agent_a, student("Frozen", tree.partner_a)).await;
    let client_ticket = new_ticket(&app, &tree.agent_a, student("Frozen", tree.client_a)).await;
    let dedicated_ticket = new_ticket(&app, &tree.root, student("Frozen", tree.dedicated)).await;

    let platform_sees = ids(&app, &tree.root).await;
    assert_eq!(
        platform_sees,
        vec![dedicated_ticket["id"].as_str().unwrap()]
    );
    for hidden in [&partner_ticket, &client_ticket] {
        let id = hidden["id"].as_str().unwrap();
        assert_problem(
            app.get(&format!("/api/v1/tickets/{id}"), &tree.root).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // The platform cannot file tickets into a partner's queue either.
    assert_problem(
        app.post("/api/v1/tickets", &tree.root, &student("x", tree.partner_a))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A partner works its own clients' tickets.
    let partner_sees = ids(&app, &tree.agent_a).await;
    assert_eq!(partner_sees.len(), 2);
    // Administration still reaches the whole tree: the platform manages the partner's users.
    let users = app.get("/api/v1/users?limit=100", &tree.root).await;
    let users = body(users).await;
    assert!(
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "agent@a.test")
    );
}

#[tokio::test]
async fn an_escalated_ticket_reaches_the_parent_and_its_answers_flow_back() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let origin = new_ticket(&app, &tree.agent_a, student("Frozen exam", tree.client_a)).await;
    let origin_id = origin["id"].as_str().unwrap().to_owned();
    let other = new_ticket(&app, &tree.agent_a, student("Other matter", tree.client_a)).await;
    app.post(
        &format!("/api/v1/tickets/{origin_id}/replies"),
        &tree.agent_a,
        &json!({"body": "We are looking into it"}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{origin_id}/notes"),
        &tree.agent_a,
        &json!({"body": "Internal: the partner's own remark"}),
    )
    .await;

    let escalated = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/escalate"),
            &tree.agent_a,
            &json!({"note": "Proctoring server logs needed", "priority": "high"}),
        )
        .await;
    assert_eq!(escalated.status(), StatusCode::OK);
    let escalated = body(escalated).await;
    let linked_id = escalated["linked_ticket_id"].as_str().unwrap().to_owned();
    assert_eq!(escalated["linked_tenant_id"], tree.platform.to_string());

    // The parent has it in its queue, with the public conversation and the note, not the
    // partner's private note.
    let queue = ids(&app, &tree.root).await;
    assert_eq!(queue, vec![linked_id.clone()]);
    let linked = body(
        app.get(&format!("/api/v1/tickets/{linked_id}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(linked["number"], 1);
    assert_eq!(linked["priority"], "high");
    assert_eq!(linked["link_kind"], "escalation");
    assert_eq!(linked["origin_ticket_id"], origin_id.as_str());
    let copied = conversation(&app, &tree.root, &linked_id).await;
    let texts: Vec<&str> = copied
        .iter()
        .map(|m| m["body_text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        vec!["We are looking into it", "Proctoring server logs needed"]
    );
    // The requester is the partner, not the student: no student identifiers cross over.
    let requester = linked["requester_id"].as_str().unwrap();
    let contact = body(
        app.get(&format!("/api/v1/contacts/{requester}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(contact["whatsapp_id"], Value::Null);
    // The parent cannot read the origin or the partner's other tickets.
    for id in [origin_id.as_str(), other["id"].as_str().unwrap()] {
        assert_problem(
            app.get(&format!("/api/v1/tickets/{id}"), &tree.root).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Nor can the partner read the parent's ticket.
    assert_problem(
        app.get(&format!("/api/v1/tickets/{linked_id}"), &tree.agent_a)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The parent's public reply and status flow back; its private note does not.
    app.post(
        &format!("/api/v1/tickets/{linked_id}/notes"),
        &tree.root,
        &json!({"body": "L3 internal"}),
    )
    .await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{linked_id}/replies"),
            &tree.root,
            &json!({"body": "Restart the exam from the link we sent"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let resolved = app
        .patch(
            &format!("/api/v1/tickets/{linked_id}"),
            &tree.root,
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::OK);

    app.settled().await;

    let back = conversation(&app, &tree.agent_a, &origin_id).await;
    let notes: Vec<&Value> = back.iter().filter(|m| m["kind"] == "note").collect();
    assert_eq!(notes.len(), 2, "{back:?}");
    let flowed = notes[1]["body_text"].as_str().unwrap();
    assert!(
        flowed.contains("Restart the exam from the link we sent"),
        "{flowed}"
    );
    assert!(!back.iter().any(|m| m["body_text"] == "L3 internal"));
    let origin_now = body(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(origin_now["status"], "resolved");
    assert!(origin_now["resolved_at"].is_string());
    let history = body(
        app.get(
            &format!("/api/v1/tickets/{origin_id}/activities"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    let fields: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"escalated") && fields.contains(&"linked_reply"),
        "{fields:?}"
    );

    // The answer on the linked ticket never went to a channel; the partner's own reply did.
    let outbox: Vec<(String,)> = sqlx_rows(
        &app,
        "SELECT CAST(ticket_id AS TEXT) FROM outbox ORDER BY created_at",
    )
    .await;
    assert_eq!(outbox.len(), 1);

    // A ticket is handed on once.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{origin_id}/escalate"),
            &tree.agent_a,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_linked",
    )
    .await;
}

async fn sqlx_rows(app: &TestApp, sql: &str) -> Vec<(String,)> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    app.db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.try_get_by_index::<String>(0).unwrap_or_default(),))
        .collect()
}

#[tokio::test]
async fn escalation_refuses_what_it_cannot_do() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let partner_b_ticket =
        new_ticket(&app, &tree.admin_b, student("B's matter", tree.partner_b)).await;
    let b_id = partner_b_ticket["id"].as_str().unwrap();
    // Another tenant's ticket and an unknown id are both 404.
    for id in [b_id, "0190a0b0-0000-7000-8000-000000000000", "not-a-uuid"] {
        assert_problem(
            app.post(
                &format!("/api/v1/tickets/{id}/escalate"),
                &tree.agent_a,
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Routing another tenant's ticket is a 404 as well, whatever the target.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{b_id}/route"),
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The platform has nobody above it.
    let own = new_ticket(&app, &tree.root, student("Platform's own", tree.platform)).await;
    let own_id = own["id"].as_str().unwrap();
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{own_id}/escalate"),
            &tree.root,
            &json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Client staff read tickets but do not hand them on.
    let client_ticket = new_ticket(&app, &tree.agent_a, student("c", tree.client_a)).await;
    let client_id = client_ticket["id"].as_str().unwrap();
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{client_id}/escalate"),
            &tree.client_admin_a,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    // Unknown fields and wrong types.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{client_id}/escalate"),
            &tree.agent_a,
            &json!({"note": 5, "priority": "whenever"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Nothing was half-written: no escalated ticket appeared in the platform's queue.
    assert_eq!(ids(&app, &tree.root).await, vec![own_id.to_owned()]);
}

#[tokio::test]
async fn a_content_question_routed_down_comes_back_with_the_clients_answer() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // The dedicated client's own agent.
    app.create_user(
        &tree.root,
        tree.dedicated,
        "organiser@dedicated.test",
        "agent",
    )
    .await;
    let organiser = app.login("organiser@dedicated.test", PASSWORD).await.access;
    let origin = new_ticket(
        &app,
        &tree.root,
        student("Question 7 is ambiguous", tree.platform),
    )
    .await;
    let origin_id = origin["id"].as_str().unwrap();

    // Only a client directly below the ticket's tenant can receive it.
    for target in [tree.partner_a, tree.client_a] {
        assert_problem(
            app.post(
                &format!("/api/v1/tickets/{origin_id}/route"),
                &tree.root,
                &json!({"tenant_id": target}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let routed = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/route"),
            &tree.root,
            &json!({"tenant_id": tree.dedicated, "note": "Is answer B also correct?"}),
        )
        .await;
    assert_eq!(routed.status(), StatusCode::OK);
    let linked_id = body(routed).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The organiser sees the routed ticket and nothing of the platform's.
    assert_eq!(ids(&app, &organiser).await, vec![linked_id.clone()]);
    assert_problem(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &organiser)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{linked_id}/replies"),
            &organiser,
            &json!({"body": "Yes, B counts as well"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    app.patch(
        &format!("/api/v1/tickets/{linked_id}"),
        &organiser,
        &json!({"status": "closed"}),
    )
    .await;
    app.settled().await;
    let back = conversation(&app, &tree.root, origin_id).await;
    assert!(back.iter().any(|m| {
        m["kind"] == "note"
            && m["body_text"]
                .as_str()
                .unwrap()
                .contains("B counts as well")
    }));
    let now = body(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(now["status"], "closed");
}

/// Hands `id` up to the caller's parent tenant; returns the linked ticket's id.
async fn escalate(app: &TestApp, token: &str, id: &str) -> String {
    let response = app
        .post(&format!("/api/v1/tickets/{id}/escalate"), token, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn download(app: &TestApp, token: &str, attachment: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/attachments/{attachment}/content"), token)
        .await
}

/// The attachments of the one message of `messages` whose text contains `text`.
fn files_of<'a>(messages: &'a [Value], text: &str) -> &'a Vec<Value> {
    let found: Vec<&Value> = messages
        .iter()
        .filter(|m| m["body_text"].as_str().unwrap().contains(text))
        .collect();
    assert_eq!(found.len(), 1, "one message with {text:?}: {messages:?}");
    found[0]["attachments"].as_array().unwrap()
}

#[tokio::test]
async fn files_of_the_conversation_travel_with_an_escalation_and_no_further() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let origin = new_ticket(&app, &tree.agent_a, student("Frozen exam", tree.client_a)).await;
    let origin_id = origin["id"].as_str().unwrap().to_owned();
    // The API takes files on agents' messages; the partner's public reply carries the
    // student's screenshot description, and a private note carries an internal log.
    let shown = upload_text(&app, &tree.agent_a, &origin_id, "proctor froze at 10:02").await;
    let internal = upload_text(&app, &tree.agent_a, &origin_id, "internal log").await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/replies"),
            &tree.agent_a,
            &json!({"body": "We are looking into it", "attachment_ids": [shown["id"]]}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let note = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/notes"),
            &tree.agent_a,
            &json!({"body": "Internal: see the log", "attachment_ids": [internal["id"]]}),
        )
        .await;
    assert_eq!(note.status(), StatusCode::CREATED);
    let linked_id = escalate(&app, &tree.agent_a, &origin_id).await;

    // The parent sees the file on the copied message, as a row of its own ticket.
    let copied = conversation(&app, &tree.root, &linked_id).await;
    let files = files_of(&copied, "We are looking into it");
    assert_eq!(files.len(), 1, "{copied:?}");
    let copy = &files[0];
    let copy_id = copy["id"].as_str().unwrap();
    assert_ne!(copy["id"], shown["id"]);
    assert_eq!(copy["tenant_id"], tree.platform.to_string());
    assert_eq!(copy["ticket_id"], linked_id.as_str());
    for field in ["file_name", "content_type", "size", "sha256"] {
        assert_eq!(copy[field], shown[field], "{field}");
    }
    // The private note and its file stayed behind.
    assert!(
        copied
            .iter()
            .all(|m| m["attachments"].as_array().unwrap().is_empty()
                || m["body_text"] == "We are looking into it")
    );
    let download_copy = download(&app, &tree.root, copy_id).await;
    assert_eq!(download_copy.status(), StatusCode::OK);
    assert_eq!(
        download_copy.bytes().await.unwrap().as_ref(),
        b"proctor froze at 10:02"
    );

    // Nobody else reaches the copy, and the parent does not reach the partner's rows.
    for token in [&tree.admin_b, &tree.agent_a] {
        assert_problem(
            download(&app, token, copy_id).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    for original in [&shown, &internal] {
        assert_problem(
            download(&app, &tree.root, original["id"].as_str().unwrap()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // The copy shares the stored bytes rather than duplicating them.
    assert_eq!(files_under(&app.attachments_dir()).len(), 2);
}

#[tokio::test]
async fn a_file_in_the_parents_answer_reaches_the_note_and_outlives_its_copy() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let origin = new_ticket(&app, &tree.agent_a, student("Frozen exam", tree.client_a)).await;
    let origin_id = origin["id"].as_str().unwrap().to_owned();
    let linked_id = escalate(&app, &tree.agent_a, &origin_id).await;

    let instructions = upload_text(&app, &tree.root, &linked_id, "restart link").await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{linked_id}/replies"),
            &tree.root,
            &json!({"body": "Restart the exam", "attachment_ids": [instructions["id"]]}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let reply = body(reply).await;
    assert_eq!(reply["attachments"][0]["id"], instructions["id"]);

    // The partner's note carries a copy of the file, which the partner's agent downloads.
    app.settled().await;
    let back = conversation(&app, &tree.agent_a, &origin_id).await;
    let files = files_of(&back, "Restart the exam");
    assert_eq!(files.len(), 1, "{back:?}");
    let copy_id = files[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(files[0]["id"], instructions["id"]);
    assert_eq!(files[0]["tenant_id"], tree.client_a.to_string());
    let fetched = download(&app, &tree.agent_a, &copy_id).await;
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"restart link");

    // A note's file: the partner may remove its copy; the parent's reply keeps the bytes.
    let removed = app
        .delete(&format!("/api/v1/attachments/{copy_id}"), &tree.agent_a)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_problem(
        download(&app, &tree.agent_a, &copy_id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let kept = download(&app, &tree.root, instructions["id"].as_str().unwrap()).await;
    assert_eq!(kept.status(), StatusCode::OK);
    assert_eq!(kept.bytes().await.unwrap().as_ref(), b"restart link");
    assert_eq!(files_under(&app.attachments_dir()).len(), 1);
}

#[tokio::test]
async fn a_file_may_come_back_to_the_tenant_it_came_from() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    app.create_user(&tree.root, tree.client_a, "agent@client-a.test", "agent")
        .await;
    let client_agent = app.login("agent@client-a.test", PASSWORD).await.access;
    let client_ticket =
        new_ticket(&app, &client_agent, student("Frozen exam", tree.client_a)).await;
    let client_id = client_ticket["id"].as_str().unwrap().to_owned();
    let shot = upload_text(&app, &client_agent, &client_id, "screen at 10:02").await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{client_id}/replies"),
            &client_agent,
            &json!({"body": "Sent to our partner", "attachment_ids": [shot["id"]]}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let partner_id = escalate(&app, &client_agent, &client_id).await;

    // The partner routes its copy back down to the same client (a question for its organisers):
    // the client now holds two rows for one stored file, the original and the routed copy.
    let routed = app
        .post(
            &format!("/api/v1/tickets/{partner_id}/route"),
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a}),
        )
        .await;
    assert_eq!(routed.status(), StatusCode::OK);
    let routed_id = body(routed).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let messages = conversation(&app, &client_agent, &routed_id).await;
    let files = files_of(&messages, "Sent to our partner");
    assert_eq!(files.len(), 1, "{messages:?}");
    assert_eq!(files[0]["tenant_id"], tree.client_a.to_string());
    assert_ne!(files[0]["id"], shot["id"]);
    let fetched = download(&app, &client_agent, files[0]["id"].as_str().unwrap()).await;
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"screen at 10:02");
}

#[tokio::test]
async fn a_status_climbs_every_level_of_a_chain() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // Client A's own agent works the student's ticket and escalates it to partner A, whose agent
    // escalates it on to the platform.
    app.create_user(&tree.root, tree.client_a, "agent@client-a.test", "agent")
        .await;
    let client_agent = app.login("agent@client-a.test", PASSWORD).await.access;
    let client_ticket =
        new_ticket(&app, &client_agent, student("Frozen exam", tree.client_a)).await;
    let client_id = client_ticket["id"].as_str().unwrap().to_owned();
    let partner_id = escalate(&app, &client_agent, &client_id).await;
    let platform_id = escalate(&app, &tree.agent_a, &partner_id).await;
    let partner_ticket = body(
        app.get(&format!("/api/v1/tickets/{partner_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(partner_ticket["linked_ticket_id"], platform_id.as_str());

    let resolved = app
        .patch(
            &format!("/api/v1/tickets/{platform_id}"),
            &tree.root,
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::OK);
    app.settled().await;

    for (token, id) in [(&tree.agent_a, &partner_id), (&client_agent, &client_id)] {
        let now = body(app.get(&format!("/api/v1/tickets/{id}"), token).await).await;
        assert_eq!(now["status"], "resolved", "{now}");
        assert!(now["resolved_at"].is_string(), "{now}");
        let history = body(
            app.get(&format!("/api/v1/tickets/{id}/activities"), token)
                .await,
        )
        .await;
        let statuses: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["field"] == "status")
            .collect();
        assert_eq!(statuses.len(), 1, "{history}");
        assert_eq!(statuses[0]["actor_type"], "linked_ticket");
        assert_eq!(statuses[0]["old_value"], "open");
        assert_eq!(statuses[0]["new_value"], "resolved");
    }
}

#[tokio::test]
async fn the_origins_subscribers_hear_what_flows_back() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let origin = new_ticket(&app, &tree.agent_a, student("Frozen exam", tree.client_a)).await;
    let origin_id = origin["id"].as_str().unwrap().to_owned();
    let linked_id = escalate(&app, &tree.agent_a, &origin_id).await;
    // Subscribed after the escalation, so the first event is what the parent's answer causes.
    let mut partner = subscribe(&app, &tree.agent_a).await;

    let reply = app
        .post(
            &format!("/api/v1/tickets/{linked_id}/replies"),
            &tree.root,
            &json!({"body": "Restart the exam"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let (kind, data) = next_event(&mut partner, Duration::from_secs(5))
        .await
        .expect("the partner hears of the note on its ticket");
    assert_eq!(kind, "ticket.note");
    assert_eq!(data["ticket_id"], origin_id.as_str());
    let now = body(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(data["version"], now["version"]);

    let resolved = app
        .patch(
            &format!("/api/v1/tickets/{linked_id}"),
            &tree.root,
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::OK);
    let (kind, data) = next_event(&mut partner, Duration::from_secs(5))
        .await
        .expect("the partner hears of the status on its ticket");
    assert_eq!(kind, "ticket.updated");
    assert_eq!(data["ticket_id"], origin_id.as_str());
    assert_eq!(data["version"], now["version"].as_i64().unwrap() + 1);
}
