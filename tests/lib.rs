//! Test harness: each test gets the real server on port 0 with a fresh database (a temporary
//! SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set) and, when
//! `TEST_REDIS_URL` is set, real Redis under a key prefix of its own.
#![allow(clippy::disallowed_methods)] // tests read the database directly to check what was written
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up step should stop the test loudly

pub mod stand_ins;

use api::Settings;
use reqwest::{Method, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

/// Password of every user the fixtures create.
pub const PASSWORD: &str = "correct-horse-battery";
/// The platform admin every test app starts with.
pub const ROOT_EMAIL: &str = "root@platform.test";

/// The key-encryption key of test servers on PostgreSQL; on SQLite none is configured, so the
/// server generates one in the key file beside the temporary database.
pub fn key_encryption_key(database_url: &str) -> Option<SecretString> {
    database_url
        .starts_with("postgres")
        .then(|| SecretString::from("dGVzdCBrZXktZW5jcnlwdGlvbiBrZXksIDMyIGJ5dGU="))
}

/// A running server and what a test needs to drive and inspect it.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The server's database, for checking what was written.
    pub db: DatabaseConnection,
    /// The server's state (cache, settings, keys).
    pub state: api::state::AppState,
    _dir: Option<tempfile::TempDir>,
    _files: Option<tempfile::TempDir>,
}

/// An access and refresh token pair.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// JWT.
    pub access: String,
    /// Opaque refresh token.
    pub refresh: String,
}

/// Spawns the app with default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A fresh, empty database: a temporary SQLite file (kept while the returned directory lives),
/// or a new PostgreSQL database when `TEST_DATABASE_URL` is set.
pub async fn fresh_database_url() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("helpdesk_test_{}", Uuid::new_v4().simple());
            let admin = Database::connect(base.clone())
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL ends with /database");
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (url, Some(dir))
        }
    }
}

/// Spawns the app after letting the test adjust the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (database_url, dir) = fresh_database_url().await;
    let files = tempfile::tempdir().expect("temp dir for attachments");
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url,
        database_max_connections: 8,
        demo: false,
        admin_email: Some(ROOT_EMAIL.into()),
        admin_password: Some(SecretString::from(PASSWORD)),
        ..Settings::default()
    };
    // Side by side, so counting attachment files never counts a written mail.
    settings.attachments.dir = Some(files.path().join("attachments").display().to_string());
    settings.delivery.mail_dir = Some(files.path().join("outgoing-mail").display().to_string());
    settings.auth.key_encryption_key = key_encryption_key(&settings.database_url);
    if let Ok(url) = std::env::var("TEST_REDIS_URL")
        && !url.is_empty()
    {
        settings.redis_url = Some(url);
        settings.redis_prefix = format!("test:{}:", Uuid::new_v4().simple());
    }
    configure(&mut settings);
    let (app, _) = api::Application::build(settings).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db: state.db.clone(),
        state,
        _dir: dir,
        _files: Some(files),
    }
}

/// Reads a JSON body, failing the test with the raw text when it is not JSON.
pub async fn body(response: Response) -> Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts a problem+json answer with this status and code; returns the problem.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let problem = body(response).await;
    assert_eq!(problem["code"], code, "problem: {problem}");
    assert_eq!(problem["status"], status.as_u16());
    assert_eq!(problem["type"], format!("/problems/{code}"));
    problem
}

impl TestApp {
    /// Waits until the durable readers of the event log have handled every entry written so
    /// far (flow-back from linked tickets happens in the background, after the change commits).
    pub async fn settled(&self) {
        use sea_orm::EntityTrait;
        for _ in 0..400 {
            // The position first, the head after: a batch's effects (and the entries they
            // append) commit with its position, so a head read later that the position covers
            // means nothing was left to handle.
            let row = entity::work_lease::Entity::find_by_id("flow_back")
                .one(&self.db)
                .await
                .unwrap();
            let head = api::events::log::head(&self.db).await.unwrap();
            if row.is_some_and(|row| row.position >= head) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the event log's readers did not catch up");
    }

    /// The server's `/metrics` text (answered 200).
    pub async fn metrics(&self) -> String {
        let response = self
            .request(Method::GET, "/metrics", None)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// A request to `path` with an optional bearer token.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{}", self.address, path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// GET with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// POST JSON with a bearer token.
    pub async fn post(&self, path: &str, token: &str, json: &Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(json)
            .send()
            .await
            .unwrap()
    }

    /// PATCH JSON with a bearer token.
    pub async fn patch(&self, path: &str, token: &str, json: &Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .json(json)
            .send()
            .await
            .unwrap()
    }

    /// PUT JSON with a bearer token.
    pub async fn put(&self, path: &str, token: &str, json: &Value) -> Response {
        self.request(Method::PUT, path, Some(token))
            .json(json)
            .send()
            .await
            .unwrap()
    }

    /// DELETE with a bearer token.
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap()
    }

    /// The directory this app keeps attachment files in.
    pub fn attachments_dir(&self) -> std::path::PathBuf {
        self.state
            .settings
            .attachments
            .resolved_dir(&self.state.settings.database_url)
    }

    /// A second API node on the same database and Redis (same settings, another port).
    pub async fn second_node(&self) -> TestApp {
        self.second_node_with(|_| {}).await
    }

    /// A second API node on the same database and Redis, with adjusted settings.
    pub async fn second_node_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = (*self.state.settings).clone();
        configure(&mut settings);
        let (app, _) = api::Application::build(settings)
            .await
            .expect("build second node");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: self.client.clone(),
            db: state.db.clone(),
            state,
            _dir: None,
            _files: None,
        }
    }

    /// The raw login answer.
    pub async fn try_login(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Logs in, failing the test unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Tokens {
        let response = self.try_login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        let tokens = body(response).await;
        Tokens {
            access: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The platform admin's access token.
    pub async fn root(&self) -> String {
        self.login(ROOT_EMAIL, PASSWORD).await.access
    }

    /// The platform tenant's id.
    pub async fn platform_id(&self, token: &str) -> Uuid {
        let me = body(self.get("/api/v1/me", token).await).await;
        me["tenant_id"].as_str().unwrap().parse().unwrap()
    }

    /// Creates a tenant, failing the test unless it succeeds.
    pub async fn create_tenant(
        &self,
        token: &str,
        parent: Uuid,
        kind: &str,
        slug: &str,
        dedicated: bool,
    ) -> Uuid {
        let response = self
            .post(
                "/api/v1/tenants",
                token,
                &json!({"parent_id": parent, "kind": kind, "slug": slug, "name": slug, "dedicated": dedicated,
                        "locales": ["en", "ru"], "time_zone": "Europe/Lisbon"}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "create tenant {slug}"
        );
        body(response).await["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Creates a user with [`PASSWORD`], failing the test unless it succeeds.
    pub async fn create_user(&self, token: &str, tenant: Uuid, email: &str, role: &str) -> Uuid {
        let response = self
            .post(
                "/api/v1/users",
                token,
                &json!({"tenant_id": tenant, "email": email, "name": email, "role": role, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "create user {email}"
        );
        body(response).await["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Creates an API key, returning its id and secret.
    pub async fn create_api_key(
        &self,
        token: &str,
        tenant: Uuid,
        scopes: &[&str],
    ) -> (Uuid, String) {
        let response = self
            .post(
                "/api/v1/api-keys",
                token,
                &json!({"name": "integration", "scopes": scopes, "tenant_id": tenant}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create API key");
        let key = body(response).await;
        (
            key["id"].as_str().unwrap().parse().unwrap(),
            key["secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Builds the standard tree: the platform, two partners each with a client, a dedicated
    /// client, and an admin and an agent in each partner plus a client admin in each client.
    pub async fn tree(&self) -> Tree {
        let root = self.root().await;
        let platform = self.platform_id(&root).await;
        let partner_a = self
            .create_tenant(&root, platform, "partner", "partner-a", false)
            .await;
        let partner_b = self
            .create_tenant(&root, platform, "partner", "partner-b", false)
            .await;
        let dedicated = self
            .create_tenant(&root, platform, "client", "dedicated-d", true)
            .await;
        self.create_user(&root, partner_a, "admin@a.test", "tenant_admin")
            .await;
        self.create_user(&root, partner_b, "admin@b.test", "tenant_admin")
            .await;
        self.create_user(&root, partner_a, "agent@a.test", "agent")
            .await;
        let admin_a = self.login("admin@a.test", PASSWORD).await.access;
        let admin_b = self.login("admin@b.test", PASSWORD).await.access;
        let agent_a = self.login("agent@a.test", PASSWORD).await.access;
        let client_a = self
            .create_tenant(&admin_a, partner_a, "client", "client-a", false)
            .await;
        let client_b = self
            .create_tenant(&admin_b, partner_b, "client", "client-b", false)
            .await;
        self.create_user(&admin_a, client_a, "staff@client-a.test", "client_admin")
            .await;
        let client_admin_a = self.login("staff@client-a.test", PASSWORD).await.access;
        Tree {
            root,
            platform,
            partner_a,
            partner_b,
            client_a,
            client_b,
            dedicated,
            admin_a,
            admin_b,
            agent_a,
            client_admin_a,
        }
    }
}

/// The standard tenant tree of [`TestApp::tree`].
pub struct Tree {
    /// Platform admin token.
    pub root: String,
    /// Platform tenant.
    pub platform: Uuid,
    /// Partner A.
    pub partner_a: Uuid,
    /// Partner B.
    pub partner_b: Uuid,
    /// Partner A's client.
    pub client_a: Uuid,
    /// Partner B's client.
    pub client_b: Uuid,
    /// The platform's dedicated client.
    pub dedicated: Uuid,
    /// Partner A's admin token.
    pub admin_a: String,
    /// Partner B's admin token.
    pub admin_b: String,
    /// Partner A's agent token.
    pub agent_a: String,
    /// Client A's client-admin token.
    pub client_admin_a: String,
}
