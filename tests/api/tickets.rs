use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tests::{TestApp, Tree, assert_problem, body, spawn_app};

async fn new_ticket(app: &TestApp, token: &str, request: Value) -> Value {
    let response = app.post("/api/v1/tickets", token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{request}");
    body(response).await
}

fn from_student(subject: &str) -> Value {
    json!({"subject": subject, "description": "The camera check fails", "source": "email",
           "requester": {"email": "student@uni-a.example", "name": "Ana"}})
}

async fn agent_id(app: &TestApp, tree: &Tree, email: &str) -> String {
    let users = body(app.get("/api/v1/users?limit=100", &tree.root).await).await;
    users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn tickets_get_per_tenant_numbers_and_reuse_their_requester() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let response = app
        .post(
            "/api/v1/tickets",
            &tree.agent_a,
            &from_student("Camera check fails"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let first = body(response).await;
    assert_eq!(
        location,
        format!("/api/v1/tickets/{}", first["id"].as_str().unwrap())
    );
    assert_eq!(first["number"], 1);
    assert_eq!(first["status"], "open");
    assert_eq!(first["priority"], "medium");
    assert_eq!(first["source"], "email");
    assert_eq!(first["tenant_id"], tree.partner_a.to_string());
    let second = new_ticket(&app, &tree.agent_a, from_student("Still failing!!!")).await;
    assert_eq!(second["number"], 2);
    assert_eq!(
        second["requester_id"], first["requester_id"],
        "the same e-mail is the same contact"
    );
    let contacts = body(app.get("/api/v1/contacts", &tree.agent_a).await).await;
    assert_eq!(contacts["items"].as_array().unwrap().len(), 1);
    // Another partner counts from 1, and a partner's client has its own sequence too.
    assert_eq!(
        new_ticket(&app, &tree.admin_b, from_student("Other partner")).await["number"],
        1
    );
    let mut for_client = from_student("Client ticket");
    for_client["tenant_id"] = json!(tree.client_a);
    let client_ticket = new_ticket(&app, &tree.agent_a, for_client).await;
    assert_eq!(client_ticket["number"], 1);
    assert_eq!(client_ticket["tenant_id"], tree.client_a.to_string());
    // The client's own staff see it; partner A's agent sees all three of partner A's tree.
    let seen_by_client = body(app.get("/api/v1/tickets", &tree.client_admin_a).await).await;
    assert_eq!(seen_by_client["items"].as_array().unwrap().len(), 1);
    let seen_by_agent = body(app.get("/api/v1/tickets", &tree.agent_a).await).await;
    assert_eq!(seen_by_agent["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        seen_by_agent["items"][0]["id"], client_ticket["id"],
        "newest first"
    );

    let history = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/activities",
                first["id"].as_str().unwrap()
            ),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(history[0]["field"], "created");
    assert_eq!(history[0]["actor_type"], "user");
    assert_eq!(history[0]["new_value"]["number"], 1);
}

#[tokio::test]
async fn a_hundred_parallel_creations_get_a_hundred_gapless_numbers() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mut tasks = Vec::new();
    for n in 0..100 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/tickets", app.address);
        let token = tree.agent_a.clone();
        tasks.push(tokio::spawn(async move {
            let request = json!({"subject": format!("Outage report {n}"), "requester": {"email": format!("s{n}@uni.example")}});
            let response = client.post(url).bearer_auth(token).json(&request).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()["number"].as_i64().unwrap()
        }));
    }
    let mut numbers = BTreeSet::new();
    for task in tasks {
        numbers.insert(task.await.unwrap());
    }
    assert_eq!(numbers, (1..=100).collect::<BTreeSet<i64>>());
}

#[tokio::test]
async fn edits_are_audited_and_stale_versions_are_refused() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, from_student("Form sent by sales")).await;
    let id = ticket["id"].as_str().unwrap();
    let path = format!("/api/v1/tickets/{id}");
    let real_student = body(
        app.post(
            "/api/v1/contacts",
            &tree.agent_a,
            &json!({"email": "real.student@uni-a.example"}),
        )
        .await,
    )
    .await;
    let agent = agent_id(&app, &tree, "agent@a.test").await;
    let group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await;

    let edit = json!({"status": "pending", "priority": "urgent", "tags": ["Camera", "camera", "exam"], "ticket_type": "equipment_check",
                      "requester_id": real_student["id"], "assignee_id": agent, "group_id": group["id"]});
    let updated = app
        .request(Method::PATCH, &path, Some(&tree.agent_a))
        .header("if-match", "\"1\"")
        .json(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    assert_eq!(updated.headers()["etag"], "\"2\"");
    let updated = body(updated).await;
    assert_eq!(updated["tags"], json!(["camera", "exam"]));
    assert_eq!(updated["requester_id"], real_student["id"]);
    assert_eq!(updated["assignee_id"], agent.as_str());

    // A second agent still holding version 1 is refused, and nothing is overwritten.
    let stale = app
        .request(Method::PATCH, &path, Some(&tree.admin_a))
        .header("if-match", "\"1\"")
        .json(&json!({"priority": "low"}))
        .send()
        .await
        .unwrap();
    assert_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(
        body(app.get(&path, &tree.agent_a).await).await["priority"],
        "urgent"
    );

    let history = body(app.get(&format!("{path}/activities"), &tree.agent_a).await).await;
    let fields: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["field"].as_str().unwrap())
        .collect();
    for field in [
        "created",
        "status",
        "priority",
        "tags",
        "ticket_type",
        "requester_id",
        "assignee_id",
        "group_id",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let requester_change = history
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["field"] == "requester_id")
        .unwrap();
    assert_eq!(requester_change["old_value"], ticket["requester_id"]);
    assert_eq!(requester_change["new_value"], real_student["id"]);

    // Resolving stamps the time; closing twice is fine.
    let resolved = body(
        app.patch(&path, &tree.agent_a, &json!({"status": "resolved"}))
            .await,
    )
    .await;
    assert!(resolved["resolved_at"].is_string());
    assert_eq!(
        app.patch(&path, &tree.agent_a, &json!({"status": "closed"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.patch(&path, &tree.agent_a, &json!({"status": "closed"}))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn references_must_belong_to_the_ticket_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, from_student("x")).await;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());
    let group_b = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_b,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await;
    let client_group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"tenant_id": tree.client_a, "name": "Organisers", "kind": "team"}),
        )
        .await,
    )
    .await;
    let agent_b = agent_id(&app, &tree, "admin@b.test").await;
    let client_staff = agent_id(&app, &tree, "staff@client-a.test").await;
    for (field, value) in [
        ("group_id", group_b["id"].clone()),
        // A client's group cannot hold its partner's tickets.
        ("group_id", client_group["id"].clone()),
        ("assignee_id", json!(agent_b)),
        ("assignee_id", json!(client_staff)),
        ("requester_id", json!(uuid::Uuid::now_v7())),
        ("company_id", json!(uuid::Uuid::now_v7())),
    ] {
        let problem = assert_problem(
            app.patch(&path, &tree.agent_a, &json!({field: value}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    for request in [
        json!({"subject": "no requester"}),
        json!({"subject": " ", "requester": {"email": "a@b.example"}}),
        json!({"subject": "x", "priority": "whenever", "requester": {"email": "a@b.example"}}),
        json!({"subject": "x", "tags": ["a,b"], "requester": {"email": "a@b.example"}}),
        json!({"subject": "x", "requester": {"email": "not-an-email"}}),
    ] {
        assert_problem(
            app.post("/api/v1/tickets", &tree.agent_a, &request).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    // Nothing half-written: the refused creations left no contact or ticket behind.
    assert_eq!(
        body(app.get("/api/v1/tickets", &tree.agent_a).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        body(app.get("/api/v1/contacts", &tree.agent_a).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The next number is still 2: failed creations gave theirs back.
    assert_eq!(
        new_ticket(&app, &tree.agent_a, from_student("y")).await["number"],
        2
    );
    assert_problem(
        app.request(Method::PATCH, &path, Some(&tree.agent_a))
            .header("if-match", "garbage")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
}

#[tokio::test]
async fn replies_are_sanitised_and_notes_stay_private() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mut request = from_student("Exam content question");
    request["tenant_id"] = json!(tree.client_a);
    let ticket = new_ticket(&app, &tree.agent_a, request).await;
    let id = ticket["id"].as_str().unwrap();
    let reply = app
        .post(&format!("/api/v1/tickets/{id}/replies"), &tree.agent_a, &json!({"body": "<p onclick=\"steal()\">Hello &amp; welcome</p><script>alert(1)</script>"}))
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let reply = body(reply).await;
    assert_eq!(reply["kind"], "reply");
    assert_eq!(reply["body_html"], "<p>Hello &amp; welcome</p>");
    assert_eq!(reply["body_text"], "Hello & welcome");
    let note = body(
        app.post(
            &format!("/api/v1/tickets/{id}/notes"),
            &tree.agent_a,
            &json!({"body": "Forward to the organiser"}),
        )
        .await,
    )
    .await;
    assert_eq!(note["kind"], "note");

    let seen = body(
        app.get(&format!("/api/v1/tickets/{id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert!(seen["first_responded_at"].is_string());
    assert_eq!(seen["version"], 3);
    let agent_view = body(
        app.get(&format!("/api/v1/tickets/{id}/conversation"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(agent_view.as_array().unwrap().len(), 2);
    let client_view = body(
        app.get(
            &format!("/api/v1/tickets/{id}/conversation"),
            &tree.client_admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(
        client_view.as_array().unwrap().len(),
        1,
        "client staff do not see private notes"
    );
    assert_eq!(client_view[0]["kind"], "reply");
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{id}/replies"),
            &tree.client_admin_a,
            &json!({"body": "hi"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{id}/replies"),
            &tree.agent_a,
            &json!({"body": "   "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn ticket_lists_filter_and_page_newest_first() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    for n in 0..5 {
        let mut request = from_student(&format!("Proctoring status {n}"));
        request["tags"] = json!(if n % 2 == 0 {
            vec!["outage"]
        } else {
            vec!["camera"]
        });
        request["priority"] = json!(if n == 4 { "urgent" } else { "low" });
        new_ticket(&app, &tree.agent_a, request).await;
    }
    new_ticket(&app, &tree.agent_a, json!({"subject": "Microphone", "requester": {"telegram_id": "@student"}, "source": "telegram"})).await;
    let count = |v: Value| v["items"].as_array().unwrap().len();
    assert_eq!(
        count(body(app.get("/api/v1/tickets?tag=outage", &tree.agent_a).await).await),
        3
    );
    assert_eq!(
        count(
            body(
                app.get("/api/v1/tickets?priority=urgent", &tree.agent_a)
                    .await
            )
            .await
        ),
        1
    );
    assert_eq!(
        count(
            body(
                app.get("/api/v1/tickets?source=telegram", &tree.agent_a)
                    .await
            )
            .await
        ),
        1
    );
    assert_eq!(
        count(
            body(
                app.get("/api/v1/tickets?q=PROCTORING%20status", &tree.agent_a)
                    .await
            )
            .await
        ),
        5
    );
    assert_eq!(
        count(
            body(
                app.get("/api/v1/tickets?q=camera%20check", &tree.agent_a)
                    .await
            )
            .await
        ),
        5
    );
    assert_eq!(
        count(
            body(
                app.get("/api/v1/tickets?status=closed", &tree.agent_a)
                    .await
            )
            .await
        ),
        0
    );
    assert_problem(
        app.get("/api/v1/tickets?status=done", &tree.agent_a).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;

    let first = body(app.get("/api/v1/tickets?limit=4", &tree.agent_a).await).await;
    let numbers: Vec<i64> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [6, 5, 4, 3]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = body(
        app.get(
            &format!("/api/v1/tickets?limit=4&cursor={cursor}"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    let numbers: Vec<i64> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn a_failing_ticket_in_a_batch_neither_fails_its_neighbours_nor_leaves_a_gap() {
    use api::tickets::writer::{NewTicket, TicketWriter};
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let root = app.root().await;
    let platform = app.platform_id(&root).await;
    let existing = new_ticket(&app, &root, from_student("before")).await;
    let tenant = entity::tenant::Entity::find_by_id(platform)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let scope = api::auth::principal::Principal::operator(&tenant).scope;
    let writer = std::sync::Arc::new(TicketWriter::start(&app.state.settings, 2).unwrap());
    let template: entity::ticket::Model = <entity::ticket::Entity as EntityTrait>::find_by_id(
        existing["id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .unwrap(),
    )
    .one(&app.db)
    .await
    .unwrap()
    .unwrap();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let writer = writer.clone();
        let mut ticket = template.clone();
        ticket.id = uuid::Uuid::now_v7();
        ticket.subject = format!("batched {n}");
        if n == 7 {
            // A requester that does not exist: the database refuses this one ticket.
            ticket.requester_id = uuid::Uuid::now_v7();
        }
        let scope = scope.clone();
        tasks.push(tokio::spawn(async move {
            writer
                .write(NewTicket {
                    ticket,
                    actor: api::tickets::change::Actor {
                        kind: "operator",
                        id: None,
                    },
                    assign_scope: scope.clone(),
                    scope,
                })
                .await
        }));
    }
    let mut numbers = BTreeSet::new();
    let mut failures = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(ticket) => {
                numbers.insert(ticket.number);
            }
            Err(_) => failures += 1,
        }
    }
    assert_eq!(failures, 1);
    assert_eq!(numbers, (2..=20).collect::<BTreeSet<i64>>());
    let history = <entity::ticket_activity::Entity as EntityTrait>::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(history.len(), 20, "one `created` row per stored ticket");
}

#[tokio::test]
async fn merging_moves_the_conversation_and_closes_the_secondaries() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let primary = new_ticket(&app, &tree.agent_a, from_student("Exam won't start")).await;
    let second = new_ticket(&app, &tree.agent_a, from_student("Exam won't start!!")).await;
    let third = new_ticket(&app, &tree.agent_a, from_student("HELP exam")).await;
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/tickets/{}/replies", id(&second)),
        &tree.agent_a,
        &json!({"body": "Which exam?"}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{}/notes", id(&third)),
        &tree.agent_a,
        &json!({"body": "Same student as #1"}),
    )
    .await;

    let merged = app
        .post(
            &format!("/api/v1/tickets/{}/merge", id(&primary)),
            &tree.agent_a,
            &json!({"secondary_ids": [id(&second), id(&third)]}),
        )
        .await;
    assert_eq!(merged.status(), StatusCode::OK);
    let conversation = body(
        app.get(
            &format!("/api/v1/tickets/{}/conversation", id(&primary)),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(conversation.as_array().unwrap().len(), 2);
    for secondary in [&second, &third] {
        let closed = body(
            app.get(&format!("/api/v1/tickets/{}", id(secondary)), &tree.agent_a)
                .await,
        )
        .await;
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["merged_into_id"], primary["id"]);
        let history = body(
            app.get(
                &format!("/api/v1/tickets/{}/activities", id(secondary)),
                &tree.agent_a,
            )
            .await,
        )
        .await;
        assert_eq!(
            history.as_array().unwrap().last().unwrap()["field"],
            "merged_into"
        );
    }
    let history = body(
        app.get(
            &format!("/api/v1/tickets/{}/activities", id(&primary)),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["field"], "merged");
    assert_eq!(last["new_value"].as_array().unwrap().len(), 2);

    // A merged ticket takes no replies or edits, and cannot be merged again.
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{}/replies", id(&second)),
            &tree.agent_a,
            &json!({"body": "late"}),
        )
        .await,
        StatusCode::CONFLICT,
        "ticket_merged",
    )
    .await;
    assert_problem(
        app.patch(
            &format!("/api/v1/tickets/{}", id(&second)),
            &tree.agent_a,
            &json!({"status": "open"}),
        )
        .await,
        StatusCode::CONFLICT,
        "ticket_merged",
    )
    .await;
    let fourth = new_ticket(&app, &tree.agent_a, from_student("again")).await;
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{}/merge", id(&fourth)),
            &tree.agent_a,
            &json!({"secondary_ids": [id(&second)]}),
        )
        .await,
        StatusCode::CONFLICT,
        "ticket_merged",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{}/merge", id(&fourth)),
            &tree.agent_a,
            &json!({"secondary_ids": [id(&fourth)]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Another partner's ticket is not found, and a client's ticket is another tenant's.
    let other = new_ticket(&app, &tree.admin_b, from_student("B")).await;
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{}/merge", id(&fourth)),
            &tree.agent_a,
            &json!({"secondary_ids": [id(&other)]}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let mut for_client = from_student("client");
    for_client["tenant_id"] = json!(tree.client_a);
    let client_ticket = new_ticket(&app, &tree.agent_a, for_client).await;
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{}/merge", id(&fourth)),
            &tree.agent_a,
            &json!({"secondary_ids": [id(&client_ticket)]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body(
            app.get(&format!("/api/v1/tickets/{}", id(&fourth)), &tree.agent_a)
                .await
        )
        .await["version"],
        1,
        "refused merges changed nothing"
    );
}

#[tokio::test]
async fn word_search_ignores_case_in_any_script() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, json!({"subject": "Камера не работает на экзамене", "description": "Проверка оборудования",
                                                        "requester": {"whatsapp_id": "79161234567"}})).await;
    new_ticket(&app, &tree.agent_a, from_student("Camera check fails")).await;
    let search = |q: &'static str| {
        let app = &app;
        let token = tree.agent_a.clone();
        async move {
            let response = app
                .request(Method::GET, "/api/v1/tickets", Some(&token))
                .query(&[("q", q)])
                .send()
                .await
                .unwrap();
            body(response).await["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["number"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("камера").await, [1]);
    assert_eq!(search("КАМЕРА").await, [1]);
    assert_eq!(search("оборудования").await, [1]);
    assert_eq!(search("CAMERA").await, [2]);
    assert_eq!(search("микрофон").await, Vec::<i64>::new());
    // Edits are searchable at once.
    app.patch(
        &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        &tree.agent_a,
        &json!({"subject": "Микрофон не работает"}),
    )
    .await;
    assert_eq!(search("микрофон").await, [1]);
    assert_eq!(search("камера").await, Vec::<i64>::new());
}

#[tokio::test]
async fn custom_fields_are_checked_on_every_write_and_named_when_wrong() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let define = |definition: Value| {
        let app = &app;
        let admin = tree.admin_a.clone();
        async move { app.post("/api/v1/ticket-fields", &admin, &definition).await }
    };
    assert_eq!(
        define(json!({"key": "exam_id", "label": "Exam", "field_type": "text", "required": true}))
            .await
            .status(),
        StatusCode::CREATED
    );
    define(json!({"key": "attempt", "label": "Attempt", "field_type": "number"})).await;
    define(json!({"key": "platform", "label": "Platform", "field_type": "dropdown", "options": ["Moodle", "Examus"]})).await;
    define(json!({"key": "retake", "label": "Retake", "field_type": "checkbox"})).await;
    define(json!({"key": "exam_date", "label": "Exam date", "field_type": "date"})).await;
    assert_problem(
        define(json!({"key": "exam_id", "label": "Again", "field_type": "text"})).await,
        StatusCode::CONFLICT,
        "field_key_taken",
    )
    .await;
    assert_problem(
        define(json!({"key": "Bad Key", "label": "x", "field_type": "text"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        define(json!({"key": "choice", "label": "x", "field_type": "dropdown"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/ticket-fields",
            &tree.agent_a,
            &json!({"key": "x", "label": "x", "field_type": "text"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;

    let mut request = from_student("Exam stuck");
    request["custom_fields"] = json!({"attempt": "two", "platform": "Canvas", "retake": "yes", "exam_date": "31.12.2026", "colour": "red"});
    let problem = assert_problem(
        app.post("/api/v1/tickets", &tree.agent_a, &request).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let mut named: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    named.sort();
    assert_eq!(
        named,
        [
            "custom_fields.attempt",
            "custom_fields.colour",
            "custom_fields.exam_date",
            "custom_fields.exam_id",
            "custom_fields.platform",
            "custom_fields.retake"
        ]
    );
    assert_eq!(
        body(app.get("/api/v1/tickets", &tree.agent_a).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing was written"
    );

    request["custom_fields"] = json!({"exam_id": "MATH-101", "attempt": 2, "platform": "Examus", "retake": false, "exam_date": "2026-12-31"});
    let ticket = new_ticket(&app, &tree.agent_a, request).await;
    assert_eq!(ticket["custom_fields"]["platform"], "Examus");
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());
    let updated = body(
        app.patch(
            &path,
            &tree.agent_a,
            &json!({"custom_fields": {"attempt": 3, "retake": null}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        updated["custom_fields"],
        json!({"exam_id": "MATH-101", "attempt": 3, "platform": "Examus", "exam_date": "2026-12-31"})
    );
    let wrong = app
        .patch(
            &path,
            &tree.agent_a,
            &json!({"custom_fields": {"attempt": "three"}}),
        )
        .await;
    let problem =
        assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "custom_fields.attempt");
    let history = body(app.get(&format!("{path}/activities"), &tree.agent_a).await).await;
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["field"],
        "custom_fields"
    );
    // Partner B neither sees partner A's definitions nor gets them applied to its tickets.
    assert_eq!(
        body(app.get("/api/v1/ticket-fields", &tree.admin_b).await)
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.post("/api/v1/tickets", &tree.admin_b, &from_student("B"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let field_id = body(app.get("/api/v1/ticket-fields", &tree.admin_a).await).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        app.delete(&format!("/api/v1/ticket-fields/{field_id}"), &tree.admin_b)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/v1/ticket-fields/{field_id}"), &tree.admin_a)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn simultaneous_first_messages_from_one_person_share_one_contact() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/tickets", app.address);
        let token = tree.agent_a.clone();
        tasks.push(tokio::spawn(async move {
            let request = json!({"subject": format!("Help {n}"), "requester": {"email": "first.time@uni.example"}});
            client.post(url).bearer_auth(token).json(&request).send().await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    let contacts = body(
        app.get(
            "/api/v1/contacts?email=first.time@uni.example",
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(contacts["items"].as_array().unwrap().len(), 1);
}

/// The ids of the tickets `GET /tickets?{query}` lists for `token`, as subjects.
async fn subjects(app: &TestApp, token: &str, query: &str) -> BTreeSet<String> {
    let response = app.get(&format!("/api/v1/tickets?{query}"), token).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    body(response).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn search_matches_every_word_and_tags_exactly_never_as_patterns() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let agent = &tree.agent_a;
    for (subject, description, tags) in [
        (
            "Camera fails during the exam",
            "Restarted twice",
            json!(["exam-2026"]),
        ),
        ("Exam room: camera dark", "", json!(["exam_2026"])),
        (
            "Discount 100% off",
            "code done_now",
            json!([r#"say "hi" \ bye"#]),
        ),
        ("Microphone", "nothing else", json!(["examx2026"])),
    ] {
        new_ticket(
            &app,
            agent,
            json!({"subject": subject, "description": description, "tags": tags,
                   "requester": {"email": "ana@uni-a.example"}}),
        )
        .await;
    }
    let discount = set(&["Discount 100% off"]);
    // Wildcards are text: `%` and `_` find the tickets that contain them, and only those.
    assert_eq!(subjects(&app, agent, "q=%25").await, discount);
    assert_eq!(subjects(&app, agent, "q=_").await, discount);
    assert_eq!(subjects(&app, agent, "q=100%25%20OFF").await, discount);
    assert_eq!(subjects(&app, agent, "tag=%25").await, set(&[]));
    assert_eq!(subjects(&app, agent, "tag=exam%25").await, set(&[]));
    // Every word must appear, in any order, in the subject or the description.
    assert_eq!(
        subjects(&app, agent, "q=camera%20exam").await,
        set(&["Camera fails during the exam", "Exam room: camera dark"])
    );
    assert_eq!(
        subjects(&app, agent, "q=exam%20restarted").await,
        set(&["Camera fails during the exam"])
    );
    assert_eq!(
        subjects(&app, agent, "q=camera%20microphone").await,
        set(&[])
    );
    // Tags match exactly: `_` is not a wildcard, and quotes and backslashes can be found.
    assert_eq!(
        subjects(&app, agent, "tag=exam_2026").await,
        set(&["Exam room: camera dark"])
    );
    assert_eq!(
        subjects(&app, agent, "tag=EXAM-2026").await,
        set(&["Camera fails during the exam"])
    );
    assert_eq!(
        subjects(&app, agent, "tag=say%20%22hi%22%20%5C%20bye").await,
        discount
    );
    // A search is bounded: at most 8 words.
    assert_problem(
        app.get("/api/v1/tickets?q=a%20b%20c%20d%20e%20f%20g%20h%20i", agent)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // Saved views read the filter the same way.
    let view = body(
        app.post(
            "/api/v1/views",
            agent,
            &json!({"name": "Exam 2026", "filters": {"tag": "exam_2026"}}),
        )
        .await,
    )
    .await;
    let through_view = body(
        app.get(
            &format!("/api/v1/views/{}/tickets", view["id"].as_str().unwrap()),
            agent,
        )
        .await,
    )
    .await;
    let items = through_view["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{through_view}");
    assert_eq!(items[0]["subject"], "Exam room: camera dark");
}

#[tokio::test]
async fn a_word_with_punctuation_or_short_parts_matches_as_written() {
    // On PostgreSQL such a word is looked up through its long parts (`4821`) and then matched
    // exactly; the answer must be what matching the whole word gives.
    let app = spawn_app().await;
    let tree = app.tree().await;
    let agent = &tree.agent_a;
    for subject in [
        "Exam code EX-4821: camera dark",
        "Exam code ex-4822, camera fine",
        "Exam ex 4821 camera",
        "Code 4821-ex camera",
        "ana@uni-a.example asks",
    ] {
        new_ticket(
            &app,
            agent,
            json!({"subject": subject, "requester": {"email": "ana@uni-a.example"}}),
        )
        .await;
    }
    let first = set(&["Exam code EX-4821: camera dark"]);
    assert_eq!(subjects(&app, agent, "q=ex-4821").await, first);
    assert_eq!(subjects(&app, agent, "q=camera%20EX-4821").await, first);
    assert_eq!(subjects(&app, agent, "q=4821:").await, first);
    assert_eq!(
        subjects(&app, agent, "q=x-48").await,
        set(&[
            "Exam code EX-4821: camera dark",
            "Exam code ex-4822, camera fine"
        ])
    );
    assert_eq!(
        subjects(&app, agent, "q=4821").await,
        set(&[
            "Exam code EX-4821: camera dark",
            "Exam ex 4821 camera",
            "Code 4821-ex camera"
        ])
    );
    assert_eq!(
        subjects(&app, agent, "q=ana@uni-a.example").await,
        set(&["ana@uni-a.example asks"])
    );
    assert_eq!(subjects(&app, agent, "q=ex-4821%20fine").await, set(&[]));
}

async fn post_reply(app: &TestApp, token: &str, ticket: &Value, html: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/tickets/{}/replies", ticket["id"].as_str().unwrap()),
        token,
        &json!({ "body": html }),
    )
    .await
}

#[tokio::test]
async fn plain_text_of_a_reply_keeps_paragraphs_lines_and_list_items() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, from_student("Camera")).await;
    let reply = post_reply(
        &app,
        &tree.agent_a,
        &ticket,
        "<p>Hello Ana,</p><p>Restart.<br>Then:</p><ul><li>close the browser</li><li>open it again</li></ul><div>Tom &amp; Jerry</div>",
    )
    .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let reply = body(reply).await;
    assert_eq!(
        reply["body_text"],
        "Hello Ana,\n\nRestart.\nThen:\n- close the browser\n- open it again\n\nTom & Jerry"
    );
    // A plain-text body keeps its own line breaks, in the text and in the HTML.
    let plain = body(post_reply(&app, &tree.agent_a, &ticket, "Hi Ana,\n\nDone.\nBye").await).await;
    assert_eq!(plain["body_text"], "Hi Ana,\n\nDone.\nBye");
    assert_eq!(plain["body_html"], "<p>Hi Ana,</p><p>Done.<br>Bye</p>");
}

#[tokio::test]
async fn a_reply_with_nothing_left_after_sanitising_is_refused() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, from_student("Camera")).await;
    for html in ["<script>alert(1)</script>", "<style>p{}</style><p> </p>"] {
        let problem = assert_problem(
            post_reply(&app, &tree.agent_a, &ticket, html).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "body", "{html}");
    }
    let conversation = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/conversation",
                ticket["id"].as_str().unwrap()
            ),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert!(
        conversation
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["kind"] != "reply"),
        "nothing was sent: {conversation}"
    );
}

#[tokio::test]
async fn remote_images_are_removed_from_replies() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, from_student("Camera")).await;
    let reply = body(
        post_reply(
            &app,
            &tree.agent_a,
            &ticket,
            r#"<p>Fixed.</p><img src="http://tracker.example/open.gif?id=7" width="1"><img src="//tracker.example/p.gif"><img src="cid:logo@helpdesk" alt="logo">"#,
        )
        .await,
    )
    .await;
    let html = reply["body_html"].as_str().unwrap();
    assert!(!html.contains("tracker.example"), "{html}");
    assert!(html.contains(r#"src="cid:logo@helpdesk""#), "{html}");
    assert_eq!(reply["body_text"], "Fixed.\n\nlogo");
}

#[tokio::test]
async fn a_reply_nested_thousands_deep_is_refused_without_parsing_it() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, from_student("Camera")).await;
    let deep = format!("{}Hi{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
    let started = std::time::Instant::now();
    let problem = assert_problem(
        post_reply(&app, &tree.agent_a, &ticket, &deep).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "body");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered in {:?}",
        started.elapsed()
    );
}
