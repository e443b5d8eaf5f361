//! `POST /tickets/{id}/take`: an agent takes a free ticket, not a colleague's; supervisors and
//! administrators take one over only when they say so.
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp, assert_problem, body, spawn_app};

async fn new_ticket(app: &TestApp, token: &str, tenant: uuid::Uuid) -> String {
    let response = app
        .post(
            "/api/v1/tickets",
            token,
            &json!({"tenant_id": tenant, "subject": "Frozen exam", "requester": {"email": "s@uni.example"}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body(response).await["id"].as_str().unwrap().to_owned()
}

async fn take(app: &TestApp, token: &str, id: &str, query: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/tickets/{id}/take{query}"),
        token,
        &json!({}),
    )
    .await
}

async fn assignee(app: &TestApp, token: &str, id: &str) -> Value {
    body(app.get(&format!("/api/v1/tickets/{id}"), token).await).await["assignee_id"].clone()
}

#[tokio::test]
async fn a_colleagues_ticket_is_taken_over_only_by_a_supervisor_who_forces_it() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let colleague = app
        .create_user(&tree.admin_a, tree.partner_a, "colleague@a.test", "agent")
        .await;
    let colleague_token = app.login("colleague@a.test", PASSWORD).await.access;
    app.create_user(&tree.admin_a, tree.partner_a, "lead@a.test", "supervisor")
        .await;
    let lead = app.login("lead@a.test", PASSWORD).await.access;
    let id = new_ticket(&app, &tree.agent_a, tree.client_a).await;

    // A free ticket is taken; taking it again is the same answer, not a new change.
    let first = take(&app, &colleague_token, &id, "").await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = body(first).await;
    assert_eq!(first["assignee_id"], colleague.to_string());
    let again = take(&app, &colleague_token, &id, "").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(body(again).await["version"], first["version"]);

    // Another agent is told who holds it, with or without force.
    let refused = assert_problem(
        take(&app, &tree.agent_a, &id, "").await,
        StatusCode::CONFLICT,
        "already_assigned",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains(&colleague.to_string()),
        "{refused}"
    );
    assert_problem(
        take(&app, &tree.agent_a, &id, "?force=true").await,
        StatusCode::FORBIDDEN,
        "force_not_allowed",
    )
    .await;
    // A supervisor is refused too unless forcing.
    assert_problem(
        take(&app, &lead, &id, "").await,
        StatusCode::CONFLICT,
        "already_assigned",
    )
    .await;
    assert_eq!(
        assignee(&app, &tree.agent_a, &id).await,
        colleague.to_string()
    );

    let forced = take(&app, &lead, &id, "?force=true").await;
    assert_eq!(forced.status(), StatusCode::OK);
    let lead_id = body(app.get("/api/v1/me", &lead).await).await["user_id"].clone();
    assert_eq!(body(forced).await["assignee_id"], lead_id);
    // An administrator may force as well.
    let by_admin = take(&app, &tree.admin_a, &id, "?force=true").await;
    assert_eq!(by_admin.status(), StatusCode::OK);
}
