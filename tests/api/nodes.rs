//! Two API nodes on one database (and one Redis when configured) behave as one service.
use reqwest::StatusCode;
use serde_json::json;
use tests::{PASSWORD, ROOT_EMAIL, assert_problem, body, spawn_app_with};

#[tokio::test]
async fn a_key_rotated_on_one_node_is_honoured_by_the_other() {
    let first = spawn_app_with(|_| {}).await;
    let second = first.second_node().await;
    let root = first.root().await;
    assert_eq!(
        second.get("/api/v1/me", &root).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        first
            .post("/api/v1/auth/signing-keys/rotate", &root, &json!({}))
            .await
            .status(),
        StatusCode::OK
    );
    // The first node signs with the new key; the second learns it from the database.
    let fresh = first.root().await;
    assert_eq!(
        second.get("/api/v1/me", &fresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        second.get("/api/v1/me", &root).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn with_redis_logouts_suspensions_and_limits_span_nodes() {
    let first = spawn_app_with(|s| s.auth.login_per_minute = 4).await;
    if first.state.settings.redis_url.is_none() {
        // Without Redis the service is single-node by design; nothing to share.
        return;
    }
    let second = first.second_node().await;
    let tokens = first.login(ROOT_EMAIL, PASSWORD).await;
    let other = second.login(ROOT_EMAIL, PASSWORD).await;
    assert_eq!(
        first
            .post("/api/v1/auth/logout", &tokens.access, &json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // Each node checks its own copy of the deny-list; the logout reaches the second over the
    // bus within moments.
    let mut refused = second.get("/api/v1/me", &tokens.access).await;
    for _ in 0..25 {
        if refused.status() == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        refused = second.get("/api/v1/me", &tokens.access).await;
    }
    assert_problem(refused, StatusCode::UNAUTHORIZED, "token_revoked").await;
    assert_eq!(
        second.get("/api/v1/me", &other.access).await.status(),
        StatusCode::OK
    );

    // Two logins were counted above; the limit of 4 a minute holds across both nodes.
    assert_eq!(
        first.try_login(ROOT_EMAIL, "wrong-password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        second
            .try_login(ROOT_EMAIL, "wrong-password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_problem(
        first.try_login(ROOT_EMAIL, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    assert_problem(
        second.try_login(ROOT_EMAIL, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;

    let me = body(second.get("/api/v1/me", &other.access).await).await;
    assert_eq!(me["email"], ROOT_EMAIL);
}

#[tokio::test]
async fn field_definitions_changed_on_one_node_are_enforced_on_every_node() {
    let first = spawn_app_with(|_| {}).await;
    let tree = first.tree().await;
    let ticket = |fields: serde_json::Value| {
        json!({"subject": "Camera check fails", "requester": {"email": "student@uni.example"},
               "custom_fields": fields})
    };
    // The node has read partner A's (empty) definitions; a new required field applies at once.
    let created = first
        .post("/api/v1/tickets", &tree.admin_a, &ticket(json!({})))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let field = first
        .post(
            "/api/v1/ticket-fields",
            &tree.admin_a,
            &json!({"key": "exam_id", "label": "Exam", "field_type": "text", "required": true}),
        )
        .await;
    assert_eq!(field.status(), StatusCode::CREATED);
    let field_id = body(field).await["id"].as_str().unwrap().to_owned();
    let refused = body(
        first
            .post("/api/v1/tickets", &tree.admin_a, &ticket(json!({})))
            .await,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "custom_fields.exam_id");
    if first.state.settings.redis_url.is_none() {
        // Without Redis the service is single-node by design.
        return;
    }
    // A second node learns of the deletion made on the first, and the first of a field the
    // second defines, through the bus.
    let second = first.second_node().await;
    assert_eq!(
        second
            .post(
                "/api/v1/tickets",
                &tree.admin_a,
                &ticket(json!({"exam_id": "E-1"}))
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        first
            .delete(&format!("/api/v1/ticket-fields/{field_id}"), &tree.admin_a)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let accepted_without = || async {
        second
            .post("/api/v1/tickets", &tree.admin_a, &ticket(json!({})))
            .await
            .status()
    };
    let mut status = accepted_without().await;
    for _ in 0..50 {
        if status == StatusCode::CREATED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        status = accepted_without().await;
    }
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the second node kept the deleted field"
    );
    assert_eq!(
        second
            .post(
                "/api/v1/ticket-fields",
                &tree.admin_a,
                &json!({"key": "campus", "label": "Campus", "field_type": "text", "required": true}),
            )
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut refused = None;
    for _ in 0..50 {
        let answer = first
            .post("/api/v1/tickets", &tree.admin_a, &ticket(json!({})))
            .await;
        if answer.status() == StatusCode::UNPROCESSABLE_ENTITY {
            refused = Some(body(answer).await);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let refused = refused.expect("the first node never learned of the new field");
    assert_eq!(refused["errors"][0]["field"], "custom_fields.campus");
}

#[tokio::test]
async fn a_new_client_of_a_partner_joins_the_partners_lists_on_every_node() {
    let first = spawn_app_with(|_| {}).await;
    let tree = first.tree().await;
    async fn subjects(app: &tests::TestApp, token: &str) -> Vec<String> {
        let page = body(app.get("/api/v1/tickets?limit=100", token).await).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["subject"].as_str().unwrap().to_owned())
            .collect()
    }
    let listed = |app| subjects(app, &tree.agent_a);
    // The partner's agent has listed (and this node has learned the partner's reach) before
    // the partner takes on a new client.
    let before = listed(&first).await;
    let new_client = |slug: &'static str| {
        let app = &first;
        let admin = tree.admin_a.clone();
        let parent = tree.partner_a;
        async move {
            let created = app
                .post(
                    "/api/v1/tenants",
                    &admin,
                    &json!({"parent_id": parent, "kind": "client", "slug": slug, "name": slug,
                            "locales": ["en"], "time_zone": "UTC"}),
                )
                .await;
            assert_eq!(created.status(), StatusCode::CREATED);
            body(created).await["id"].as_str().unwrap().to_owned()
        }
    };
    let ticket_in = |tenant: String, subject: &'static str| {
        let app = &first;
        let admin = tree.admin_a.clone();
        async move {
            let created = app
                .post(
                    "/api/v1/tickets",
                    &admin,
                    &json!({"tenant_id": tenant, "subject": subject,
                            "requester": {"email": "student@new.example"}}),
                )
                .await;
            assert_eq!(created.status(), StatusCode::CREATED);
        }
    };
    let client = new_client("new-university").await;
    ticket_in(client, "From the new university").await;
    let after = listed(&first).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains(&"From the new university".to_owned()));
    // Partner B's agent-level view stays without it.
    let theirs = body(first.get("/api/v1/tickets?limit=100", &tree.admin_b).await).await;
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["subject"] != "From the new university")
    );
    if first.state.settings.redis_url.is_none() {
        return;
    }
    // A second node that already knows the partner's reach learns of the next client too.
    let second = first.second_node().await;
    let known = listed(&second).await;
    assert_eq!(known.len(), after.len());
    let client = new_client("another-university").await;
    ticket_in(client, "From another university").await;
    let mut seen = false;
    for _ in 0..50 {
        if listed(&second)
            .await
            .contains(&"From another university".to_owned())
        {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen, "the second node never saw the new client's ticket");
}
