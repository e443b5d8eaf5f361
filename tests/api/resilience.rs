//! With Redis or PostgreSQL down, the service answers fast and says why: requests that need
//! the missing dependency get 503 `dependency_unavailable` with `Retry-After` within a second,
//! `/ready` names what is down, `/health` stays 200, writes that do not need Redis commit, and
//! everything recovers when the dependency is back. Each test runs its own `redis-server` and,
//! for PostgreSQL, its own throwaway cluster (never the shared one), and stops them itself.
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use tests::stand_ins::{OwnPostgres, OwnRedis};
use tests::{PASSWORD, ROOT_EMAIL, TestApp, assert_problem, body, spawn_app_with};

/// The promise: an answer within a second, never a hang.
const PROMPT: Duration = Duration::from_secs(1);

/// Sends a request and checks it was answered within [`PROMPT`].
async fn promptly(request: reqwest::RequestBuilder, what: &str) -> Response {
    let started = Instant::now();
    let response = request.send().await.unwrap();
    let took = started.elapsed();
    assert!(took < PROMPT, "{what} took {took:?}");
    response
}

/// Asserts a prompt 503 `dependency_unavailable` with `Retry-After`.
async fn assert_unavailable(request: reqwest::RequestBuilder, what: &str) {
    let response = promptly(request, what).await;
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{what}");
    assert_problem(
        response,
        StatusCode::SERVICE_UNAVAILABLE,
        "dependency_unavailable",
    )
    .await;
}

/// Asserts `/ready` answers 503 promptly and names `dependency` as down, with `/health` 200.
async fn assert_not_ready(address: &str, dependency: &str) {
    let client = reqwest::Client::new();
    let health = promptly(client.get(format!("{address}/health")), "/health").await;
    assert_eq!(health.status(), StatusCode::OK);
    let ready = promptly(client.get(format!("{address}/ready")), "/ready").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report = body(ready).await;
    assert_eq!(report["status"], "unavailable");
    assert!(
        report["down"]
            .as_array()
            .is_some_and(|down| down.iter().any(|d| d == dependency)),
        "/ready does not name {dependency}: {report}"
    );
}

/// Polls `check` every 50 ms until it holds or `within` has passed.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn is_ready(address: &str) -> bool {
    reqwest::get(format!("{address}/ready"))
        .await
        .is_ok_and(|response| response.status() == StatusCode::OK)
}

fn new_ticket(subject: &str) -> Value {
    json!({"subject": subject, "requester": {"email": "student@uni.example"}})
}

fn with_own_redis(settings: &mut api::Settings, redis: &OwnRedis) {
    settings.redis_url = Some(redis.url());
    settings.redis_prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
}

#[tokio::test]
async fn with_redis_down_requests_answer_at_once_and_writes_commit() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let app = spawn_app_with(|s| {
        with_own_redis(s, &redis);
        s.auth.login_per_minute = 4;
    })
    .await;
    let root = app.root().await;
    let keyed = |key: &str, subject: &str| {
        app.request(Method::POST, "/api/v1/tickets", Some(&root))
            .header("idempotency-key", key)
            .json(&new_ticket(subject))
    };
    assert_eq!(
        keyed("before", "Before the outage")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let spare = app.login(ROOT_EMAIL, PASSWORD).await.access;

    redis.stop();
    assert_not_ready(&app.address, "redis").await;
    // Revocations are checked against this node's copy: signed-in requests go on.
    let me = promptly(
        app.request(Method::GET, "/api/v1/me", Some(&root)),
        "GET /me",
    )
    .await;
    assert_eq!(me.status(), StatusCode::OK);
    // A write commits; its event waits for the bus, the request does not.
    let created = promptly(
        app.request(Method::POST, "/api/v1/tickets", Some(&root))
            .json(&new_ticket("During the outage")),
        "POST /tickets",
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = body(created).await["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{id}"), &root)
            .await
            .status(),
        StatusCode::OK
    );
    // Idempotency records are shared between nodes through Redis: refused, not guessed.
    assert_unavailable(
        keyed("during", "Keyed"),
        "POST /tickets with Idempotency-Key",
    )
    .await;
    // Login limits are counted on this node meanwhile (the logins above went to Redis).
    for _ in 0..4 {
        let login = promptly(
            app.request(Method::POST, "/api/v1/auth/login", None)
                .json(&json!({"email": ROOT_EMAIL, "password": PASSWORD})),
            "login",
        )
        .await;
        assert_eq!(login.status(), StatusCode::OK);
    }
    assert_problem(
        app.try_login(ROOT_EMAIL, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // A logout takes effect on this node at once.
    assert_eq!(
        app.post("/api/v1/auth/logout", &spare, &json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        app.get("/api/v1/me", &spare).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;

    redis.resume();
    eventually(Duration::from_secs(5), "ready again", || {
        is_ready(&app.address)
    })
    .await;
    // (This Redis keeps nothing on disk: the records from before the outage are gone.)
    assert_eq!(
        keyed("after", "After the outage")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn revocations_reach_other_nodes_over_the_bus_and_without_it_through_the_database() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let first = spawn_app_with(|s| {
        with_own_redis(s, &redis);
        s.auth.revocation_sync_secs = 1;
    })
    .await;
    let second = first.second_node().await;
    let over_bus = first.login(ROOT_EMAIL, PASSWORD).await.access;
    let over_database = first.login(ROOT_EMAIL, PASSWORD).await.access;
    let untouched = first.login(ROOT_EMAIL, PASSWORD).await.access;
    let refused = |token: String| {
        let second = &second;
        async move { second.get("/api/v1/me", &token).await.status() == StatusCode::UNAUTHORIZED }
    };

    assert_eq!(
        first
            .post("/api/v1/auth/logout", &over_bus, &json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    eventually(
        Duration::from_millis(500),
        "the bus brings the logout",
        || refused(over_bus.clone()),
    )
    .await;

    redis.stop();
    assert_eq!(
        first
            .post("/api/v1/auth/logout", &over_database, &json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // The other node re-reads the revocations from the database every second.
    eventually(
        Duration::from_secs(4),
        "the database brings the logout",
        || refused(over_database.clone()),
    )
    .await;
    assert_eq!(
        second.get("/api/v1/me", &untouched).await.status(),
        StatusCode::OK
    );
}

/// An app on the throwaway cluster `pg` and its own Redis, with a deny-list that may be at
/// most two seconds old.
async fn app_on(pg: &OwnPostgres, redis: &OwnRedis) -> TestApp {
    let url = pg.url();
    spawn_app_with(|s| {
        s.database_url = url.clone();
        s.auth.key_encryption_key = tests::key_encryption_key(&url);
        with_own_redis(s, redis);
        s.auth.revocation_sync_secs = 1;
        s.auth.revocation_max_age_secs = 2;
    })
    .await
}

#[tokio::test]
async fn with_postgres_down_requests_answer_503_at_once_and_writes_resume_when_it_is_back() {
    let (Some(pg), Some(redis)) = (OwnPostgres::create(), OwnRedis::start()) else {
        return;
    };
    pg.start();
    let app = app_on(&pg, &redis).await;
    let root = app.root().await;
    assert_eq!(
        app.post("/api/v1/tickets", &root, &new_ticket("Before"))
            .await
            .status(),
        StatusCode::CREATED
    );

    pg.stop();
    assert_not_ready(&app.address, "database").await;
    assert_unavailable(
        app.request(Method::POST, "/api/v1/tickets", Some(&root))
            .json(&new_ticket("During")),
        "POST /tickets",
    )
    .await;
    assert_unavailable(
        app.request(Method::GET, "/api/v1/tickets", Some(&root)),
        "GET /tickets",
    )
    .await;
    assert_unavailable(
        app.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"email": ROOT_EMAIL, "password": PASSWORD})),
        "login",
    )
    .await;
    // The deny-list cannot be re-read: once it is older than allowed, requests fail closed.
    eventually(Duration::from_secs(5), "/me fails closed", || async {
        app.get("/api/v1/me", &root).await.status() == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    assert_unavailable(
        app.request(Method::GET, "/api/v1/me", Some(&root)),
        "GET /me",
    )
    .await;

    pg.start();
    eventually(Duration::from_secs(5), "ready again", || {
        is_ready(&app.address)
    })
    .await;
    eventually(Duration::from_secs(3), "/me again", || async {
        app.get("/api/v1/me", &root).await.status() == StatusCode::OK
    })
    .await;
    assert_eq!(
        app.post("/api/v1/tickets", &root, &new_ticket("After"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let listed = body(app.get("/api/v1/tickets", &root).await).await;
    let subjects: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"Before") && subjects.contains(&"After"));
    assert!(!subjects.contains(&"During"));
}

fn settings_on(pg: &OwnPostgres, files: &Path) -> api::Settings {
    let mut settings = api::Settings {
        bind: "127.0.0.1:0".into(),
        database_url: pg.url(),
        database_max_connections: 4,
        demo: false,
        admin_email: Some(ROOT_EMAIL.into()),
        admin_password: Some(secrecy::SecretString::from(PASSWORD)),
        ..api::Settings::default()
    };
    settings.attachments.dir = Some(files.display().to_string());
    settings.auth.key_encryption_key = tests::key_encryption_key(&settings.database_url);
    settings
}

#[tokio::test]
async fn a_node_started_while_postgres_is_down_serves_health_and_becomes_ready_when_it_is_up() {
    let Some(pg) = OwnPostgres::create() else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    // With a limit, a node gives up when the database stays away.
    let mut limited = settings_on(&pg, files.path());
    limited.dependencies.database_start_limit_secs = Some(1);
    let started = Instant::now();
    let gave_up = api::Application::start(limited)
        .await
        .unwrap()
        .ready()
        .await;
    assert!(gave_up.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));

    let starting = api::Application::start(settings_on(&pg, files.path()))
        .await
        .unwrap();
    let port = starting.port();
    let address = format!("http://127.0.0.1:{port}");
    assert_not_ready(&address, "database").await;
    assert_unavailable(
        reqwest::Client::new()
            .post(format!("{address}/api/v1/auth/login"))
            .json(&json!({"email": ROOT_EMAIL, "password": PASSWORD})),
        "login before the database",
    )
    .await;

    pg.start();
    let (app, _) = tokio::time::timeout(Duration::from_secs(10), starting.ready())
        .await
        .expect("ready once the database is up")
        .unwrap();
    assert_eq!(app.port(), port);
    tokio::spawn(app.run_until_stopped());
    eventually(Duration::from_secs(5), "ready", || is_ready(&address)).await;
    let login = reqwest::Client::new()
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"email": ROOT_EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
}
