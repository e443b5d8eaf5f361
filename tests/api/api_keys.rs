use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::json;
use tests::{assert_problem, body, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_works_both_ways() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &tree.admin_a,
            &json!({"name": "LMS sync", "scopes": ["tenants:read", "users:read"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(&format!("hd_{}_", created["prefix"].as_str().unwrap())));
    assert_eq!(created["tenant_id"], tree.partner_a.to_string());
    let stored = entity::api_key::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].key_hash.contains(&secret));

    let listed = body(app.get("/api/v1/api-keys", &tree.admin_a).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none());

    let by_header = app
        .request(Method::GET, "/api/v1/me", None)
        .header("x-api-key", &secret)
        .send()
        .await
        .unwrap();
    let me = body(by_header).await;
    assert_eq!(me["principal_type"], "api_key");
    assert_eq!(me["tenant_id"], tree.partner_a.to_string());
    assert_eq!(me["scopes"], json!(["tenants:read", "users:read"]));
    let by_bearer = app.get("/api/v1/tenants", &secret).await;
    assert_eq!(by_bearer.status(), StatusCode::OK);
    assert_eq!(body(by_bearer).await["items"].as_array().unwrap().len(), 2);

    // The key holds only its scopes.
    let denied = app.post("/api/v1/users", &secret, &json!({"email": "x@a.test", "name": "x", "role": "agent", "password": "long-enough-password"})).await;
    assert_problem(denied, StatusCode::FORBIDDEN, "insufficient_scope").await;
    // Its use is recorded, off the request path.
    let mut recorded = false;
    for _ in 0..50 {
        let key = entity::api_key::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        if key.last_used_at.is_some() {
            recorded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(recorded, "last_used_at was not recorded");
}

#[tokio::test]
async fn keys_cannot_hold_more_than_their_creator_and_bad_keys_are_refused() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let by_agent = app
        .post(
            "/api/v1/api-keys",
            &tree.agent_a,
            &json!({"name": "mine", "scopes": ["tickets:read"]}),
        )
        .await;
    assert_problem(by_agent, StatusCode::FORBIDDEN, "insufficient_scope").await;
    for body_json in [
        json!({"name": "x", "scopes": ["rockets:launch"]}),
        json!({"name": "x", "scopes": []}),
        json!({"name": " ", "scopes": ["kb:read"]}),
        json!({"name": "x", "scopes": ["kb:read"], "expires_at": "2000-01-01T00:00:00Z"}),
    ] {
        assert_problem(
            app.post("/api/v1/api-keys", &tree.admin_a, &body_json)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let (id, secret) = app
        .create_api_key(&tree.admin_a, tree.partner_a, &["tenants:read"])
        .await;
    assert_problem(
        app.get("/api/v1/me", "hd_unknown_key").await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    )
    .await;
    let tampered = format!("{}x", secret);
    assert_problem(
        app.get("/api/v1/me", &tampered).await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{id}"), &tree.admin_a)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        app.get("/api/v1/me", &secret).await,
        StatusCode::UNAUTHORIZED,
        "api_key_revoked",
    )
    .await;
    let revoked = body(
        app.get(&format!("/api/v1/api-keys/{id}"), &tree.admin_a)
            .await,
    )
    .await;
    assert!(revoked["revoked_at"].is_string());
}

#[tokio::test]
async fn a_key_of_a_suspended_tenant_is_refused() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (_, secret) = app
        .create_api_key(&tree.admin_a, tree.client_a, &["tenants:read"])
        .await;
    assert_eq!(
        app.get("/api/v1/me", &secret).await.status(),
        StatusCode::OK
    );
    app.post(
        &format!("/api/v1/tenants/{}/suspend", tree.partner_a),
        &tree.root,
        &json!({}),
    )
    .await;
    assert_problem(
        app.get("/api/v1/me", &secret).await,
        StatusCode::FORBIDDEN,
        "tenant_suspended",
    )
    .await;
}

#[tokio::test]
async fn keys_are_rate_limited_with_headers() {
    let app = spawn_app_with(|s| s.rate_limit.api_key_per_minute = 2).await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let (_, secret) = app.create_api_key(&root, platform, &["tenants:read"]).await;
    let first = app.get("/api/v1/me", &secret).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["ratelimit-limit"], "2");
    assert_eq!(first.headers()["ratelimit-remaining"], "1");
    assert_eq!(
        app.get("/api/v1/me", &secret).await.status(),
        StatusCode::OK
    );
    let limited = app.get("/api/v1/me", &secret).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Users signed in with a token are not counted against the key.
    assert_eq!(app.get("/api/v1/me", &root).await.status(), StatusCode::OK);
}
