//! The ticket event log: every change of a ticket is written once, by the tickets' one write
//! path, as history and as log entries in the same transaction; the streams follow the log.
use crate::events::{next_event, subscribe};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tests::{TestApp, Tree, assert_problem, body, spawn_app};

async fn events_of(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/tickets/{id}/events"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await.as_array().unwrap().clone()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// A group of `tenant` that assigns round robin, with one member: the user behind `member`.
async fn round_robin_group(app: &TestApp, admin: &str, member: &str) -> (String, String) {
    let group = app
        .post(
            "/api/v1/groups",
            admin,
            &json!({"name": "Intake", "kind": "l1", "assignment_mode": "round_robin"}),
        )
        .await;
    assert_eq!(group.status(), StatusCode::CREATED);
    let group = body(group).await["id"].as_str().unwrap().to_owned();
    let user = body(app.get("/api/v1/me", member).await).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let joined = app
        .put(
            &format!("/api/v1/users/{user}/groups"),
            admin,
            &json!({"group_ids": [group]}),
        )
        .await;
    assert_eq!(joined.status(), StatusCode::OK);
    (group, user)
}

#[tokio::test]
async fn every_change_of_a_ticket_is_an_entry_of_its_log_with_its_version() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (group, agent) = round_robin_group(&app, &tree.admin_a, &tree.agent_a).await;
    let created = app
        .post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "subject": "Camera", "group_id": group,
                    "requester": {"email": "log@uni.example"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    let id = created["id"].as_str().unwrap();
    // Creation and the group's automatic assignment committed together: one version.
    assert_eq!(created["assignee_id"], agent.as_str());
    assert_eq!(created["version"], 1);
    let edited = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            &tree.agent_a,
            &json!({"status": "pending", "priority": "high", "tags": ["exam"]}),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    for (path, text) in [("replies", "Try again"), ("notes", "Driver issue")] {
        let posted = app
            .post(
                &format!("/api/v1/tickets/{id}/{path}"),
                &tree.agent_a,
                &json!({"body": text}),
            )
            .await;
        assert_eq!(posted.status(), StatusCode::CREATED);
    }
    let log = events_of(&app, &tree.agent_a, id).await;
    assert_eq!(
        kinds(&log),
        [
            "created",
            "assigned",
            "status_changed",
            "updated",
            "message_added",
            "message_added"
        ]
    );
    assert_eq!(log[0]["actor_type"], "user");
    assert_eq!(log[1]["actor_type"], "automation");
    assert_eq!(log[1]["data"]["new"], agent.as_str());
    assert_eq!(log[2]["data"], json!({"old": "open", "new": "pending"}));
    let changed: Vec<&str> = log[3]["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["priority", "tags"]);
    assert_eq!(log[4]["data"]["kind"], "reply");
    assert_eq!(log[4]["data"]["visibility"], "public");
    assert_eq!(log[4]["data"]["direction"], "outgoing");
    assert_eq!(log[5]["data"]["kind"], "note");
    assert_eq!(log[5]["data"]["visibility"], "private");
    // The versions are the ticket's after each change; the entries are ordered.
    let versions: Vec<i64> = log.iter().map(|e| e["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 1, 2, 2, 3, 4]);
    let now = body(
        app.get(&format!("/api/v1/tickets/{id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(now["version"], 4);
    let ids: Vec<&str> = log.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);

    // Another tenant does not find the ticket; client staff read the history instead.
    assert_problem(
        app.get(&format!("/api/v1/tickets/{id}/events"), &tree.admin_b)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(
            &format!("/api/v1/tickets/{id}/events"),
            &tree.client_admin_a,
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
}

#[tokio::test]
async fn a_mass_reply_writes_the_same_entries_as_a_single_reply() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let created = app
            .post(
                "/api/v1/tickets",
                &tree.agent_a,
                &json!({"subject": format!("Outage {n}"), "requester": {"email": format!("m{n}@uni.example")}}),
            )
            .await;
        ids.push(body(created).await["id"].as_str().unwrap().to_owned());
    }
    let accepted = app
        .post(
            "/api/v1/tickets/bulk",
            &tree.agent_a,
            &json!({"ticket_ids": ids, "reply": {"body": "We are on it."}}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let job = body(accepted).await["job_id"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let state = body(app.get(&format!("/api/v1/jobs/{job}"), &tree.agent_a).await).await;
        if state["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in &ids {
        let log = events_of(&app, &tree.agent_a, id).await;
        assert_eq!(kinds(&log), ["created", "message_added"], "{log:?}");
        assert_eq!(log[1]["data"]["kind"], "reply");
        assert_eq!(log[1]["version"], 2);
    }
}

async fn intake(app: &TestApp, tree: &Tree) -> (String, String) {
    let (group, agent) = round_robin_group(app, &tree.root, &tree.root).await;
    let set = app
        .patch(
            &format!("/api/v1/tenants/{}", tree.platform),
            &tree.root,
            &json!({"intake_group_id": group}),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(body(set).await["intake_group_id"], group.as_str());
    (group, agent)
}

#[tokio::test]
async fn an_escalation_is_announced_to_the_receiving_tenant_and_assigned_by_its_intake_group() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (group, platform_agent) = intake(&app, &tree).await;
    let origin = body(
        app.post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "subject": "Exam froze",
                    "requester": {"email": "froze@uni.example"}}),
        )
        .await,
    )
    .await;
    let origin_id = origin["id"].as_str().unwrap();
    let mut platform = subscribe(&app, &tree.root).await;
    let escalated = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/escalate"),
            &tree.agent_a,
            &json!({"note": "Logs attached"}),
        )
        .await;
    assert_eq!(escalated.status(), StatusCode::OK);
    let linked_id = body(escalated).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The platform hears of its new ticket on its own stream.
    let (kind, data) = next_event(&mut platform, Duration::from_secs(5))
        .await
        .expect("the receiving tenant hears of the linked ticket");
    assert_eq!(kind, "ticket.created");
    assert_eq!(data["ticket_id"], linked_id.as_str());
    assert_eq!(data["tenant_id"], tree.platform.to_string());
    // ... which its intake group gave to its agent, as any new ticket of that group.
    let linked = body(
        app.get(&format!("/api/v1/tickets/{linked_id}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(linked["group_id"], group.as_str());
    assert_eq!(linked["assignee_id"], platform_agent.as_str());
    let log = events_of(&app, &tree.root, &linked_id).await;
    assert_eq!(kinds(&log), ["created", "assigned"]);
    assert_eq!(log[0]["actor_type"], "escalation");
    assert_eq!(log[0]["data"]["origin_ticket_id"], origin_id);
    assert_eq!(log[1]["actor_type"], "automation");
    // The origin's log records the hand-off, not who received it on the other side.
    let origin_log = events_of(&app, &tree.agent_a, origin_id).await;
    assert_eq!(kinds(&origin_log), ["created", "linked"]);
    assert_eq!(origin_log[1]["data"]["ticket_id"], linked_id.as_str());
    assert_eq!(origin_log[1]["data"]["link_kind"], "escalation");

    // The intake group must be the tenant's own or an ancestor's.
    let foreign = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_b,
            &json!({"name": "B's", "kind": "l1"}),
        )
        .await,
    )
    .await;
    let refused = app
        .patch(
            &format!("/api/v1/tenants/{}", tree.partner_a),
            &tree.admin_a,
            &json!({"intake_group_id": foreign["id"]}),
        )
        .await;
    let problem = assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "intake_group_id");
}
