//! What a new user meets: the demo tree on an empty database, and the operator commands.
use api::Settings;
use api::cli::{Cli, run};
use api::seed::Bootstrap;
use clap::Parser;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::json;
use tests::{body, fresh_database_url};

fn settings(database_url: String) -> Settings {
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url,
        demo: true,
        ..Settings::default()
    };
    settings.auth.key_encryption_key = tests::key_encryption_key(&settings.database_url);
    settings
}

#[tokio::test]
async fn an_empty_database_gets_a_demo_tree_whose_printed_accounts_work() {
    let (database_url, _dir) = fresh_database_url().await;
    let (app, bootstrap) = api::Application::build(settings(database_url.clone()))
        .await
        .unwrap();
    let Bootstrap::Demo(accounts) = bootstrap else {
        panic!("expected the demo tree, got {bootstrap:?}")
    };
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let mut roles = Vec::new();
    let mut tokens = Vec::new();
    for account in &accounts {
        let login = client
            .post(format!("{address}/api/v1/auth/login"))
            .json(&json!({"email": account.email, "password": account.password.expose_secret()}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), StatusCode::OK, "{}", account.email);
        let token = body(login).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me = body(
            client
                .get(format!("{address}/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(me["tenant_slug"], account.tenant.as_str());
        roles.push(me["role"].as_str().unwrap().to_owned());
        tokens.push(token);
        assert!(account.line().contains(account.password.expose_secret()));
    }
    assert_eq!(
        roles,
        ["platform_admin", "tenant_admin", "agent", "client_admin"]
    );
    // The demo's e-mail channels: the platform's general address and the dedicated client's
    // own, which the dedicated client sees alone.
    let addresses = |token: &str| {
        let request = client
            .get(format!("{address}/api/v1/channels"))
            .bearer_auth(token)
            .send();
        async move {
            let mut found: Vec<String> = body(request.await.unwrap()).await["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["email"]["address"].as_str().unwrap().to_owned())
                .collect();
            found.sort();
            found
        }
    };
    assert_eq!(
        addresses(&tokens[0]).await,
        ["support@hse-university.demo", "support@platform.demo"]
    );
    assert_eq!(addresses(&tokens[3]).await, ["support@hse-university.demo"]);

    // A second start on the same database creates nothing more.
    let (_again, bootstrap) = api::Application::build(settings(database_url))
        .await
        .unwrap();
    assert!(matches!(bootstrap, Bootstrap::Existing));
}

#[tokio::test]
async fn operators_provision_tenants_and_keys_and_rotate_signing_keys_from_the_command_line() {
    let (database_url, _dir) = fresh_database_url().await;
    let (app, _) = api::Application::build(settings(database_url.clone()))
        .await
        .unwrap();
    let db = app.state().db.clone();
    let cli =
        |args: &[&str]| Cli::parse_from(std::iter::once("helpdesk").chain(args.iter().copied()));

    run(
        cli(&[
            "tenant",
            "create",
            "--parent",
            "platform",
            "--kind",
            "partner",
            "--slug",
            "partner-latam",
            "--name",
            "LatAm",
            "--locales",
            "es,pt",
            "--time-zone",
            "America/Sao_Paulo",
        ]),
        settings(database_url.clone()),
    )
    .await
    .unwrap();
    let created = entity::tenant::Entity::find()
        .filter(entity::tenant::Column::Slug.eq("partner-latam"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.kind, "partner");
    assert_eq!(created.time_zone, "America/Sao_Paulo");

    // The command line follows the same tree rules as the API.
    let refused = run(
        cli(&[
            "tenant",
            "create",
            "--parent",
            "partner-latam",
            "--kind",
            "partner",
            "--slug",
            "nested",
            "--name",
            "x",
        ]),
        settings(database_url.clone()),
    )
    .await;
    assert!(refused.is_err());

    run(
        cli(&[
            "api-key",
            "create",
            "--tenant",
            "partner-latam",
            "--name",
            "LMS",
            "--scopes",
            "tickets:read,kb:read",
        ]),
        settings(database_url.clone()),
    )
    .await
    .unwrap();
    let key = entity::api_key::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.tenant_id, created.id);
    assert_eq!(key.scopes, json!(["tickets:read", "kb:read"]));

    let before = entity::signing_key::Entity::find()
        .count(&db)
        .await
        .unwrap();
    run(cli(&["keys", "rotate"]), settings(database_url.clone()))
        .await
        .unwrap();
    assert_eq!(
        entity::signing_key::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        before + 1
    );
    run(cli(&["migrate"]), settings(database_url))
        .await
        .unwrap();
}
