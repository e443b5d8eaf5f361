use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{PASSWORD, ROOT_EMAIL, TestApp, assert_problem, body, spawn_app, spawn_app_with};

async fn me_status(app: &TestApp, token: &str) -> reqwest::Response {
    app.get("/api/v1/me", token).await
}

/// The claims of a fresh token of the root admin, to tamper with.
async fn root_claims(app: &TestApp) -> (Value, String) {
    let token = app.root().await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    (claims, header["kid"].as_str().unwrap().to_owned())
}

/// Signs claims with the server's own current key: what only the server (or a thief of its
/// private key) can do, to show the server refuses claims it would never issue.
fn sign_with_server_key(app: &TestApp, claims: &Value) -> String {
    let claims: api::auth::jwt::Claims = serde_json::from_value(claims.clone()).unwrap();
    app.state.keys.sign(&claims).unwrap()
}

/// An Ed25519 key the server never had.
fn foreign_ed25519_key() -> EncodingKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    der.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    EncodingKey::from_ed_der(&der)
}

fn sign(claims: &Value, alg: Algorithm, kid: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_returns_a_token_pair_and_me_describes_the_user() {
    let app = spawn_app().await;
    let response = app.try_login(ROOT_EMAIL, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens = body(response).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me = body(me_status(&app, tokens["access_token"].as_str().unwrap()).await).await;
    assert_eq!(me["principal_type"], "user");
    assert_eq!(me["email"], ROOT_EMAIL);
    assert_eq!(me["role"], "platform_admin");
    assert_eq!(me["tenant_kind"], "platform");
    assert_eq!(me["scopes"], json!(["admin"]));
    // The refresh token is stored only as a hash.
    let stored = entity::refresh_token::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(
        stored[0].token_hash,
        tokens["refresh_token"].as_str().unwrap()
    );
}

#[tokio::test]
async fn unknown_email_wrong_password_and_an_email_of_several_accounts_get_the_same_answer() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // agent@a.test has accounts in two tenants.
    app.create_user(&tree.admin_b, tree.partner_b, "agent@a.test", "agent")
        .await;
    let mut answers = Vec::new();
    for (email, tenant) in [
        (ROOT_EMAIL, None),
        ("nobody@nowhere.test", None),
        ("agent@a.test", None),
        ("agent@a.test", Some("partner-b")),
        ("agent@a.test", Some("no-such-tenant")),
    ] {
        let response = app
            .request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"email": email, "password": "not-the-password", "tenant": tenant}))
            .send()
            .await
            .unwrap();
        answers
            .push(assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await);
    }
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0]);
    }
    let missing = app
        .request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .unwrap();
    assert!(missing.headers().contains_key("www-authenticate"));
    assert_problem(missing, StatusCode::UNAUTHORIZED, "missing_credentials").await;
}

#[tokio::test]
async fn an_account_created_below_with_the_same_email_cannot_lock_out_the_platform_admin() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // Partner admins create accounts with the platform admin's e-mail in their own subtrees,
    // more of them than a login looks at.
    for (token, tenant, password) in [
        (&tree.admin_a, tree.partner_a, "shadow-partner-a-Kestrel"),
        (&tree.admin_a, tree.client_a, "shadow-client-a-Heron"),
        (&tree.admin_b, tree.partner_b, "shadow-partner-b-Osprey"),
    ] {
        let created = app
            .post(
                "/api/v1/users",
                token,
                &json!({"tenant_id": tenant, "email": ROOT_EMAIL, "name": "Shadow",
                        "role": "agent", "password": password}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    // The platform admin still signs in without naming a tenant, into the platform.
    let root = app.login(ROOT_EMAIL, PASSWORD).await;
    let me = body(me_status(&app, &root.access).await).await;
    assert_eq!(me["tenant_id"], tree.platform.to_string());
    assert_eq!(me["role"], "platform_admin");
    // A shadow account signs in with its own password, into its own tenant.
    let shadow = app.login(ROOT_EMAIL, "shadow-partner-a-Kestrel").await;
    let me = body(me_status(&app, &shadow.access).await).await;
    assert_eq!(me["tenant_id"], tree.partner_a.to_string());
    assert_eq!(me["role"], "agent");
    // An account beyond what a login looks at is reached by naming its tenant.
    let named = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"email": ROOT_EMAIL, "password": "shadow-client-a-Heron", "tenant": "client-a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let first = app.login(ROOT_EMAIL, PASSWORD).await;
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.request(Method::POST, "/api/v1/auth/refresh", None)
                .json(&json!({"refresh_token": token}))
                .send()
                .await
                .unwrap()
        }
    };
    let second = refresh(first.refresh.clone()).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second = body(second).await;
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(
        me_status(&app, second["access_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    // Someone replays the first token: the family is revoked, so the newer token dies too.
    assert_problem(
        refresh(first.refresh.clone()).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    assert_problem(
        refresh(second_refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_revoked",
    )
    .await;
    assert_problem(
        refresh("made-up".into()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[tokio::test]
async fn logout_refuses_the_access_token_at_once_and_ends_the_refresh_token() {
    let app = spawn_app().await;
    let tokens = app.login(ROOT_EMAIL, PASSWORD).await;
    let other = app.login(ROOT_EMAIL, PASSWORD).await;
    let response = app
        .post(
            "/api/v1/auth/logout",
            &tokens.access,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(
        me_status(&app, &tokens.access).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    let refreshed = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": tokens.refresh}))
        .send()
        .await
        .unwrap();
    assert_problem(refreshed, StatusCode::UNAUTHORIZED, "refresh_token_revoked").await;
    // Another session of the same user is untouched.
    assert_eq!(
        me_status(&app, &other.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_without_a_body_ends_the_session_of_the_access_token() {
    let app = spawn_app().await;
    let first = app.login(ROOT_EMAIL, PASSWORD).await;
    let renewed = body(refresh(&app, &first.refresh).await).await;
    let renewed_access = renewed["access_token"].as_str().unwrap().to_owned();
    let renewed_refresh = renewed["refresh_token"].as_str().unwrap().to_owned();
    let other = app.login(ROOT_EMAIL, PASSWORD).await;

    let response = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&renewed_access))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // The session's refresh token is spent, and so is every access token issued in it, the
    // earlier one included.
    assert_problem(
        refresh(&app, &renewed_refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_revoked",
    )
    .await;
    for token in [&renewed_access, &first.access] {
        assert_problem(
            me_status(&app, token).await,
            StatusCode::UNAUTHORIZED,
            "token_revoked",
        )
        .await;
    }
    let stored = entity::refresh_token::Entity::find()
        .filter(entity::refresh_token::Column::RevokedAt.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored.len(),
        2,
        "both refresh tokens of the session are revoked"
    );
    // A node started afterwards (its own in-process store without Redis) still refuses them.
    let restarted = app.second_node().await;
    assert_problem(
        me_status(&restarted, &first.access).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    // The user's other session is untouched.
    assert_eq!(
        me_status(&app, &other.access).await.status(),
        StatusCode::OK
    );
    assert_eq!(refresh(&app, &other.refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_access_tokens_of_its_session_at_once() {
    let app = spawn_app().await;
    let first = app.login(ROOT_EMAIL, PASSWORD).await;
    let renewed = body(refresh(&app, &first.refresh).await).await;
    let renewed_access = renewed["access_token"].as_str().unwrap().to_owned();
    let other = app.login(ROOT_EMAIL, PASSWORD).await;
    assert_eq!(
        me_status(&app, &renewed_access).await.status(),
        StatusCode::OK
    );

    // Someone replays the spent refresh token: the session is ended, access tokens included.
    assert_problem(
        refresh(&app, &first.refresh).await,
        StatusCode::UNAUTHORIZED,
        "refresh_token_reused",
    )
    .await;
    for token in [&first.access, &renewed_access] {
        assert_problem(
            me_status(&app, token).await,
            StatusCode::UNAUTHORIZED,
            "token_revoked",
        )
        .await;
    }
    let restarted = app.second_node().await;
    assert_problem(
        me_status(&restarted, &renewed_access).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    assert_eq!(
        me_status(&app, &other.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn forged_expired_premature_and_long_lived_tokens_are_refused() {
    let app = spawn_app().await;
    let (claims, kid) = root_claims(&app).await;
    let now = chrono::Utc::now().timestamp();

    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let none_token = format!(
        "{none_header}.{}.",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let foreign = foreign_ed25519_key();
    let wrong_signature = sign(&claims, Algorithm::EdDSA, &kid, &foreign);
    let wrong_kid = sign(&claims, Algorithm::EdDSA, "no-such-key", &foreign);
    // The published public key used as an HMAC secret: the classic algorithm confusion.
    let jwks = body(
        app.request(Method::GET, "/.well-known/jwks.json", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let confused = sign(
        &claims,
        Algorithm::HS256,
        &kid,
        &EncodingKey::from_secret(&public),
    );
    for token in [
        none_token.as_str(),
        &wrong_signature,
        &wrong_kid,
        &confused,
        "not.a.jwt",
    ] {
        assert_problem(
            me_status(&app, token).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
    }

    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    expired["iat"] = json!(now - 4500);
    expired["nbf"] = json!(now - 4500);
    assert_problem(
        me_status(&app, &sign_with_server_key(&app, &expired)).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;

    let mut premature = claims.clone();
    premature["nbf"] = json!(now + 3600);
    premature["exp"] = json!(now + 4000);
    assert_problem(
        me_status(&app, &sign_with_server_key(&app, &premature)).await,
        StatusCode::UNAUTHORIZED,
        "token_not_yet_valid",
    )
    .await;

    // Correctly signed, but living until the year 5138, or a day: longer than this server's
    // 900 s access tokens (plus a minute of leeway) ever live.
    for exp in [99_999_999_999_i64, now + 86_400] {
        let mut long_lived = claims.clone();
        long_lived["exp"] = json!(exp);
        long_lived["jti"] = json!(uuid::Uuid::now_v7());
        let problem = assert_problem(
            me_status(&app, &sign_with_server_key(&app, &long_lived)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("longer life"),
            "{problem}"
        );
    }

    // The untampered claims, signed with the real key, do work: the refusals above are real.
    assert_eq!(
        me_status(&app, &sign_with_server_key(&app, &claims))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn rotated_keys_keep_earlier_tokens_valid_until_they_expire() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let before = app.root().await;
    let rotated = app
        .post("/api/v1/auth/signing-keys/rotate", &before, &json!({}))
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let kid = body(rotated).await["kid"].as_str().unwrap().to_owned();
    let after = app.root().await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(after.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid.as_str());
    assert_eq!(me_status(&app, &before).await.status(), StatusCode::OK);
    assert_eq!(me_status(&app, &after).await.status(), StatusCode::OK);
    let retired = entity::signing_key::Entity::find()
        .filter(entity::signing_key::Column::RetiredAt.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(retired.len(), 1);
    // Only platform admins rotate keys.
    let partner_try = app
        .post(
            "/api/v1/auth/signing-keys/rotate",
            &tree.admin_a,
            &json!({}),
        )
        .await;
    assert_problem(partner_try, StatusCode::FORBIDDEN, "insufficient_scope").await;
}

#[tokio::test]
async fn a_deactivated_user_is_refused_on_the_next_request() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let users = body(app.get("/api/v1/users?limit=100", &tree.admin_a).await).await;
    let agent = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "agent@a.test")
        .unwrap()
        .clone();
    let agent_tokens = app.login("agent@a.test", PASSWORD).await;
    assert_eq!(
        me_status(&app, &agent_tokens.access).await.status(),
        StatusCode::OK
    );

    let removed = app
        .delete(
            &format!("/api/v1/users/{}", agent["id"].as_str().unwrap()),
            &tree.admin_a,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_problem(
        me_status(&app, &agent_tokens.access).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    assert_problem(
        app.try_login("agent@a.test", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let refreshed = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": agent_tokens.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn suspending_a_partner_blocks_it_and_its_clients_and_loses_nothing() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let suspended = app
        .post(
            &format!("/api/v1/tenants/{}/suspend", tree.partner_a),
            &tree.root,
            &json!({}),
        )
        .await;
    assert_eq!(suspended.status(), StatusCode::OK);
    assert_eq!(body(suspended).await["status"], "suspended");

    assert_problem(
        me_status(&app, &tree.admin_a).await,
        StatusCode::FORBIDDEN,
        "tenant_suspended",
    )
    .await;
    assert_problem(
        me_status(&app, &tree.client_admin_a).await,
        StatusCode::FORBIDDEN,
        "tenant_suspended",
    )
    .await;
    assert_problem(
        app.try_login("staff@client-a.test", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "tenant_suspended",
    )
    .await;
    // The sibling partner is untouched.
    assert_eq!(
        me_status(&app, &tree.admin_b).await.status(),
        StatusCode::OK
    );
    // A tenant cannot suspend itself, and the data is all still there.
    let own = app
        .post(
            &format!("/api/v1/tenants/{}/suspend", tree.platform),
            &tree.root,
            &json!({}),
        )
        .await;
    assert_problem(own, StatusCode::FORBIDDEN, "forbidden").await;
    let users = body(
        app.get(
            &format!("/api/v1/users?tenant_id={}", tree.partner_a),
            &tree.root,
        )
        .await,
    )
    .await;
    assert_eq!(users["items"].as_array().unwrap().len(), 2);

    let active = app
        .post(
            &format!("/api/v1/tenants/{}/activate", tree.partner_a),
            &tree.root,
            &json!({}),
        )
        .await;
    assert_eq!(body(active).await["status"], "active");
    let again = app.login("staff@client-a.test", PASSWORD).await;
    assert_eq!(
        me_status(&app, &again.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_a_password_ends_other_sessions() {
    let app = spawn_app().await;
    let tokens = app.login(ROOT_EMAIL, PASSWORD).await;
    let weak = app
        .post(
            "/api/v1/auth/password",
            &tokens.access,
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    let problem = assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "new_password");
    let wrong = app
        .post(
            "/api/v1/auth/password",
            &tokens.access,
            &json!({"current_password": "nope-nope-nope", "new_password": "a-much-better-one"}),
        )
        .await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let changed = app
        .post(
            "/api/v1/auth/password",
            &tokens.access,
            &json!({"current_password": PASSWORD, "new_password": "a-much-better-one"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_problem(
        me_status(&app, &tokens.access).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    assert_eq!(
        app.try_login(ROOT_EMAIL, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.login(ROOT_EMAIL, "a-much-better-one").await;
}

#[tokio::test]
async fn an_admin_issued_reset_token_sets_a_password_once() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let users = body(app.get("/api/v1/users?limit=100", &tree.admin_a).await).await;
    let agent = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "agent@a.test")
        .unwrap()
        .clone();
    let issued = app
        .post(
            &format!(
                "/api/v1/users/{}/password-reset",
                agent["id"].as_str().unwrap()
            ),
            &tree.admin_a,
            &json!({}),
        )
        .await;
    assert_eq!(issued.status(), StatusCode::CREATED);
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
    assert_eq!(
        reset("fresh-password-1").await.status(),
        StatusCode::NO_CONTENT
    );
    app.login("agent@a.test", "fresh-password-1").await;
    assert_problem(
        reset("fresh-password-2").await,
        StatusCode::UNAUTHORIZED,
        "invalid_reset_token",
    )
    .await;
    assert_problem(
        me_status(&app, &tree.agent_a).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let app = spawn_app_with(|s| s.auth.login_per_minute = 3).await;
    for attempt in 1..=3u64 {
        let response = app.try_login(ROOT_EMAIL, "wrong-password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(
            response.headers()["ratelimit-remaining"],
            (3 - attempt).to_string().as_str()
        );
    }
    let limited = app.try_login(ROOT_EMAIL, PASSWORD).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn a_password_that_fits_accounts_in_two_tenants_must_name_the_tenant() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // The same e-mail and the same password in two tenants: only the tenant tells them apart.
    app.create_user(&tree.admin_b, tree.partner_b, "agent@a.test", "agent")
        .await;
    let ambiguous = app.try_login("agent@a.test", PASSWORD).await;
    let problem = assert_problem(
        ambiguous,
        StatusCode::UNPROCESSABLE_ENTITY,
        "tenant_required",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "tenant");
    let chosen = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"email": "agent@a.test", "password": PASSWORD, "tenant": "partner-b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), StatusCode::OK);
    let me =
        body(me_status(&app, body(chosen).await["access_token"].as_str().unwrap()).await).await;
    assert_eq!(me["tenant_id"], tree.partner_b.to_string());
}

#[tokio::test]
async fn revocations_survive_a_restart_of_a_single_node() {
    let app = spawn_app().await;
    let tree = app.tree().await;
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
    app.delete(&format!("/api/v1/users/{agent}"), &tree.admin_a)
        .await;
    app.post(
        &format!("/api/v1/tenants/{}/suspend", tree.partner_b),
        &tree.root,
        &json!({}),
    )
    .await;
    // A node started afterwards (with its own in-process store when there is no Redis) restores
    // the markers from the database.
    let restarted = app.second_node().await;
    assert_problem(
        me_status(&restarted, &tree.agent_a).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    )
    .await;
    assert_problem(
        me_status(&restarted, &tree.admin_b).await,
        StatusCode::FORBIDDEN,
        "tenant_suspended",
    )
    .await;
    assert_eq!(
        me_status(&restarted, &tree.admin_a).await.status(),
        StatusCode::OK
    );
}
