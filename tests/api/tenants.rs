use reqwest::StatusCode;
use serde_json::json;
use tests::{assert_problem, body, spawn_app};

fn new_tenant(parent: uuid::Uuid, kind: &str, slug: &str, dedicated: bool) -> serde_json::Value {
    json!({"parent_id": parent, "kind": kind, "slug": slug, "name": "Some tenant", "dedicated": dedicated,
           "locales": ["en"], "time_zone": "UTC"})
}

#[tokio::test]
async fn the_tree_grows_only_in_the_allowed_shapes() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created = app
        .post(
            "/api/v1/tenants",
            &tree.root,
            &new_tenant(tree.platform, "partner", "partner-latam", false),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let created = body(created).await;
    assert_eq!(
        location,
        format!("/api/v1/tenants/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["kind"], "partner");
    assert_eq!(created["parent_id"], tree.platform.to_string());
    assert_eq!(created["status"], "active");

    let cases = [
        // A client straight below the platform must be dedicated.
        (
            &tree.root,
            new_tenant(tree.platform, "client", "plain-client", false),
            StatusCode::FORBIDDEN,
        ),
        // Dedicated clients belong to the platform, not to partners.
        (
            &tree.admin_a,
            new_tenant(tree.partner_a, "client", "dedicated-here", true),
            StatusCode::FORBIDDEN,
        ),
        // A partner cannot add a partner beside itself: the platform is outside its scope.
        (
            &tree.admin_a,
            new_tenant(tree.platform, "partner", "rival", false),
            StatusCode::NOT_FOUND,
        ),
        // Partners do not nest.
        (
            &tree.root,
            new_tenant(tree.partner_a, "partner", "sub-partner", false),
            StatusCode::FORBIDDEN,
        ),
        // Clients have no children.
        (
            &tree.admin_a,
            new_tenant(tree.client_a, "client", "grandchild", false),
            StatusCode::FORBIDDEN,
        ),
        // Agents do not administer tenants.
        (
            &tree.agent_a,
            new_tenant(tree.partner_a, "client", "by-agent", false),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (token, request, status) in cases {
        let response = app.post("/api/v1/tenants", token, &request).await;
        assert_eq!(response.status(), status, "{request}");
    }
    let all = <entity::tenant::Entity as sea_orm::EntityTrait>::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(all.len(), 7, "only the allowed tenants exist");
}

#[tokio::test]
async fn bad_tenant_fields_are_named() {
    let app = spawn_app().await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let mut taken = new_tenant(platform, "partner", "platform", false);
    assert_problem(
        app.post("/api/v1/tenants", &root, &taken).await,
        StatusCode::CONFLICT,
        "already_exists",
    )
    .await;
    for (field, value) in [
        ("slug", json!("Not A Slug")),
        ("time_zone", json!("Mars/Olympus")),
        ("locales", json!([])),
        ("name", json!("   ")),
    ] {
        taken = new_tenant(platform, "partner", "fine-slug", false);
        taken[field] = value;
        let problem = assert_problem(
            app.post("/api/v1/tenants", &root, &taken).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let mut unknown_kind = new_tenant(platform, "galaxy", "fine-slug", false);
    unknown_kind["kind"] = json!("galaxy");
    assert_problem(
        app.post("/api/v1/tenants", &root, &unknown_kind).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut default_not_listed = new_tenant(platform, "partner", "fine-slug", false);
    default_not_listed["default_locale"] = json!("ar");
    let problem = assert_problem(
        app.post("/api/v1/tenants", &root, &default_not_listed)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "default_locale");
}

#[tokio::test]
async fn each_principal_lists_its_own_subtree_only() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let slugs = |value: serde_json::Value| {
        let mut slugs: Vec<String> = value["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap().to_owned())
            .collect();
        slugs.sort();
        slugs
    };
    assert_eq!(
        slugs(body(app.get("/api/v1/tenants", &tree.admin_a).await).await),
        ["client-a", "partner-a"]
    );
    assert_eq!(
        slugs(body(app.get("/api/v1/tenants", &tree.agent_a).await).await),
        ["client-a", "partner-a"]
    );
    assert_eq!(
        slugs(body(app.get("/api/v1/tenants", &tree.client_admin_a).await).await),
        ["client-a"]
    );
    assert_eq!(
        body(app.get("/api/v1/tenants", &tree.root).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // A client admin sees its own organisation but not its partner.
    let partner = app
        .get(
            &format!("/api/v1/tenants/{}", tree.partner_a),
            &tree.client_admin_a,
        )
        .await;
    assert_problem(partner, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn admins_edit_their_tenants_and_descendants() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let updated = app
        .patch(&format!("/api/v1/tenants/{}", tree.client_a), &tree.admin_a, &json!({"name": "Universidade A", "locales": ["pt", "en"], "default_locale": "pt", "time_zone": "Europe/Lisbon"}))
        .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated = body(updated).await;
    assert_eq!(updated["name"], "Universidade A");
    assert_eq!(updated["locales"], json!(["pt", "en"]));
    assert_eq!(updated["default_locale"], "pt");
    let fetched = body(
        app.get(
            &format!("/api/v1/tenants/{}", tree.client_a),
            &tree.client_admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(fetched["name"], "Universidade A");
    let bad = app
        .patch(
            &format!("/api/v1/tenants/{}", tree.client_a),
            &tree.admin_a,
            &json!({"default_locale": "ar"}),
        )
        .await;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    // A client admin reads but does not administer.
    let denied = app
        .patch(
            &format!("/api/v1/tenants/{}", tree.client_a),
            &tree.client_admin_a,
            &json!({"name": "x"}),
        )
        .await;
    assert_problem(denied, StatusCode::FORBIDDEN, "insufficient_scope").await;
}
