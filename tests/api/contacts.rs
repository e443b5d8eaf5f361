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

#[tokio::test]
async fn duplicates_merge_and_personal_data_is_exported_then_erased() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let by_mail = body(app.post("/api/v1/tickets", &tree.agent_a, &json!({"subject": "Ana Silva cannot log in", "description": "I am Ana Silva, student 42", "requester": {"email": "ana@uni-a.example", "name": "Ana Silva"}})).await).await;
    let by_whatsapp = body(
        app.post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"subject": "login", "requester": {"whatsapp_id": "351912345678"}}),
        )
        .await,
    )
    .await;
    let primary = by_mail["requester_id"].as_str().unwrap().to_owned();
    let duplicate = by_whatsapp["requester_id"].as_str().unwrap().to_owned();
    app.post(
        &format!(
            "/api/v1/tickets/{}/replies",
            by_mail["id"].as_str().unwrap()
        ),
        &tree.agent_a,
        &json!({"body": "Try again, Ana"}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{}/notes", by_mail["id"].as_str().unwrap()),
        &tree.agent_a,
        &json!({"body": "internal remark"}),
    )
    .await;

    assert_problem(
        app.post(
            &format!("/api/v1/contacts/{primary}/merge"),
            &tree.agent_a,
            &json!({"secondary_ids": [primary]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let merged = app
        .post(
            &format!("/api/v1/contacts/{primary}/merge"),
            &tree.agent_a,
            &json!({"secondary_ids": [duplicate]}),
        )
        .await;
    assert_eq!(merged.status(), StatusCode::OK);
    let merged = body(merged).await;
    assert_eq!(merged["email"], "ana@uni-a.example");
    assert_eq!(merged["whatsapp_id"], "351912345678");
    assert_problem(
        app.get(&format!("/api/v1/contacts/{duplicate}"), &tree.agent_a)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let moved = body(
        app.get(
            &format!("/api/v1/tickets/{}", by_whatsapp["id"].as_str().unwrap()),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(moved["requester_id"], primary.as_str());
    let history = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/activities",
                by_whatsapp["id"].as_str().unwrap()
            ),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["field"],
        "requester_id"
    );

    let export = body(
        app.get(&format!("/api/v1/contacts/{primary}/export"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(export["contact"]["email"], "ana@uni-a.example");
    assert_eq!(export["tickets"].as_array().unwrap().len(), 2);
    let first = &export["tickets"][0];
    assert_eq!(first["description"], "I am Ana Silva, student 42");
    assert_eq!(
        first["messages"].as_array().unwrap().len(),
        1,
        "internal notes are not exported"
    );

    assert_problem(
        app.post(
            &format!("/api/v1/contacts/{primary}/erase"),
            &tree.agent_a,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/contacts/{primary}/erase"),
            &tree.admin_a,
            &json!({})
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let erased = body(
        app.get(&format!("/api/v1/contacts/{primary}/export"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(erased["contact"]["name"], "Erased contact");
    assert!(erased["contact"]["email"].is_null() && erased["contact"]["whatsapp_id"].is_null());
    assert_eq!(
        erased["tickets"].as_array().unwrap().len(),
        2,
        "the tickets stay for the statistics"
    );
    assert!(!erased.to_string().contains("Ana Silva"), "{erased}");
    let history = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/activities",
                by_mail["id"].as_str().unwrap()
            ),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert!(!history.to_string().contains("Ana Silva"), "{history}");
}
