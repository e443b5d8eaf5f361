//! Signing keys: Ed25519 key pairs whose public halves are published as a JWK Set and whose
//! private halves are kept sealed in the database.
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tests::{PASSWORD, ROOT_EMAIL, TestApp, body, spawn_app};

async fn jwks(app: &TestApp) -> Value {
    let response = app
        .request(Method::GET, "/.well-known/jwks.json", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/jwk-set+json"
    );
    let cache = response.headers()["cache-control"].to_str().unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    body(response).await
}

fn kid_of(token: &str) -> String {
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    header["kid"].as_str().unwrap().to_owned()
}

/// Verifies a token as an integrator would: with the JWK of its `kid` from the published set.
fn verify_with_jwks(jwks: &Value, token: &str) -> Value {
    let kid = kid_of(token);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("{kid} is not published: {jwks}"));
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["helpdesk"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn the_published_jwk_set_verifies_access_tokens() {
    let app = spawn_app().await;
    let set = jwks(&app).await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(keys[0]["x"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert!(
        keys[0].get("d").is_none(),
        "the private key is never published"
    );

    let token = app.root().await;
    let claims = verify_with_jwks(&set, &token);
    let me = body(app.get("/api/v1/me", &token).await).await;
    assert_eq!(claims["sub"], me["user_id"]);
    assert_eq!(claims["tid"], me["tenant_id"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
}

#[tokio::test]
async fn after_a_rotation_both_keys_are_published_and_earlier_tokens_still_work() {
    let app = spawn_app().await;
    let before = app.root().await;
    let rotated = app
        .post("/api/v1/auth/signing-keys/rotate", &before, &json!({}))
        .await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let new_kid = body(rotated).await["kid"].as_str().unwrap().to_owned();
    let after = app.login(ROOT_EMAIL, PASSWORD).await.access;
    assert_eq!(kid_of(&after), new_kid);
    assert_ne!(kid_of(&before), new_kid);

    let set = jwks(&app).await;
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_kid.as_str(), kid_of(&before).as_str()]);
    verify_with_jwks(&set, &before);
    verify_with_jwks(&set, &after);
    assert_eq!(
        app.get("/api/v1/me", &before).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/api/v1/me", &after).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_database_holds_the_private_key_sealed_under_the_key_encryption_key() {
    let app = spawn_app().await;
    let set = jwks(&app).await;
    let rows = entity::signing_key::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.algorithm, "EdDSA");
    assert_eq!(row.public_key, set["keys"][0]["x"].as_str().unwrap());
    // Not the 32-byte key in any encoding: a nonce, the sealed key and its tag.
    let sealed = row.private_key.strip_prefix("xc20p1:").unwrap();
    assert_eq!(STANDARD.decode(sealed).unwrap().len(), 24 + 32 + 16);

    let settings = &app.state.settings;
    if !settings.is_postgres() {
        // The zero-setup key-encryption key: generated beside the SQLite file, owner-only.
        let file = settings.auth.resolved_key_file(&settings.database_url);
        let database_file = settings
            .database_url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(
            file,
            std::path::PathBuf::from(format!("{database_file}.key"))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    // With the key-encryption key, the column opens to the private half of the published key:
    // a token signed with it verifies against the JWK Set.
    let kek = api::auth::key_encryption::KeyEncryptionKey::resolve(settings).unwrap();
    let seed = kek.open(&row.kid, &row.private_key).unwrap();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed.expose_secret());
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(row.kid.clone());
    let now = chrono::Utc::now().timestamp();
    let token = jsonwebtoken::encode(
        &header,
        &json!({"iss": "helpdesk", "sub": "x", "iat": now, "nbf": now, "exp": now + 60}),
        &EncodingKey::from_ed_der(&der),
    )
    .unwrap();
    assert_eq!(verify_with_jwks(&set, &token)["sub"], "x");
    // Under another key-encryption key the column opens to nothing.
    assert!(
        api::auth::key_encryption::KeyEncryptionKey::from_bytes([9; 32])
            .open(&row.kid, &row.private_key)
            .is_err()
    );
}

#[tokio::test]
async fn access_tokens_expire_by_the_servers_clock_and_refresh_tokens_outlive_them() {
    let app = spawn_app().await;
    let tokens = app.login(ROOT_EMAIL, PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/me", &tokens.access).await.status(),
        StatusCode::OK
    );
    // 15 minutes of life and 5 s of leeway: still good at 15 minutes, refused after.
    app.state.clock.advance(chrono::TimeDelta::seconds(900));
    assert_eq!(
        app.get("/api/v1/me", &tokens.access).await.status(),
        StatusCode::OK
    );
    app.state.clock.advance(chrono::TimeDelta::seconds(6));
    tests::assert_problem(
        app.get("/api/v1/me", &tokens.access).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;
    // The session lives on: its refresh token gives an access token valid at the new time.
    let refreshed = body(
        app.request(Method::POST, "/api/v1/auth/refresh", None)
            .json(&json!({"refresh_token": tokens.refresh}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let access = refreshed["access_token"]
        .as_str()
        .expect("a new access token");
    assert_eq!(app.get("/api/v1/me", access).await.status(), StatusCode::OK);
    // A month on, the refresh token has expired as well.
    app.state.clock.advance(chrono::TimeDelta::days(31));
    let late = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({"refresh_token": refreshed["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
}
