use reqwest::{Method, StatusCode};
use tests::{body, spawn_app};

#[test]
fn checked_in_document_matches_the_code() {
    let generated = api::openapi::spec_json().unwrap();
    assert!(
        generated == openapi::PUBLISHED,
        "openapi/openapi.json is stale: regenerate it with `cargo run -p api --bin helpdesk -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn every_operation_declares_security_and_error_responses() {
    let app = spawn_app().await;
    let spec = body(
        app.request(Method::GET, "/openapi.json", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["name"], "X-Api-Key");
    let public = [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/password-reset",
        "/health",
        "/ready",
        "/.well-known/jwks.json",
    ];
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let security = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} has no security"));
            if public.contains(&path.as_str()) {
                continue;
            }
            assert!(
                security.iter().any(|req| req.get("bearer").is_some()),
                "{method} {path} does not declare its bearer scope"
            );
            assert!(
                operation["responses"].get("401").is_some(),
                "{method} {path} does not document 401"
            );
        }
    }
    assert!(operations >= 25, "only {operations} operations documented");
}

#[tokio::test]
async fn docs_page_is_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app
        .request(Method::GET, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let bundle = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
}
