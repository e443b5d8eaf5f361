//! The HTTP edge: what every answer carries, whatever a caller sends. Metrics labels from closed
//! sets, 405 for a known path with another method, security headers, CORS, the request log and
//! the bound on event streams.
use crate::events::subscribe;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tests::{TestApp, assert_problem, body, spawn_app, spawn_app_with};
use uuid::Uuid;

/// A method token nobody registered: letters only, as HTTP allows, different each call.
fn made_up_method() -> Method {
    let token: String = Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                'Q'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    Method::from_bytes(format!("X{token}").as_bytes()).unwrap()
}

/// Sends `count` requests with made-up methods to known and unknown paths; returns the tokens.
async fn probe_with_made_up_methods(app: &TestApp, count: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..count {
        let method = made_up_method();
        tokens.push(method.as_str().to_owned());
        let path = match i % 4 {
            0 => "/api/v1/tickets".to_owned(),
            1 => "/health".to_owned(),
            2 => format!("/api/v1/tickets/{}", Uuid::new_v4()),
            _ => format!("/nothing/{}", Uuid::new_v4()),
        };
        let response = app.request(method, &path, None).send().await.unwrap();
        assert!(
            matches!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
            ),
            "{path}: {}",
            response.status()
        );
    }
    tokens
}

#[tokio::test]
async fn made_up_methods_and_paths_add_no_metrics_series() {
    let app = spawn_app().await;
    app.metrics().await; // so that `/metrics` itself is among the series before comparing
    let first = probe_with_made_up_methods(&app, 200).await;
    let after_first = app.metrics().await;
    let second = probe_with_made_up_methods(&app, 200).await;
    let after_second = app.metrics().await;

    for token in first.iter().chain(&second) {
        assert!(
            !after_second.contains(token.as_str()),
            "{token} became a label"
        );
    }
    assert!(
        !after_second.contains("/nothing/"),
        "a raw path became a label"
    );
    // Another 200 new tokens and paths add no series: the same lines, only counts change.
    assert_eq!(
        after_first.lines().count(),
        after_second.lines().count(),
        "{after_second}"
    );
    assert!(
        after_second.len() < 64 * 1024,
        "{} bytes",
        after_second.len()
    );
    assert!(
        after_second.contains(
            r#"helpdesk_http_requests_total{endpoint="/api/v1/tickets",method="other",status="405"} 100"#
        ),
        "{after_second}"
    );
    assert!(after_second.contains(r#"endpoint="unmatched",method="other",status="404""#));
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_naming_its_methods() {
    let app = spawn_app().await;
    let response = app
        .request(Method::from_bytes(b"FOO").unwrap(), "/api/v1/tickets", None)
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    let problem = assert_problem(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    assert_eq!(allow, "GET, HEAD, POST");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("GET, HEAD, POST")
    );

    let response = app
        .request(Method::DELETE, "/api/v1/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, HEAD");

    let ticket = format!("/api/v1/tickets/{}", Uuid::new_v4());
    let response = app
        .request(Method::PUT, &ticket, None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");

    let response = app
        .request(Method::from_bytes(b"FOO").unwrap(), "/api/v1/nothing", None)
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn every_answer_forbids_sniffing_framing_and_referrers() {
    let app = spawn_app().await;
    let token = app.root().await;
    let cases = [
        (Method::GET, "/health", None),
        (Method::GET, "/api/v1/me", Some(token.as_str())),
        (Method::GET, "/api/v1/me", None),
        (Method::GET, "/api/v1/nothing", None),
        (Method::from_bytes(b"FOO").unwrap(), "/api/v1/tickets", None),
        (Method::GET, "/openapi.json", None),
    ];
    for (method, path, token) in cases {
        let response = app.request(method, path, token).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(
            header(headers, "x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(headers, "referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(header(headers, "x-frame-options"), Some("DENY"), "{path}");
        let csp = header(headers, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn head_answers_wherever_get_does_with_its_headers_and_no_body() {
    let app = spawn_app().await;
    let token = app.root().await;
    let get = app.get("/api/v1/me", &token).await;
    let length = header(get.headers(), "content-length").map(str::to_owned);
    let head = app
        .request(Method::HEAD, "/api/v1/me", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        header(head.headers(), "content-type"),
        Some("application/json")
    );
    assert_eq!(header(head.headers(), "content-length"), length.as_deref());
    assert_eq!(header(head.headers(), "cache-control"), Some("no-store"));
    assert!(head.bytes().await.unwrap().is_empty());

    // Without a token HEAD is refused as GET would be; where GET is not answered, HEAD is not.
    let head = app
        .request(Method::HEAD, "/api/v1/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::UNAUTHORIZED);
    let head = app
        .request(Method::HEAD, "/api/v1/auth/login", None)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(head.headers(), "allow"), Some("POST"));

    // The event stream answers its headers and ends: a HEAD holds no stream slot.
    for _ in 0..8 {
        let head = app
            .request(Method::HEAD, "/api/v1/events", Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert!(head.bytes().await.unwrap().is_empty());
    }
    let stream = app
        .request(Method::GET, "/api/v1/events", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
}

#[tokio::test]
async fn api_answers_with_personal_data_are_not_stored() {
    let app = spawn_app().await;
    let token = app.root().await;
    let created = app
        .post(
            "/api/v1/tickets",
            &token,
            &json!({"subject": "Cache", "requester": {"email": "cache@uni.example"}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(header(created.headers(), "cache-control"), Some("no-store"));
    let id = body(created).await["id"].as_str().unwrap().to_owned();
    for path in [
        "/api/v1/me".to_owned(),
        "/api/v1/tickets".to_owned(),
        format!("/api/v1/tickets/{id}"),
        "/api/v1/contacts".to_owned(),
    ] {
        let response = app.get(&path, &token).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(response.headers(), "cache-control"),
            Some("no-store"),
            "{path}"
        );
    }
    // The probes carry nobody's data and stay cacheable by whoever wants to.
    let health = app
        .request(Method::GET, "/health", None)
        .send()
        .await
        .unwrap();
    assert_eq!(header(health.headers(), "cache-control"), None);
}

#[tokio::test]
async fn the_docs_page_is_not_frameable_and_its_policy_lets_it_load() {
    let app = spawn_app().await;
    let page = app
        .request(Method::GET, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(page.headers(), "x-frame-options"), Some("DENY"));
    let csp = header(page.headers(), "content-security-policy")
        .unwrap()
        .to_owned();
    for directive in [
        "frame-ancestors 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let html = page.text().await.unwrap();

    // `script-src 'self'` runs only scripts loaded from this server: the page may have no
    // inline script, and every script and style sheet it names must load from /docs/.
    let mut sources = Vec::new();
    for tag in html.split("<script").skip(1) {
        let (open, rest) = tag.split_once('>').unwrap();
        let src = attribute(open, "src").expect("an inline <script> would be blocked by the CSP");
        let content = rest.split("</script>").next().unwrap();
        assert!(content.trim().is_empty(), "inline script: {content}");
        sources.push(src);
    }
    for tag in html.split("<link").skip(1) {
        let open = tag.split('>').next().unwrap();
        if open.contains("stylesheet") {
            sources.push(attribute(open, "href").unwrap());
        }
    }
    assert!(sources.len() >= 3, "{html}");
    for src in sources {
        assert!(!src.contains("//"), "{src} is not from this server");
        let path = format!("/docs/{}", src.trim_start_matches("./"));
        let asset = app.request(Method::GET, &path, None).send().await.unwrap();
        assert_eq!(asset.status(), StatusCode::OK, "{path}");
        let kind = header(asset.headers(), "content-type").unwrap().to_owned();
        assert!(
            kind.contains("javascript") || kind.contains("css"),
            "{path}: {kind}"
        );
        // The UI reads the document it describes from this server (`connect-src 'self'`).
        if path.ends_with("swagger-initializer.js") {
            let script = asset.text().await.unwrap();
            assert!(script.contains("\"/openapi.json\""), "{script}");
        }
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_owned())
}

const PORTAL: &str = "https://portal.example.org";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.request(Method::OPTIONS, "/api/v1/tickets", None)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cross_origin_reads_are_closed_by_default() {
    let app = spawn_app().await;
    let token = app.root().await;
    let response = app
        .request(Method::GET, "/api/v1/me", Some(&token))
        .header("origin", PORTAL)
        .send()
        .await
        .unwrap();
    // The request is served (it may come from a server), but a browser gets no permission.
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        None
    );
    let response = preflight(&app, PORTAL).await;
    assert_ne!(response.status(), StatusCode::OK);
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        None
    );
    assert_eq!(
        header(response.headers(), "x-content-type-options"),
        Some("nosniff")
    );
}

#[tokio::test]
async fn configured_origins_may_call_and_read_the_headers_clients_need() {
    let app = spawn_app_with(|settings| {
        settings.http.cors_allowed_origins = vec![PORTAL.to_owned()];
    })
    .await;
    let token = app.root().await;

    let response = preflight(&app, PORTAL).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some(PORTAL));
    let methods = header(headers, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );
    let allowed = header(headers, "access-control-allow-headers").unwrap();
    for name in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed.contains(name), "{allowed}");
    }

    let response = app
        .request(Method::GET, "/api/v1/me", Some(&token))
        .header("origin", PORTAL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some(PORTAL));
    let exposed = header(headers, "access-control-expose-headers").unwrap();
    for name in [
        "etag",
        "link",
        "location",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-request-id",
    ] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }

    // Any other origin is still refused on the same deployment.
    let other = "https://evil.example";
    let response = preflight(&app, other).await;
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        None
    );
    let response = app
        .request(Method::GET, "/api/v1/me", Some(&token))
        .header("origin", other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        None
    );
}

/// Log lines written by every server of this test binary, as JSON, from the moment the first
/// test asks for them: at INFO and above for everything, DEBUG for the request log.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,api::http::request_log=debug",
            ))
            .with_writer(move || LogSink(Arc::clone(&sink)))
            .try_init()
            .expect("no other test installs a global subscriber");
        logs
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured log lines mentioning `marker`.
fn lines_mentioning(logs: &Mutex<Vec<u8>>, marker: &str) -> Vec<Value> {
    String::from_utf8_lossy(&logs.lock().unwrap())
        .lines()
        .filter(|line| line.contains(marker))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn refused_requests_log_little_and_never_credentials() {
    let logs = captured_logs();
    let app = spawn_app().await;
    let marker = Uuid::new_v4().simple().to_string();
    let secret = format!("eyJsecret{marker}");

    let long_path = format!("/api/v1/{marker}/{}", "a".repeat(7000));
    let response = app
        .request(Method::GET, &long_path, None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/tickets?marker={marker}&access_token={secret}&limit=5"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let lines = lines_mentioning(&logs, &marker);
    assert_eq!(lines.len(), 2, "one line per refused request: {lines:?}");
    for line in &lines {
        let text = line.to_string();
        assert_eq!(
            line["level"], "DEBUG",
            "a client's mistake is no warning: {text}"
        );
        assert!(
            !text.contains(&secret),
            "a credential reached the log: {text}"
        );
        assert!(text.len() < 1500, "{} bytes: {text}", text.len());
    }
    let targets: Vec<&str> = lines
        .iter()
        .map(|line| line["span"]["http.target"].as_str().unwrap())
        .collect();
    assert!(
        targets
            .iter()
            .any(|t| t.contains("access_token=[redacted]") && t.contains("limit=5")),
        "{targets:?}"
    );
    assert!(
        targets.iter().any(|t| t.ends_with("more bytes]")),
        "{targets:?}"
    );
}

#[tokio::test]
async fn event_streams_per_principal_are_bounded_and_freed_on_disconnect() {
    let app = spawn_app_with(|settings| settings.events.max_streams_per_principal = 3).await;
    let tree = app.tree().await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(subscribe(&app, &tree.agent_a).await);
    }
    let refused = app.get("/api/v1/events", &tree.agent_a).await;
    let retry_after: u64 = header(refused.headers(), "retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;

    // Signing in again is the same principal; another user has slots of their own.
    let again = app.login("agent@a.test", tests::PASSWORD).await.access;
    let refused = app.get("/api/v1/events", &again).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let _other = subscribe(&app, &tree.admin_a).await;

    // A client that goes away gives its slot back.
    drop(streams.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let response = app.get("/api/v1/events", &tree.agent_a).await;
        if response.status() == StatusCode::OK {
            break;
        }
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream's slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
