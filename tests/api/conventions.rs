use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use std::collections::HashSet;
use tests::{assert_problem, body, spawn_app, spawn_app_with};

#[tokio::test]
async fn bad_bodies_get_clear_problems_and_write_nothing() {
    let app = spawn_app_with(|s| s.http.max_body_bytes = 2048).await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let send = |body: String, content_type: Option<&'static str>| {
        let app = &app;
        let root = root.clone();
        async move {
            let mut request = app
                .request(Method::POST, "/api/v1/tenants", Some(&root))
                .body(body);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            request.send().await.unwrap()
        }
    };
    let json_type = Some("application/json");
    assert_problem(
        send("{\"parent_id\": ".into(), json_type).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert_problem(
        send("{\"parent_id\": 42}".into(), json_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // A number, an object or an unknown name where a name belongs is valid JSON of the wrong
    // shape; the answer names the accepted values.
    for kind in [json!(1), json!({"partner": true}), json!("reseller")] {
        let wrong_kind = json!({"parent_id": platform, "kind": kind, "slug": "x-y", "name": "x",
                                "locales": ["en"], "time_zone": "UTC"});
        let problem = assert_problem(
            send(wrong_kind.to_string(), json_type).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            ["platform", "partner", "client"]
                .iter()
                .all(|name| detail.contains(name)),
            "{problem}"
        );
    }
    let unknown_field = json!({"parent_id": platform, "kind": "partner", "slug": "x-y", "name": "x", "locales": ["en"], "time_zone": "UTC", "colour": "red"});
    assert_problem(
        send(unknown_field.to_string(), json_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        send("{}".into(), Some("text/plain")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let huge = json!({"parent_id": platform, "kind": "partner", "slug": "big", "name": "x".repeat(5000), "locales": ["en"], "time_zone": "UTC"});
    assert_problem(
        send(huge.to_string(), json_type).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let count = entity::tenant::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(count, 1, "no refused request wrote a tenant");
}

#[tokio::test]
async fn malformed_and_unknown_ids_are_404s() {
    let app = spawn_app().await;
    let root = app.root().await;
    assert_problem(
        app.get("/api/v1/tenants/not-a-uuid", &root).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/tenants/{}", uuid::Uuid::now_v7()), &root)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), &root)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn cursor_pages_cover_everything_once_and_link_to_the_next() {
    let app = spawn_app().await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    for n in 0..6 {
        app.create_tenant(&root, platform, "partner", &format!("partner-{n}"), false)
            .await;
    }
    let mut seen = HashSet::new();
    let mut path = "/api/v1/tenants?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let response = app.get(&path, &root).await;
        assert_eq!(response.status(), StatusCode::OK);
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let page = body(response).await;
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            assert!(
                seen.insert(item["id"].as_str().unwrap().to_owned()),
                "item repeated across pages"
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let link = link.expect("a next page has a Link header");
                assert!(link.ends_with("rel=\"next\""), "{link}");
                assert!(link.contains(cursor));
                path = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned();
            }
            None => {
                assert!(link.is_none());
                break;
            }
        }
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(pages, 3);
    assert_problem(
        app.get("/api/v1/tenants?cursor=@@@", &root).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    )
    .await;
    assert_problem(
        app.get("/api/v1/tenants?limit=0", &root).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get("/api/v1/tenants?limit=abc", &root).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_does_the_work_once() {
    let app = spawn_app().await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let request = json!({"parent_id": platform, "kind": "partner", "slug": "partner-mena", "name": "MENA", "locales": ["ar", "en"], "time_zone": "Asia/Dubai"});
    let send = |key: &'static str, json: serde_json::Value| {
        let app = &app;
        let root = root.clone();
        async move {
            app.request(Method::POST, "/api/v1/tenants", Some(&root))
                .header("idempotency-key", key)
                .json(&json)
                .send()
                .await
                .unwrap()
        }
    };
    let first = send("create-mena-1", request.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_location = first.headers()["location"].to_str().unwrap().to_owned();
    let first = body(first).await;
    let again = send("create-mena-1", request.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        first_location
    );
    assert_eq!(body(again).await["id"], first["id"]);
    assert_eq!(
        entity::tenant::Entity::find().count(&app.db).await.unwrap(),
        2
    );

    let mut changed = request.clone();
    changed["name"] = json!("Something else");
    assert_problem(
        send("create-mena-1", changed).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // A new key is a new request: here the slug is now taken.
    assert_problem(
        send("create-mena-2", request).await,
        StatusCode::CONFLICT,
        "already_exists",
    )
    .await;
    assert_eq!(
        entity::tenant::Entity::find().count(&app.db).await.unwrap(),
        2
    );
}
