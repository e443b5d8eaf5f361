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

async fn current_secret(app: &TestApp, kid: &str) -> Vec<u8> {
    let key = entity::signing_key::Entity::find_by_id(kid.to_owned())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    hex_decode(&key.secret)
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn sign(claims: &Value, kid: &str, secret: &[u8]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
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
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app.try_login(ROOT_EMAIL, "not-the-password").await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .try_login("nobody@nowhere.test", "not-the-password")
        .await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong["detail"], unknown["detail"]);
    let missing = app
        .request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .unwrap();
    assert!(missing.headers().contains_key("www-authenticate"));
    assert_problem(missing, StatusCode::UNAUTHORIZED, "missing_credentials").await;
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
async fn forged_expired_and_premature_tokens_are_refused() {
    let app = spawn_app().await;
    let (claims, kid) = root_claims(&app).await;
    let secret = current_secret(&app, &kid).await;
    let now = chrono::Utc::now().timestamp();

    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let none_token = format!(
        "{none_header}.{}.",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_problem(
        me_status(&app, &none_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let wrong_signature = sign(&claims, &kid, b"a secret the server never had........");
    assert_problem(
        me_status(&app, &wrong_signature).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let wrong_kid = sign(&claims, "no-such-key", &secret);
    assert_problem(
        me_status(&app, &wrong_kid).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    expired["iat"] = json!(now - 7200);
    expired["nbf"] = json!(now - 7200);
    assert_problem(
        me_status(&app, &sign(&expired, &kid, &secret)).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;

    let mut premature = claims.clone();
    premature["nbf"] = json!(now + 3600);
    premature["exp"] = json!(now + 7200);
    assert_problem(
        me_status(&app, &sign(&premature, &kid, &secret)).await,
        StatusCode::UNAUTHORIZED,
        "token_not_yet_valid",
    )
    .await;

    assert_problem(
        me_status(&app, "not.a.jwt").await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    // The untampered claims, signed with the real key, do work: the refusals above are real.
    assert_eq!(
        me_status(&app, &sign(&claims, &kid, &secret))
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
async fn an_email_with_accounts_in_two_tenants_must_name_the_tenant() {
    let app = spawn_app().await;
    let tree = app.tree().await;
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
