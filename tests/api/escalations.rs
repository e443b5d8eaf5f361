//! Tickets handed between tenants, and the line between a partner's support data and the
//! platform's.
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{PASSWORD, TestApp, assert_problem, body, spawn_app};

async fn new_ticket(app: &TestApp, token: &str, request: Value) -> Value {
    let response = app.post("/api/v1/tickets", token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{request}");
    body(response).await
}

fn student(subject: &str, tenant: impl std::fmt::Display) -> Value {
    json!({"subject": subject, "description": "The proctor froze my exam", "source": "whatsapp",
           "tenant_id": tenant.to_string(),
           "requester": {"whatsapp_id": "+34600111222", "name": "Lucía"}})
}

async fn ids(app: &TestApp, token: &str) -> Vec<String> {
    let page = body(app.get("/api/v1/tickets?limit=100", token).await).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn conversation(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/tickets/{id}/conversation"), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    body(response).await.as_array().unwrap().clone()
}

#[tokio::test]
async fn the_platform_sees_its_dedicated_clients_tickets_but_none_of_a_partners() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let partner_ticket = new_ticket(&app, &tree.agent_a, student("Frozen", tree.partner_a)).await;
    let client_ticket = new_ticket(&app, &tree.agent_a, student("Frozen", tree.client_a)).await;
    let dedicated_ticket = new_ticket(&app, &tree.root, student("Frozen", tree.dedicated)).await;

    let platform_sees = ids(&app, &tree.root).await;
    assert_eq!(
        platform_sees,
        vec![dedicated_ticket["id"].as_str().unwrap()]
    );
    for hidden in [&partner_ticket, &client_ticket] {
        let id = hidden["id"].as_str().unwrap();
        assert_problem(
            app.get(&format!("/api/v1/tickets/{id}"), &tree.root).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // The platform cannot file tickets into a partner's queue either.
    assert_problem(
        app.post("/api/v1/tickets", &tree.root, &student("x", tree.partner_a))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A partner works its own clients' tickets.
    let partner_sees = ids(&app, &tree.agent_a).await;
    assert_eq!(partner_sees.len(), 2);
    // Administration still reaches the whole tree: the platform manages the partner's users.
    let users = app.get("/api/v1/users?limit=100", &tree.root).await;
    let users = body(users).await;
    assert!(
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "agent@a.test")
    );
}

#[tokio::test]
async fn an_escalated_ticket_reaches_the_parent_and_its_answers_flow_back() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let origin = new_ticket(&app, &tree.agent_a, student("Frozen exam", tree.client_a)).await;
    let origin_id = origin["id"].as_str().unwrap().to_owned();
    let other = new_ticket(&app, &tree.agent_a, student("Other matter", tree.client_a)).await;
    app.post(
        &format!("/api/v1/tickets/{origin_id}/replies"),
        &tree.agent_a,
        &json!({"body": "We are looking into it"}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{origin_id}/notes"),
        &tree.agent_a,
        &json!({"body": "Internal: the partner's own remark"}),
    )
    .await;

    let escalated = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/escalate"),
            &tree.agent_a,
            &json!({"note": "Proctoring server logs needed", "priority": "high"}),
        )
        .await;
    assert_eq!(escalated.status(), StatusCode::OK);
    let escalated = body(escalated).await;
    let linked_id = escalated["linked_ticket_id"].as_str().unwrap().to_owned();
    assert_eq!(escalated["linked_tenant_id"], tree.platform.to_string());

    // The parent has it in its queue, with the public conversation and the note, not the
    // partner's private note.
    let queue = ids(&app, &tree.root).await;
    assert_eq!(queue, vec![linked_id.clone()]);
    let linked = body(
        app.get(&format!("/api/v1/tickets/{linked_id}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(linked["number"], 1);
    assert_eq!(linked["priority"], "high");
    assert_eq!(linked["link_kind"], "escalation");
    assert_eq!(linked["origin_ticket_id"], origin_id.as_str());
    let copied = conversation(&app, &tree.root, &linked_id).await;
    let texts: Vec<&str> = copied
        .iter()
        .map(|m| m["body_text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        vec!["We are looking into it", "Proctoring server logs needed"]
    );
    // The requester is the partner, not the student: no student identifiers cross over.
    let requester = linked["requester_id"].as_str().unwrap();
    let contact = body(
        app.get(&format!("/api/v1/contacts/{requester}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(contact["whatsapp_id"], Value::Null);
    // The parent cannot read the origin or the partner's other tickets.
    for id in [origin_id.as_str(), other["id"].as_str().unwrap()] {
        assert_problem(
            app.get(&format!("/api/v1/tickets/{id}"), &tree.root).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Nor can the partner read the parent's ticket.
    assert_problem(
        app.get(&format!("/api/v1/tickets/{linked_id}"), &tree.agent_a)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // The parent's public reply and status flow back; its private note does not.
    app.post(
        &format!("/api/v1/tickets/{linked_id}/notes"),
        &tree.root,
        &json!({"body": "L3 internal"}),
    )
    .await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{linked_id}/replies"),
            &tree.root,
            &json!({"body": "Restart the exam from the link we sent"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let resolved = app
        .patch(
            &format!("/api/v1/tickets/{linked_id}"),
            &tree.root,
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::OK);

    let back = conversation(&app, &tree.agent_a, &origin_id).await;
    let notes: Vec<&Value> = back.iter().filter(|m| m["kind"] == "note").collect();
    assert_eq!(notes.len(), 2, "{back:?}");
    let flowed = notes[1]["body_text"].as_str().unwrap();
    assert!(
        flowed.contains("Restart the exam from the link we sent"),
        "{flowed}"
    );
    assert!(!back.iter().any(|m| m["body_text"] == "L3 internal"));
    let origin_now = body(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(origin_now["status"], "resolved");
    assert!(origin_now["resolved_at"].is_string());
    let history = body(
        app.get(
            &format!("/api/v1/tickets/{origin_id}/activities"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    let fields: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"escalated") && fields.contains(&"linked_reply"),
        "{fields:?}"
    );

    // The answer on the linked ticket never went to a channel; the partner's own reply did.
    let outbox: Vec<(String,)> = sqlx_rows(
        &app,
        "SELECT CAST(ticket_id AS TEXT) FROM outbox ORDER BY created_at",
    )
    .await;
    assert_eq!(outbox.len(), 1);

    // A ticket is handed on once.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{origin_id}/escalate"),
            &tree.agent_a,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_linked",
    )
    .await;
}

async fn sqlx_rows(app: &TestApp, sql: &str) -> Vec<(String,)> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    app.db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.try_get_by_index::<String>(0).unwrap_or_default(),))
        .collect()
}

#[tokio::test]
async fn escalation_refuses_what_it_cannot_do() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let partner_b_ticket =
        new_ticket(&app, &tree.admin_b, student("B's matter", tree.partner_b)).await;
    let b_id = partner_b_ticket["id"].as_str().unwrap();
    // Another tenant's ticket and an unknown id are both 404.
    for id in [b_id, "0190a0b0-0000-7000-8000-000000000000", "not-a-uuid"] {
        assert_problem(
            app.post(
                &format!("/api/v1/tickets/{id}/escalate"),
                &tree.agent_a,
                &json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    // Routing another tenant's ticket is a 404 as well, whatever the target.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{b_id}/route"),
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The platform has nobody above it.
    let own = new_ticket(&app, &tree.root, student("Platform's own", tree.platform)).await;
    let own_id = own["id"].as_str().unwrap();
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{own_id}/escalate"),
            &tree.root,
            &json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Client staff read tickets but do not hand them on.
    let client_ticket = new_ticket(&app, &tree.agent_a, student("c", tree.client_a)).await;
    let client_id = client_ticket["id"].as_str().unwrap();
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{client_id}/escalate"),
            &tree.client_admin_a,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    // Unknown fields and wrong types.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{client_id}/escalate"),
            &tree.agent_a,
            &json!({"note": 5, "priority": "whenever"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Nothing was half-written: no escalated ticket appeared in the platform's queue.
    assert_eq!(ids(&app, &tree.root).await, vec![own_id.to_owned()]);
}

#[tokio::test]
async fn a_content_question_routed_down_comes_back_with_the_clients_answer() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // The dedicated client's own agent.
    app.create_user(
        &tree.root,
        tree.dedicated,
        "organiser@dedicated.test",
        "agent",
    )
    .await;
    let organiser = app.login("organiser@dedicated.test", PASSWORD).await.access;
    let origin = new_ticket(
        &app,
        &tree.root,
        student("Question 7 is ambiguous", tree.platform),
    )
    .await;
    let origin_id = origin["id"].as_str().unwrap();

    // Only a client directly below the ticket's tenant can receive it.
    for target in [tree.partner_a, tree.client_a] {
        assert_problem(
            app.post(
                &format!("/api/v1/tickets/{origin_id}/route"),
                &tree.root,
                &json!({"tenant_id": target}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let routed = app
        .post(
            &format!("/api/v1/tickets/{origin_id}/route"),
            &tree.root,
            &json!({"tenant_id": tree.dedicated, "note": "Is answer B also correct?"}),
        )
        .await;
    assert_eq!(routed.status(), StatusCode::OK);
    let linked_id = body(routed).await["linked_ticket_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The organiser sees the routed ticket and nothing of the platform's.
    assert_eq!(ids(&app, &organiser).await, vec![linked_id.clone()]);
    assert_problem(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &organiser)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{linked_id}/replies"),
            &organiser,
            &json!({"body": "Yes, B counts as well"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    app.patch(
        &format!("/api/v1/tickets/{linked_id}"),
        &organiser,
        &json!({"status": "closed"}),
    )
    .await;
    let back = conversation(&app, &tree.root, origin_id).await;
    assert!(back.iter().any(|m| {
        m["kind"] == "note"
            && m["body_text"]
                .as_str()
                .unwrap()
                .contains("B counts as well")
    }));
    let now = body(
        app.get(&format!("/api/v1/tickets/{origin_id}"), &tree.root)
            .await,
    )
    .await;
    assert_eq!(now["status"], "closed");
}
