//! What the edge refuses before any handler runs: text the database cannot store (NUL) and
//! query parameters an operation does not declare.
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tests::{TestApp, assert_problem, spawn_app};

/// Posts `request` (raw JSON text, so `\u0000` reaches the server as written) and expects a
/// 422 naming `field`.
async fn refused_naming(app: &TestApp, token: &str, path: &str, request: &str, field: &str) {
    let response = app
        .request(reqwest::Method::POST, path, Some(token))
        .header("content-type", "application/json")
        .body(request.to_owned())
        .send()
        .await
        .unwrap();
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], field, "{request}: {problem}");
}

async fn counts(app: &TestApp) -> (u64, u64, u64) {
    (
        entity::ticket::Entity::find().count(&app.db).await.unwrap(),
        entity::contact::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        entity::company::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let agent = &tree.agent_a;
    let before = counts(&app).await;

    refused_naming(
        &app,
        agent,
        "/api/v1/tickets",
        r#"{"subject": "Exam\u0000froze", "requester": {"email": "ana@uni.example"}}"#,
        "subject",
    )
    .await;
    refused_naming(
        &app,
        agent,
        "/api/v1/tickets",
        r#"{"subject": "Exam froze", "requester": {"email": "ana\u0000@uni.example"}}"#,
        "requester.email",
    )
    .await;
    refused_naming(
        &app,
        agent,
        "/api/v1/tickets",
        r#"{"subject": "Exam froze", "tags": ["ok", "b\u0000"], "requester": {"email": "ana@uni.example"}}"#,
        "tags[1]",
    )
    .await;
    refused_naming(
        &app,
        agent,
        "/api/v1/contacts",
        r#"{"email": "ana\u0000@uni.example", "name": "Ana"}"#,
        "email",
    )
    .await;
    refused_naming(
        &app,
        agent,
        "/api/v1/companies",
        r#"{"name": "Uni\u0000 A", "domains": ["uni.example"]}"#,
        "name",
    )
    .await;
    refused_naming(
        &app,
        &tree.admin_a,
        "/api/v1/views",
        r#"{"name": "Mine", "filters": {"q": "a\u0000b"}}"#,
        "filters.q",
    )
    .await;
    assert_eq!(counts(&app).await, before, "nothing was written");

    // The same text without the NUL is accepted: the refusal is about the NUL only.
    let ok = app
        .post(
            "/api/v1/companies",
            agent,
            &json!({"name": "Uni A", "domains": ["uni.example"]}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn nul_characters_in_query_parameters_are_a_bad_request() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    for path in [
        "/api/v1/tickets?q=a%00b",
        "/api/v1/tickets?tag=exam%00",
        "/api/v1/contacts?email=ana%00%40uni.example",
        "/api/v1/tickets?q%00=a",
    ] {
        let problem = assert_problem(
            app.get(path, &tree.agent_a).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("NUL"),
            "{path}: {problem}"
        );
    }
}

#[tokio::test]
async fn lists_refuse_parameters_they_do_not_declare() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    for (path, unknown) in [
        ("/api/v1/tickets?stauts=pending", "stauts"),
        ("/api/v1/tickets?status=open&limit=5&colour=red", "colour"),
        ("/api/v1/contacts?limit=5&name=Ana", "name"),
        ("/api/v1/companies?search=uni", "search"),
        ("/api/v1/users?role=agent", "role"),
        ("/api/v1/tenants?kind=client", "kind"),
        ("/api/v1/views?shared=true", "shared"),
        ("/api/v1/groups?page=2", "page"),
        (
            "/api/v1/reports/ticket-counts?group_by=day&zone=UTC",
            "zone",
        ),
    ] {
        let problem = assert_problem(
            app.get(path, &tree.admin_a).await,
            StatusCode::BAD_REQUEST,
            "unknown_parameter",
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("`{unknown}`")), "{path}: {detail}");
    }
    // Declared parameters, paging and filters together, still work.
    for path in [
        "/api/v1/tickets?status=open&limit=5",
        "/api/v1/contacts?limit=5",
        "/api/v1/users?limit=1",
        "/api/v1/tenants",
        "/api/v1/reports/ticket-counts?group_by=day",
    ] {
        let response = app.get(path, &tree.admin_a).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let _: Value = response.json().await.unwrap();
    }
}
