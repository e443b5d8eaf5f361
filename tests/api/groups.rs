use reqwest::StatusCode;
use serde_json::json;
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn tiers_and_memberships_are_managed_by_admins() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let create = |name: &str, kind: &str| json!({"name": name, "kind": kind, "description": "Students' questions"});
    let l1 = app
        .post(
            "/api/v1/groups",
            &tree.admin_a,
            &create("L1 students", "l1"),
        )
        .await;
    assert_eq!(l1.status(), StatusCode::CREATED);
    let l1 = body(l1).await;
    assert_eq!(l1["tenant_id"], tree.partner_a.to_string());
    assert_eq!(l1["kind"], "l1");
    let l2 = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &create("L2 organisers", "l2"),
        )
        .await,
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &create("L1 students", "l1"),
        )
        .await,
        StatusCode::CONFLICT,
        "group_name_taken",
    )
    .await;
    assert_problem(
        app.post("/api/v1/groups", &tree.admin_a, &create("x", "l9"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post("/api/v1/groups", &tree.agent_a, &create("mine", "team"))
            .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    let client_group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"tenant_id": tree.client_a, "name": "Organisers", "kind": "team"}),
        )
        .await,
    )
    .await;

    let users = body(app.get("/api/v1/users?limit=100", &tree.admin_a).await).await;
    let agent = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "agent@a.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = app
        .put(
            &format!("/api/v1/users/{agent}/groups"),
            &tree.admin_a,
            &json!({"group_ids": [l1["id"], l2["id"], l1["id"]]}),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let mut expected = vec![
        l1["id"].as_str().unwrap().to_owned(),
        l2["id"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(body(set).await["group_ids"], json!(expected));
    let user = body(
        app.get(&format!("/api/v1/users/{agent}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(user["group_ids"], json!(expected));
    let group = body(
        app.get(
            &format!("/api/v1/groups/{}", l1["id"].as_str().unwrap()),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(group["member_ids"], json!([agent]));

    // A group of another tenant (even a client below) is refused, and nothing changes.
    let wrong = app
        .put(
            &format!("/api/v1/users/{agent}/groups"),
            &tree.admin_a,
            &json!({"group_ids": [client_group["id"]]}),
        )
        .await;
    assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        body(
            app.get(&format!("/api/v1/users/{agent}"), &tree.admin_a)
                .await
        )
        .await["group_ids"],
        json!(expected)
    );

    let renamed = body(
        app.patch(
            &format!("/api/v1/groups/{}", l2["id"].as_str().unwrap()),
            &tree.admin_a,
            &json!({"name": "L2 clients", "kind": "l2"}),
        )
        .await,
    )
    .await;
    assert_eq!(renamed["name"], "L2 clients");
    assert_eq!(renamed["member_ids"], json!([agent]));
    assert_eq!(
        app.delete(
            &format!("/api/v1/groups/{}", l2["id"].as_str().unwrap()),
            &tree.admin_a
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let user = body(
        app.get(&format!("/api/v1/users/{agent}"), &tree.admin_a)
            .await,
    )
    .await;
    assert_eq!(user["group_ids"], json!([l1["id"]]));
    let listed = body(app.get("/api/v1/groups", &tree.admin_a).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let listed_b = body(app.get("/api/v1/groups", &tree.admin_b).await).await;
    assert_eq!(listed_b["items"].as_array().unwrap().len(), 0);
}
