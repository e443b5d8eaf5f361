use reqwest::StatusCode;
use serde_json::json;
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn companies_own_domains_and_contacts_join_them_by_e_mail() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let company = app.post("/api/v1/companies", &tree.agent_a, &json!({"name": "Universidade A", "domains": ["@Uni-A.example", "alunos.uni-a.example"], "tier": "contracted"})).await;
    assert_eq!(company.status(), StatusCode::CREATED);
    let company = body(company).await;
    assert_eq!(
        company["domains"],
        json!(["uni-a.example", "alunos.uni-a.example"])
    );
    assert_eq!(company["tier"], "contracted");
    assert_problem(
        app.post(
            "/api/v1/companies",
            &tree.agent_a,
            &json!({"name": "Universidade A"}),
        )
        .await,
        StatusCode::CONFLICT,
        "company_name_taken",
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/companies",
            &tree.agent_a,
            &json!({"name": "X", "domains": ["not a domain"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    let student = body(
        app.post(
            "/api/v1/contacts",
            &tree.agent_a,
            &json!({"email": "Maria@Alunos.Uni-A.example", "phone": "+351912345678"}),
        )
        .await,
    )
    .await;
    assert_eq!(student["email"], "maria@alunos.uni-a.example");
    assert_eq!(student["name"], "maria");
    assert_eq!(student["company_id"], company["id"]);
    let outsider = body(
        app.post(
            "/api/v1/contacts",
            &tree.agent_a,
            &json!({"name": "Joe", "telegram_id": "@joe_t"}),
        )
        .await,
    )
    .await;
    assert!(outsider["company_id"].is_null());

    // Identifiers are unique per tenant, but another tenant may know the same person.
    assert_problem(
        app.post(
            "/api/v1/contacts",
            &tree.agent_a,
            &json!({"phone": "+351912345678"}),
        )
        .await,
        StatusCode::CONFLICT,
        "contact_exists",
    )
    .await;
    assert_eq!(
        app.post(
            "/api/v1/contacts",
            &tree.admin_b,
            &json!({"phone": "+351912345678"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    for (field, value) in [
        ("phone", "912345678"),
        ("email", "no-at-sign"),
        ("locale", "Portuguese"),
        ("time_zone", "Lisbon"),
    ] {
        let mut request = json!({"email": "x@y.example"});
        request[field] = json!(value);
        let problem = assert_problem(
            app.post("/api/v1/contacts", &tree.agent_a, &request).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    assert_problem(
        app.post(
            "/api/v1/contacts",
            &tree.agent_a,
            &json!({"name": "Nobody"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // PATCH: absent stays, null clears, and the last identifier cannot go.
    let id = student["id"].as_str().unwrap();
    let patched = body(
        app.patch(
            &format!("/api/v1/contacts/{id}"),
            &tree.agent_a,
            &json!({"phone": null, "locale": "pt-PT"}),
        )
        .await,
    )
    .await;
    assert!(patched["phone"].is_null());
    assert_eq!(patched["locale"], "pt-PT");
    assert_eq!(patched["email"], "maria@alunos.uni-a.example");
    let last = app
        .patch(
            &format!("/api/v1/contacts/{id}"),
            &tree.agent_a,
            &json!({"email": null}),
        )
        .await;
    assert_problem(last, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let listed = body(
        app.get(
            &format!(
                "/api/v1/contacts?company_id={}",
                company["id"].as_str().unwrap()
            ),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let by_email = body(
        app.get(
            "/api/v1/contacts?email=MARIA@alunos.uni-a.example",
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(by_email["items"][0]["id"], student["id"]);
    // Client staff read but do not write.
    assert_problem(
        app.post(
            "/api/v1/contacts",
            &tree.client_admin_a,
            &json!({"email": "z@z.example"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
}
