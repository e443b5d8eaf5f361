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
    assert_problem(
        second.get("/api/v1/me", &tokens.access).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
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
