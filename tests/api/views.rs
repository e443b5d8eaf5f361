use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp, assert_problem, body, spawn_app};

async fn new_view(app: &TestApp, token: &str, request: Value) -> Value {
    let response = app.post("/api/v1/views", token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{request}");
    body(response).await
}

async fn new_ticket(app: &TestApp, token: &str, subject: &str, priority: &str, tags: &[&str]) {
    let response = app
        .post(
            "/api/v1/tickets",
            token,
            &json!({"subject": subject, "priority": priority, "tags": tags,
                    "requester": {"email": "student@uni.example"}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

fn ids(page: &Value) -> Vec<Value> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect()
}

#[tokio::test]
async fn an_agent_creates_reads_renames_and_deletes_a_view() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created = new_view(
        &app,
        &tree.agent_a,
        json!({"name": "Urgent e-mail", "filters": {"priority": "urgent", "source": "email", "q": null}}),
    )
    .await;
    assert_eq!(created["shared"], false);
    assert_eq!(
        created["filters"],
        json!({"priority": "urgent", "source": "email"}),
        "null filters are dropped"
    );
    let id = created["id"].as_str().unwrap();
    let listed = body(app.get("/api/v1/views", &tree.agent_a).await).await;
    assert_eq!(ids(&listed), vec![created["id"].clone()]);
    let read = body(app.get(&format!("/api/v1/views/{id}"), &tree.agent_a).await).await;
    assert_eq!(read, created);

    let renamed = app
        .patch(
            &format!("/api/v1/views/{id}"),
            &tree.agent_a,
            &json!({"name": "Urgent", "filters": {"priority": "urgent"}}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = body(renamed).await;
    assert_eq!(renamed["name"], "Urgent");
    assert_eq!(renamed["filters"], json!({"priority": "urgent"}));

    let duplicate = app
        .post("/api/v1/views", &tree.agent_a, &json!({"name": "Urgent"}))
        .await;
    assert_problem(duplicate, StatusCode::CONFLICT, "view_name_taken").await;

    let deleted = app
        .delete(&format!("/api/v1/views/{id}"), &tree.agent_a)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&format!("/api/v1/views/{id}"), &tree.agent_a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_views_tickets_are_the_list_filtered_the_same_way() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    for n in 0..5 {
        new_ticket(&app, &tree.agent_a, &format!("Exam {n}"), "high", &["exam"]).await;
    }
    new_ticket(&app, &tree.agent_a, "Exam low", "low", &["exam"]).await;
    new_ticket(&app, &tree.agent_a, "Billing", "high", &["billing"]).await;
    new_ticket(&app, &tree.admin_b, "Exam at B", "high", &["exam"]).await;
    let view = new_view(
        &app,
        &tree.agent_a,
        json!({"name": "Hot exams", "filters": {"priority": "high", "tag": "exam"}}),
    )
    .await;
    let id = view["id"].as_str().unwrap();

    let mut via_view = format!("/api/v1/views/{id}/tickets?limit=2");
    let mut via_list = "/api/v1/tickets?priority=high&tag=exam&limit=2".to_owned();
    let mut seen = Vec::new();
    loop {
        let from_view = body(app.get(&via_view, &tree.agent_a).await).await;
        let from_list = body(app.get(&via_list, &tree.agent_a).await).await;
        assert_eq!(ids(&from_view), ids(&from_list));
        assert_eq!(from_view["next_cursor"], from_list["next_cursor"]);
        seen.extend(ids(&from_view));
        let Some(cursor) = from_view["next_cursor"].as_str() else {
            break;
        };
        via_view = format!("/api/v1/views/{id}/tickets?limit=2&cursor={cursor}");
        via_list = format!("/api/v1/tickets?priority=high&tag=exam&limit=2&cursor={cursor}");
    }
    assert_eq!(
        seen.len(),
        5,
        "the five high exam tickets of partner A, and no others"
    );
}

#[tokio::test]
async fn private_views_are_their_owners_and_other_tenants_see_none() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    app.create_user(&tree.admin_a, tree.partner_a, "agent2@a.test", "agent")
        .await;
    let agent2 = app.login("agent2@a.test", PASSWORD).await.access;

    let private = new_view(&app, &tree.agent_a, json!({"name": "Mine"})).await;
    let shared = new_view(
        &app,
        &tree.admin_a,
        json!({"name": "Team queue", "filters": {"status": "open"}, "shared": true}),
    )
    .await;
    let private_id = private["id"].as_str().unwrap();
    let shared_id = shared["id"].as_str().unwrap();

    // Agents do not share views; the other agent sees the shared view only.
    let refused = app
        .post(
            "/api/v1/views",
            &tree.agent_a,
            &json!({"name": "Everyone", "shared": true}),
        )
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN, "insufficient_role").await;
    let listed = body(app.get("/api/v1/views", &agent2).await).await;
    assert_eq!(ids(&listed), vec![shared["id"].clone()]);
    let listed = body(app.get("/api/v1/views", &tree.agent_a).await).await;
    assert_eq!(ids(&listed).len(), 2);
    assert_eq!(
        app.get(&format!("/api/v1/views/{shared_id}/tickets"), &agent2)
            .await
            .status(),
        StatusCode::OK
    );
    assert_problem(
        app.patch(
            &format!("/api/v1/views/{shared_id}"),
            &agent2,
            &json!({"name": "Taken over"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "not_view_owner",
    )
    .await;

    // Another agent's private view, and any view for another tenant, is a 404 everywhere.
    for (token, id) in [
        (&agent2, private_id),
        (&tree.admin_a, private_id),
        (&tree.admin_b, private_id),
        (&tree.admin_b, shared_id),
    ] {
        for path in [
            format!("/api/v1/views/{id}"),
            format!("/api/v1/views/{id}/tickets"),
        ] {
            assert_problem(
                app.get(&path, token).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }
        assert_problem(
            app.patch(&format!("/api/v1/views/{id}"), token, &json!({"name": "x"}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(
            app.delete(&format!("/api/v1/views/{id}"), token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let listed = body(app.get("/api/v1/views", &tree.admin_b).await).await;
    assert!(ids(&listed).is_empty());
    // Both views survived the attempts.
    let listed = body(app.get("/api/v1/views", &tree.agent_a).await).await;
    assert_eq!(ids(&listed).len(), 2);
}

#[tokio::test]
async fn invalid_filters_are_422_naming_the_filter() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    for (filters, field) in [
        (json!({"status": "bogus"}), "filters.status"),
        (json!({"colour": "red"}), "filters.colour"),
        (json!({"group_id": "not-a-uuid"}), "filters.group_id"),
        (
            json!({"created_after": "yesterday"}),
            "filters.created_after",
        ),
        (json!({"tag": "a,b"}), "filters.tags"),
        (json!({"q": "x".repeat(300)}), "filters.q"),
    ] {
        let response = app
            .post(
                "/api/v1/views",
                &tree.agent_a,
                &json!({"name": "Bad", "filters": filters}),
            )
            .await;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let listed = body(app.get("/api/v1/views", &tree.agent_a).await).await;
    assert!(ids(&listed).is_empty(), "no invalid view was saved");

    // A stored filter that is no longer valid (written behind the API's back) is a 422 too.
    let view = new_view(
        &app,
        &tree.agent_a,
        json!({"name": "Open", "filters": {"status": "open"}}),
    )
    .await;
    entity::ticket_view::Entity::update_many()
        .col_expr(
            entity::ticket_view::Column::Filters,
            Expr::value(json!({"status": "archived"})),
        )
        .filter(entity::ticket_view::Column::Name.eq("Open"))
        .exec(&app.db)
        .await
        .unwrap();
    let id = view["id"].as_str().unwrap();
    let problem = assert_problem(
        app.get(&format!("/api/v1/views/{id}/tickets"), &tree.agent_a)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "filters.status");
}
