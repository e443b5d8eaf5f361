//! The password policy: long enough is not enough; common and guessable passwords are refused
//! wherever a password is set, with the reason.
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{PASSWORD, ROOT_EMAIL, TestApp, assert_problem, body, fresh_database_url, spawn_app};

/// Asserts a `weak_password` refusal of `field` whose message contains `why`.
async fn assert_weak(response: reqwest::Response, field: &str, why: &str) -> Value {
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "weak_password").await;
    assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("too easy to guess"), "{message}");
    assert!(message.contains(why), "{message}");
    problem
}

async fn users_with_email(app: &TestApp, email: &str) -> u64 {
    entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn creating_a_user_with_a_common_or_personal_password_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let create = |email: &str, password: &str| {
        json!({"tenant_id": platform, "email": email, "name": "Ana Lisboa", "role": "agent",
               "password": password})
    };
    for (password, why) in [
        ("aaaaaaaaaa", "Repeats"),
        ("password123", "common"),
        ("qwertyuiop", "common password"),
        ("zxcvbnm,./", "keys"),
        // Strong for anyone else, but it is the user's own e-mail.
        ("ana.lisboa@helpdesk.example", "Add another word"),
    ] {
        assert_weak(
            app.post(
                "/api/v1/users",
                &root,
                &create("ana.lisboa@helpdesk.example", password),
            )
            .await,
            "password",
            why,
        )
        .await;
    }
    assert_eq!(
        users_with_email(&app, "ana.lisboa@helpdesk.example").await,
        0
    );
    // Someone else may use that text as a password; a strong password passes.
    for (email, password) in [
        ("other@helpdesk.example", "ana.lisboa@helpdesk.example"),
        ("ana.lisboa@helpdesk.example", "tulip sofa ginger vortex"),
    ] {
        let created = app
            .post("/api/v1/users", &root, &create(email, password))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED, "{email}");
    }
}

#[tokio::test]
async fn changing_or_resetting_to_a_weak_password_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let tokens = app.login(ROOT_EMAIL, PASSWORD).await;
    assert_weak(
        app.post(
            "/api/v1/auth/password",
            &tokens.access,
            &json!({"current_password": PASSWORD, "new_password": "1234567890"}),
        )
        .await,
        "new_password",
        "",
    )
    .await;
    // Nothing changed: the session and the old password still work.
    assert_eq!(
        app.get("/api/v1/me", &tokens.access).await.status(),
        StatusCode::OK
    );
    app.login(ROOT_EMAIL, PASSWORD).await;

    let agent = body(app.get("/api/v1/me", &tree.agent_a).await).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issued = app
        .post(
            &format!("/api/v1/users/{agent}/password-reset"),
            &tree.admin_a,
            &json!({}),
        )
        .await;
    let token = body(issued).await["token"].as_str().unwrap().to_owned();
    let reset = |password: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.request(Method::POST, "/api/v1/auth/password-reset", None)
                .json(&json!({"token": token, "new_password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_weak(reset("iloveyou2024").await, "new_password", "common").await;
    // The refusal did not spend the token.
    assert_eq!(
        reset("ginger tulip harbour 7").await.status(),
        StatusCode::NO_CONTENT
    );
    app.login("agent@a.test", "ginger tulip harbour 7").await;
}

#[tokio::test]
async fn a_weak_configured_admin_password_stops_the_first_start_and_writes_nothing() {
    let (database_url, _dir) = fresh_database_url().await;
    let mut settings = api::Settings {
        bind: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        demo: false,
        admin_email: Some("ops@example.org".into()),
        admin_password: Some(secrecy::SecretString::from("password1234")),
        ..api::Settings::default()
    };
    settings.auth.key_encryption_key = tests::key_encryption_key(&database_url);
    let Err(refused) = api::Application::build(settings.clone()).await else {
        panic!("a weak admin password was accepted")
    };
    let message = format!("{refused:#}");
    assert!(message.contains("admin_password"), "{message}");
    assert!(message.contains("too easy to guess"), "{message}");
    assert!(
        !message.contains("password1234"),
        "the password is never shown"
    );
    // Nothing was created, so fixing the setting and starting again works.
    settings.admin_password = Some(secrecy::SecretString::from("harbour ginger tulip 42"));
    let (app, _) = api::Application::build(settings).await.unwrap();
    assert_eq!(
        entity::tenant::Entity::find()
            .count(&app.state().db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn the_command_line_refuses_a_weak_password_too() {
    // `helpdesk user create` stores users through the same function as the API.
    let app = spawn_app().await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let refused = api::users::service::insert_user(
        &app.state,
        platform,
        "cli@example.org",
        "From the CLI",
        tenants::Role::Agent,
        secrecy::SecretString::from("abcdefghij"),
    )
    .await;
    let Err(api::error::ApiError::Validation { code, errors, .. }) = refused else {
        panic!("a weak password was accepted: {refused:?}")
    };
    assert_eq!(code, "weak_password");
    assert_eq!(errors[0].field, "password");
    assert_eq!(users_with_email(&app, "cli@example.org").await, 0);
}
