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
        // A relay posting mail proves itself with the channel's own secret (`channel_secret`).
        "/api/v1/channels/{id}/inbound/email",
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

/// The statuses every operation's shape implies are documented, as problem documents: what a
/// schema fuzzer found missing (400/415 on bodies and queries, 403, limit's range) stays found.
#[test]
fn every_operation_documents_what_its_shape_implies() {
    let spec: serde_json::Value =
        serde_json::from_str(&api::openapi::spec_json().unwrap()).unwrap();
    let problem = |operation: &serde_json::Value, status: &str, what: &str| {
        let response = &operation["responses"][status];
        assert_eq!(
            response["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem",
            "{what} does not document {status} as a problem"
        );
    };
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            for (status, response) in operation["responses"].as_object().unwrap() {
                // The readiness probe answers its own report with a 503; the API, problems.
                if path.starts_with("/api/") && (status.starts_with('4') || status.starts_with('5'))
                {
                    problem(operation, status, &what);
                    assert!(response["description"].is_string());
                }
            }
            if operation["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                for status in ["400", "413", "415", "422"] {
                    problem(operation, status, &what);
                }
            }
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if parameters.iter().any(|p| p["in"] == "query") {
                problem(operation, "400", &what);
            }
            if parameters.iter().any(|p| p["in"] == "path") {
                problem(operation, "404", &what);
            }
            for limit in parameters.iter().filter(|p| p["name"] == "limit") {
                assert_eq!(limit["schema"]["minimum"], 1, "{what}");
                assert_eq!(limit["schema"]["maximum"], 100, "{what}");
                problem(operation, "422", &what);
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| !r.as_object().unwrap().is_empty()));
            if secured {
                for status in ["401", "403"] {
                    problem(operation, status, &what);
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 80, "only {checked} operations");
}

/// Closed sets of values are enums in the schema, including the ones once named only in prose.
#[test]
fn closed_sets_are_enums() {
    let spec: serde_json::Value =
        serde_json::from_str(&api::openapi::spec_json().unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(values("ActorType").contains(&"linked_ticket".to_owned()));
    let kinds = values("TicketEventKind");
    assert!(
        kinds.contains(&"ticket.escalated".to_owned())
            && kinds.contains(&"ticket.routed".to_owned())
    );
    for (schema, field, enum_name) in [
        ("ActivityDto", "actor_type", "ActorType"),
        ("ActivityDto", "field", "ActivityField"),
        ("TicketEvent", "kind", "TicketEventKind"),
        ("MessageDto", "kind", "MessageKind"),
        ("TicketDto", "status", "TicketStatus"),
        ("TicketDto", "priority", "TicketPriority"),
        ("TicketDto", "source", "TicketSource"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["$ref"],
            format!("#/components/schemas/{enum_name}"),
            "{schema}.{field}"
        );
    }
    // Downloads are served with the type the file was stored as, not one fixed type.
    let download = &spec["paths"]["/api/v1/attachments/{id}/content"]["get"]["responses"]["200"];
    assert!(download["content"].get("*/*").is_some(), "{download}");
}
