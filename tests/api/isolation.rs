//! Every endpoint that takes an id answers 404 for a resource of another tenant, and changes
//! nothing; every list leaves the other tenant's rows out.
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn partner_b_cannot_see_or_touch_anything_of_partner_a() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let users = body(app.get("/api/v1/users?limit=100", &tree.admin_a).await).await;
    let agent_a = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "agent@a.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group_a = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let company_a = body(
        app.post(
            "/api/v1/companies",
            &tree.agent_a,
            &json!({"name": "Uni A"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ticket_a = body(
        app.post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"subject": "Camera", "requester": {"email": "s@uni-a.example"}}),
        )
        .await,
    )
    .await;
    let contact_a = ticket_a["requester_id"].as_str().unwrap().to_owned();
    let ticket_a = ticket_a["id"].as_str().unwrap().to_owned();
    let (key_a, _) = app
        .create_api_key(&tree.admin_a, tree.partner_a, &["tenants:read"])
        .await;
    let (_, key_b_secret) = app
        .create_api_key(&tree.admin_b, tree.partner_b, &["admin"])
        .await;

    let a = tree.partner_a;
    let ca = tree.client_a;
    let user_body = json!({"tenant_id": a, "email": "intruder@b.test", "name": "x", "role": "agent", "password": "long-enough-password"});
    let tenant_body = json!({"parent_id": a, "kind": "client", "slug": "intruder", "name": "x", "locales": ["en"], "time_zone": "UTC"});
    let key_body = json!({"name": "x", "scopes": ["tenants:read"], "tenant_id": a});
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/tenants/{a}"), None),
        (Method::GET, format!("/api/v1/tenants/{ca}"), None),
        (
            Method::PATCH,
            format!("/api/v1/tenants/{ca}"),
            Some(json!({"name": "taken over"})),
        ),
        (
            Method::POST,
            format!("/api/v1/tenants/{ca}/suspend"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/tenants/{ca}/activate"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/tenants/{ca}/branding"), None),
        (
            Method::PUT,
            format!("/api/v1/tenants/{ca}/branding"),
            Some(json!({"display_name": "taken over"})),
        ),
        (Method::POST, "/api/v1/tenants".into(), Some(tenant_body)),
        (Method::GET, format!("/api/v1/users/{agent_a}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{agent_a}"),
            Some(json!({"name": "taken over"})),
        ),
        (Method::DELETE, format!("/api/v1/users/{agent_a}"), None),
        (
            Method::POST,
            format!("/api/v1/users/{agent_a}/password-reset"),
            Some(json!({})),
        ),
        (Method::POST, "/api/v1/users".into(), Some(user_body)),
        (Method::GET, format!("/api/v1/groups/{group_a}"), None),
        (
            Method::PATCH,
            format!("/api/v1/groups/{group_a}"),
            Some(json!({"name": "taken over"})),
        ),
        (Method::DELETE, format!("/api/v1/groups/{group_a}"), None),
        (
            Method::POST,
            "/api/v1/groups".into(),
            Some(json!({"tenant_id": a, "name": "x", "kind": "team"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/users/{agent_a}/groups"),
            Some(json!({"group_ids": []})),
        ),
        (Method::GET, format!("/api/v1/companies/{company_a}"), None),
        (
            Method::PATCH,
            format!("/api/v1/companies/{company_a}"),
            Some(json!({"name": "taken over"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/companies/{company_a}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/companies".into(),
            Some(json!({"tenant_id": a, "name": "x"})),
        ),
        (Method::GET, format!("/api/v1/contacts/{contact_a}"), None),
        (
            Method::PATCH,
            format!("/api/v1/contacts/{contact_a}"),
            Some(json!({"name": "taken over"})),
        ),
        (
            Method::POST,
            "/api/v1/contacts".into(),
            Some(json!({"tenant_id": a, "email": "x@y.example"})),
        ),
        (
            Method::POST,
            format!("/api/v1/contacts/{contact_a}/merge"),
            Some(json!({"secondary_ids": [uuid::Uuid::now_v7()]})),
        ),
        (
            Method::GET,
            format!("/api/v1/contacts/{contact_a}/export"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/contacts/{contact_a}/erase"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/tickets/{ticket_a}"), None),
        (
            Method::PATCH,
            format!("/api/v1/tickets/{ticket_a}"),
            Some(json!({"status": "closed"})),
        ),
        (
            Method::POST,
            format!("/api/v1/tickets/{ticket_a}/replies"),
            Some(json!({"body": "hijack"})),
        ),
        (
            Method::POST,
            format!("/api/v1/tickets/{ticket_a}/notes"),
            Some(json!({"body": "hijack"})),
        ),
        (
            Method::GET,
            format!("/api/v1/tickets/{ticket_a}/conversation"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/tickets/{ticket_a}/activities"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/tickets".into(),
            Some(json!({"tenant_id": a, "subject": "x", "requester": {"email": "x@y.example"}})),
        ),
        (Method::GET, format!("/api/v1/api-keys/{key_a}"), None),
        (Method::DELETE, format!("/api/v1/api-keys/{key_a}"), None),
        (Method::POST, "/api/v1/api-keys".into(), Some(key_body)),
    ];
    for credential in [tree.admin_b.clone(), key_b_secret] {
        for (method, path, json) in &cases {
            let mut request = app.request(method.clone(), path, Some(&credential));
            if let Some(json) = json {
                request = request.json(json);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
            assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
        }
    }

    // Nothing of A changed.
    let client = body(
        app.get(&format!("/api/v1/tenants/{ca}"), &tree.admin_a)
            .await,
    )
    .await;
    assert_eq!(client["name"], "client-a");
    assert_eq!(client["status"], "active");
    let agent = body(
        app.get(&format!("/api/v1/users/{agent_a}"), &tree.admin_a)
            .await,
    )
    .await;
    assert_eq!(agent["status"], "active");
    assert_eq!(agent["name"], "agent@a.test");
    let ticket = body(
        app.get(&format!("/api/v1/tickets/{ticket_a}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(ticket["status"], "open");
    assert_eq!(
        ticket["version"], 1,
        "no reply, note or edit reached the ticket"
    );
    let company = body(
        app.get(&format!("/api/v1/companies/{company_a}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(company["name"], "Uni A");
    let group = body(
        app.get(&format!("/api/v1/groups/{group_a}"), &tree.admin_a)
            .await,
    )
    .await;
    assert_eq!(group["name"], "L1");
    let key = body(
        app.get(&format!("/api/v1/api-keys/{key_a}"), &tree.admin_a)
            .await,
    )
    .await;
    assert!(key["revoked_at"].is_null());
    assert_eq!(
        app.get("/api/v1/me", &tree.agent_a).await.status(),
        StatusCode::OK
    );

    // And B's lists do not mention A.
    for path in [
        "/api/v1/tenants",
        "/api/v1/users",
        "/api/v1/api-keys",
        "/api/v1/groups",
        "/api/v1/companies",
        "/api/v1/contacts",
        "/api/v1/tickets",
    ] {
        let listed = body(app.get(path, &tree.admin_b).await).await.to_string();
        assert!(!listed.contains(&a.to_string()), "{path} leaks partner A");
        assert!(!listed.contains(&ca.to_string()), "{path} leaks client A");
    }
}

#[tokio::test]
async fn a_client_admin_cannot_reach_its_partner_or_sibling_clients() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let sibling = app
        .create_tenant(&tree.admin_a, tree.partner_a, "client", "client-a2", false)
        .await;
    for path in [
        format!("/api/v1/tenants/{}", tree.partner_a),
        format!("/api/v1/tenants/{sibling}"),
        format!("/api/v1/tenants/{sibling}/branding"),
        format!("/api/v1/tenants/{}", tree.dedicated),
    ] {
        assert_problem(
            app.get(&path, &tree.client_admin_a).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // The parent platform does not read the partner's clients' data through a partner token,
    // but the platform admin does see the whole tree it owns.
    assert_eq!(
        app.get(&format!("/api/v1/tenants/{sibling}"), &tree.root)
            .await
            .status(),
        StatusCode::OK
    );
    assert_problem(
        app.get(
            &format!("/api/v1/tenants/{}", tree.partner_b),
            &tree.admin_a,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_platform_creates_no_support_data_in_a_partners_tenants() {
    // The platform administers its partners (tenants, users, groups) but does not work their
    // tickets: it may not put contacts, companies or ticket fields into a partner or a
    // partner's client, which it could not even read back. Its own dedicated client it works.
    let app = spawn_app().await;
    let tree = app.tree().await;
    let requests = |tenant: uuid::Uuid, n: usize| {
        [
            (
                "/api/v1/contacts",
                json!({"tenant_id": tenant, "email": format!("planted{n}@example.com")}),
            ),
            (
                "/api/v1/companies",
                json!({"tenant_id": tenant, "name": format!("Planted {n}")}),
            ),
            (
                "/api/v1/ticket-fields",
                json!({"tenant_id": tenant, "key": format!("planted_{n}"), "label": "Planted",
                       "field_type": "text"}),
            ),
        ]
    };
    for (n, tenant) in [tree.partner_a, tree.client_a, tree.partner_b]
        .into_iter()
        .enumerate()
    {
        for (path, request) in requests(tenant, n) {
            assert_problem(
                app.post(path, &tree.root, &request).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }
    }
    for (path, request) in requests(tree.dedicated, 9) {
        let response = app.post(path, &tree.root, &request).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    }
    // A partner still creates them in its own client.
    for (path, request) in requests(tree.client_a, 7) {
        let response = app.post(path, &tree.admin_a, &request).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{path}");
    }
    // Nothing was planted in the partners' tenants.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    for tenant in [tree.partner_a, tree.partner_b] {
        let contacts = entity::contact::Entity::find()
            .filter(entity::contact::Column::TenantId.eq(tenant))
            .filter(entity::contact::Column::Email.like("planted%"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(contacts, 0);
    }
}
