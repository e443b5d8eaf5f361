//! What client staff read of a ticket's history: its public facts, never the support side's
//! internal work (notes, hand-offs to other tenants, answers arriving from a linked ticket,
//! routing to groups and agents) or who on the support side did what.
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{TestApp, body, spawn_app};

async fn history(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/tickets/{id}/activities"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await.as_array().unwrap().clone()
}

fn fields(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|entry| entry["field"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn client_staff_read_the_public_facts_of_an_escalated_ticket_only() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created = app
        .post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "subject": "Frozen exam", "source": "email",
                    "requester": {"email": "student@uni.example"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = body(created).await["id"].as_str().unwrap().to_owned();
    let agent_id = body(app.get("/api/v1/me", &tree.agent_a).await).await["user_id"].clone();
    for (path, text) in [
        ("replies", "We are on it"),
        ("notes", "Proctor vendor is slow"),
    ] {
        let posted = app
            .post(
                &format!("/api/v1/tickets/{id}/{path}"),
                &tree.agent_a,
                &json!({"body": text}),
            )
            .await;
        assert_eq!(posted.status(), StatusCode::CREATED);
    }
    let edited = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            &tree.agent_a,
            &json!({"priority": "high", "assignee_id": agent_id}),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let escalated = app
        .post(
            &format!("/api/v1/tickets/{id}/escalate"),
            &tree.agent_a,
            &json!({"note": "Need the server logs"}),
        )
        .await;
    assert_eq!(escalated.status(), StatusCode::OK);
    let linked = body(escalated).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, path, request) in [
        (
            "reply",
            format!("/api/v1/tickets/{linked}/replies"),
            json!({"body": "Restart it"}),
        ),
        (
            "edit",
            format!("/api/v1/tickets/{linked}"),
            json!({"status": "resolved"}),
        ),
    ] {
        let response = if method == "reply" {
            app.post(&path, &tree.root, &request).await
        } else {
            app.patch(&path, &tree.root, &request).await
        };
        assert!(response.status().is_success(), "{method}");
    }

    app.settled().await;
    // The agent sees the whole story, with the platform's ticket and who did what.
    let full = history(&app, &tree.agent_a, &id).await;
    let agent_fields = fields(&full);
    for field in ["note", "escalated", "linked_reply", "assignee_id"] {
        assert!(agent_fields.contains(&field), "{agent_fields:?}");
    }
    assert!(
        full.iter()
            .any(|entry| entry["actor_type"] == "linked_ticket")
    );
    assert!(
        full.iter()
            .any(|entry| entry["actor_id"] == agent_id && entry["field"] == "priority")
    );

    // The client admin sees what happened to the ticket, not the support side's work.
    let public = history(&app, &tree.client_admin_a, &id).await;
    assert_eq!(
        fields(&public),
        ["created", "reply", "priority", "status"],
        "{public:?}"
    );
    let text = serde_json::to_string(&public).unwrap();
    assert!(!text.contains(&linked), "the linked ticket leaked: {text}");
    assert!(!text.contains("linked_ticket"), "{text}");
    for entry in &public {
        if entry["field"] == "reply" {
            // The conversation names the reply's author anyway.
            assert_eq!(entry["actor_id"], agent_id);
        } else {
            assert_eq!(entry["actor_id"], Value::Null, "{entry}");
            assert_eq!(entry["actor_type"], "support", "{entry}");
        }
    }
}
