use reqwest::{Method, StatusCode};
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn health_and_ready_answer_with_request_ids() {
    let app = spawn_app().await;
    let health = app
        .request(Method::GET, "/health", None)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    assert_eq!(body(health).await["status"], "ok");

    let ready = body(
        app.request(Method::GET, "/ready", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["database"], "ok");
    let expected_cache = if app.state.settings.redis_url.is_some() {
        "redis ok"
    } else {
        "memory ok"
    };
    assert_eq!(ready["cache"], expected_cache);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.request(Method::GET, "/health", None)
            .send()
            .await
            .unwrap();
    }
    app.request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .unwrap();
    let text = app.metrics().await;
    assert!(
        text.contains(
            r#"helpdesk_http_requests_total{endpoint="/health",method="GET",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"endpoint="/api/v1/me",method="GET",status="401""#));
    assert!(text.contains("helpdesk_http_requests_duration_seconds_bucket"));
}

#[tokio::test]
async fn unknown_routes_are_problem_404s() {
    let app = spawn_app().await;
    let response = app
        .request(Method::GET, "/api/v1/nothing-here", None)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}
