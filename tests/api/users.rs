use reqwest::StatusCode;
use serde_json::json;
use tests::{PASSWORD, assert_problem, body, spawn_app};

#[tokio::test]
async fn admins_create_users_in_their_subtree_with_fitting_roles() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let create = |tenant: uuid::Uuid, email: &str, role: &str| json!({"tenant_id": tenant, "email": email, "name": "New Person", "role": role, "password": PASSWORD});
    let created = app
        .post(
            "/api/v1/users",
            &tree.admin_a,
            &create(tree.client_a, "Lead@Client-A.test", "client_admin"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    assert_eq!(
        created["email"], "lead@client-a.test",
        "e-mails are stored lower-cased"
    );
    assert_eq!(created["status"], "active");
    assert!(created.get("password_hash").is_none());
    let stored = <entity::user::Entity as sea_orm::EntityTrait>::find_by_id(
        created["id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .unwrap(),
    )
    .one(&app.db)
    .await
    .unwrap()
    .unwrap();
    assert!(
        stored
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored.password_hash
    );

    let cases = [
        (
            &tree.admin_a,
            create(tree.partner_b, "x@b.test", "agent"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &tree.admin_a,
            create(tree.partner_a, "x@a.test", "client_admin"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &tree.admin_a,
            create(tree.partner_a, "x@a.test", "platform_admin"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &tree.admin_a,
            create(tree.partner_a, "agent@a.test", "agent"),
            StatusCode::CONFLICT,
            "email_taken",
        ),
        (
            &tree.admin_a,
            create(tree.partner_a, "not-an-email", "agent"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &tree.agent_a,
            create(tree.partner_a, "y@a.test", "agent"),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
        ),
    ];
    for (token, request, status, code) in cases {
        assert_problem(
            app.post("/api/v1/users", token, &request).await,
            status,
            code,
        )
        .await;
    }
    let mut weak = create(tree.partner_a, "weak@a.test", "agent");
    weak["password"] = json!("123");
    let problem = assert_problem(
        app.post("/api/v1/users", &tree.admin_a, &weak).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "password");
    // The same e-mail may exist in another tenant.
    assert_eq!(
        app.post(
            "/api/v1/users",
            &tree.admin_b,
            &create(tree.partner_b, "agent@a.test", "agent")
        )
        .await
        .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn user_lists_follow_the_scope() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let emails = |value: serde_json::Value| {
        let mut emails: Vec<String> = value["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect();
        emails.sort();
        emails
    };
    assert_eq!(
        emails(body(app.get("/api/v1/users", &tree.admin_a).await).await),
        ["admin@a.test", "agent@a.test", "staff@client-a.test"]
    );
    assert_eq!(
        emails(body(app.get("/api/v1/users", &tree.client_admin_a).await).await),
        ["staff@client-a.test"]
    );
    assert_eq!(
        emails(
            body(
                app.get(
                    &format!("/api/v1/users?tenant_id={}", tree.client_a),
                    &tree.admin_a
                )
                .await
            )
            .await
        ),
        ["staff@client-a.test"]
    );
    assert_eq!(
        emails(
            body(
                app.get(
                    &format!("/api/v1/users?tenant_id={}", tree.partner_b),
                    &tree.admin_a
                )
                .await
            )
            .await
        ),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_role_change_applies_at_once_and_nobody_demotes_themselves() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let users = body(app.get("/api/v1/users?limit=100", &tree.admin_a).await).await;
    let find = |email: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let agent = find("agent@a.test");
    let admin = find("admin@a.test");
    let promoted = app
        .patch(
            &format!("/api/v1/users/{agent}"),
            &tree.admin_a,
            &json!({"role": "supervisor", "name": "Senior Agent"}),
        )
        .await;
    assert_eq!(promoted.status(), StatusCode::OK);
    let promoted = body(promoted).await;
    assert_eq!(promoted["role"], "supervisor");
    assert_eq!(promoted["name"], "Senior Agent");
    assert_problem(
        app.get("/api/v1/me", &tree.agent_a).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    let fresh = app.login("agent@a.test", PASSWORD).await;
    assert_eq!(
        body(app.get("/api/v1/me", &fresh.access).await).await["role"],
        "supervisor"
    );

    let self_demote = app
        .patch(
            &format!("/api/v1/users/{admin}"),
            &tree.admin_a,
            &json!({"role": "agent"}),
        )
        .await;
    assert_problem(self_demote, StatusCode::FORBIDDEN, "forbidden").await;
    let self_remove = app
        .delete(&format!("/api/v1/users/{admin}"), &tree.admin_a)
        .await;
    assert_problem(self_remove, StatusCode::FORBIDDEN, "forbidden").await;

    // Deactivated, then reactivated: the user can sign in again.
    assert_eq!(
        app.delete(&format!("/api/v1/users/{agent}"), &tree.admin_a)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let fetched = body(
        app.get(&format!("/api/v1/users/{agent}"), &tree.admin_a)
            .await,
    )
    .await;
    assert_eq!(fetched["status"], "deactivated");
    assert!(fetched["deactivated_at"].is_string());
    let back = app
        .patch(
            &format!("/api/v1/users/{agent}"),
            &tree.admin_a,
            &json!({"active": true}),
        )
        .await;
    assert_eq!(body(back).await["status"], "active");
    app.login("agent@a.test", PASSWORD).await;
}
