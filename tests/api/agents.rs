use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{PASSWORD, assert_problem, body, spawn_app};

#[tokio::test]
async fn a_shift_hand_off_spreads_open_tickets_over_colleagues_on_shift() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let agent = body(app.get("/api/v1/me", &tree.agent_a).await).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let colleague = |email: &'static str| {
        let app = &app;
        let admin = tree.admin_a.clone();
        let partner = tree.partner_a;
        async move {
            app.create_user(&admin, partner, email, "agent")
                .await
                .to_string()
        }
    };
    let second = colleague("second@a.test").await;
    let third = colleague("third@a.test").await;
    let resting = colleague("resting@a.test").await;
    let l1 = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let l3 = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L3", "kind": "l3"}),
        )
        .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for member in [&agent, &second, &third, &resting] {
        app.put(
            &format!("/api/v1/users/{member}/groups"),
            &tree.admin_a,
            &json!({"group_ids": [l1]}),
        )
        .await;
    }
    let off = app
        .put(
            &format!("/api/v1/agents/{resting}/availability"),
            &tree.admin_a,
            &json!({"availability": "off_shift"}),
        )
        .await;
    assert_eq!(body(off).await["availability"], "off_shift");

    let ticket = |group: Option<&str>, assignee: &str| json!({"subject": "Exam", "requester": {"email": "s@uni.example"}, "group_id": group, "assignee_id": assignee});
    let existing = body(
        app.post(
            "/api/v1/tickets",
            &tree.admin_a,
            &ticket(Some(&l1), &second),
        )
        .await,
    )
    .await;
    assert_eq!(existing["assignee_id"], second.as_str());
    for _ in 0..3 {
        app.post("/api/v1/tickets", &tree.admin_a, &ticket(Some(&l1), &agent))
            .await;
    }
    // Without a group, the agent's own groups decide; a ticket of a group nobody else is on
    // shift in stays.
    app.post("/api/v1/tickets", &tree.admin_a, &ticket(None, &agent))
        .await;
    let stuck = body(
        app.post("/api/v1/tickets", &tree.admin_a, &ticket(Some(&l3), &agent))
            .await,
    )
    .await;

    // Nobody hands off a colleague's shift but the colleague, a supervisor or an admin.
    let second_token = app.login("second@a.test", PASSWORD).await.access;
    assert_problem(
        app.post(
            &format!("/api/v1/agents/{agent}/handoff"),
            &second_token,
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;

    let report = app
        .post(
            &format!("/api/v1/agents/{agent}/handoff"),
            &tree.agent_a,
            &json!({}),
        )
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let report = body(report).await;
    assert_eq!(report["moved"].as_array().unwrap().len(), 4);
    assert_eq!(report["kept"], json!([stuck["id"]]));
    let load = |user: &str| {
        let app = &app;
        let admin = tree.admin_a.clone();
        let user = user.to_owned();
        async move {
            body(
                app.get(&format!("/api/v1/tickets?assignee_id={user}"), &admin)
                    .await,
            )
            .await["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let (on_second, on_third) = (load(&second).await, load(&third).await);
    assert_eq!(on_second + on_third, 5);
    assert!(
        on_second.abs_diff(on_third) <= 1,
        "uneven: {on_second} vs {on_third}"
    );
    assert_eq!(
        load(&resting).await,
        0,
        "an agent off shift receives nothing"
    );
    assert_eq!(load(&agent).await, 1);

    let moved: &Value = &report["moved"][0];
    let id = moved["ticket_id"].as_str().unwrap();
    let conversation = body(
        app.get(&format!("/api/v1/tickets/{id}/conversation"), &tree.agent_a)
            .await,
    )
    .await;
    let note = conversation.as_array().unwrap().last().unwrap();
    assert_eq!(note["kind"], "note");
    assert!(note["body_text"].as_str().unwrap().contains("Handed over"));
    let html = note["body_html"].as_str().unwrap();
    assert!(
        html.starts_with("<p>Handed over from ") && !html.contains("&#32;"),
        "spaces stay spaces in an automatic note: {html}"
    );
    let history = body(
        app.get(&format!("/api/v1/tickets/{id}/activities"), &tree.agent_a)
            .await,
    )
    .await;
    // The hand-off is recorded, then the note that explains it.
    let fields: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(2)
        .map(|entry| entry["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["note", "assignee_id"]);

    // The kept ticket is still the off-shift agent's: a colleague does not take it, an admin
    // takes it over by forcing.
    let take = format!("/api/v1/tickets/{}/take", stuck["id"].as_str().unwrap());
    assert_problem(
        app.post(&take, &second_token, &json!({})).await,
        StatusCode::CONFLICT,
        "already_assigned",
    )
    .await;
    let taken = body(
        app.post(&format!("{take}?force=true"), &tree.admin_a, &json!({}))
            .await,
    )
    .await;
    let admin_id = body(app.get("/api/v1/me", &tree.admin_a).await).await["user_id"].clone();
    assert_eq!(taken["assignee_id"], admin_id);
    // Another partner can neither see nor move partner A's agents.
    assert_problem(
        app.post(
            &format!("/api/v1/agents/{agent}/handoff"),
            &tree.admin_b,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.put(
            &format!("/api/v1/agents/{agent}/availability"),
            &tree.admin_b,
            &json!({"availability": "away"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.post(
            &format!("/api/v1/tickets/{}/take", stuck["id"].as_str().unwrap()),
            &tree.admin_b,
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn going_off_shift_hands_over_the_tickets_of_groups_that_ask_for_it() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let agent = body(app.get("/api/v1/me", &tree.agent_a).await).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let colleague = app
        .create_user(&tree.admin_a, tree.partner_a, "second@a.test", "agent")
        .await
        .to_string();
    let group = |name: &str, auto: bool| {
        let app = &app;
        let admin = tree.admin_a.clone();
        let settings = json!({"name": name, "kind": "l1", "auto_handoff": auto});
        async move {
            body(app.post("/api/v1/groups", &admin, &settings).await).await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let handing = group("Night shift", true).await;
    let keeping = group("Experts", false).await;
    for member in [&agent, &colleague] {
        app.put(
            &format!("/api/v1/users/{member}/groups"),
            &tree.admin_a,
            &json!({"group_ids": [handing, keeping]}),
        )
        .await;
    }
    let ticket = |group: &str| json!({"subject": "Exam", "requester": {"email": "s@uni.example"}, "group_id": group, "assignee_id": agent});
    let mut handed = Vec::new();
    for _ in 0..2 {
        let created = app
            .post("/api/v1/tickets", &tree.admin_a, &ticket(&handing))
            .await;
        handed.push(body(created).await["id"].as_str().unwrap().to_owned());
    }
    let kept = body(
        app.post("/api/v1/tickets", &tree.admin_a, &ticket(&keeping))
            .await,
    )
    .await;

    // Going away hands nothing over.
    let away = body(
        app.put(
            &format!("/api/v1/agents/{agent}/availability"),
            &tree.agent_a,
            &json!({"availability": "away"}),
        )
        .await,
    )
    .await;
    assert_eq!(away["availability"], "away");
    assert!(away.get("handoff").is_none());

    let off = app
        .put(
            &format!("/api/v1/agents/{agent}/availability"),
            &tree.agent_a,
            &json!({"availability": "off_shift"}),
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    let off = body(off).await;
    assert_eq!(off["availability"], "off_shift");
    assert_eq!(off["id"], agent.as_str());
    let moved: Vec<&str> = off["handoff"]["moved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(moved, handed.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(off["handoff"]["kept"], json!([]));
    for id in &handed {
        let now = body(
            app.get(&format!("/api/v1/tickets/{id}"), &tree.admin_a)
                .await,
        )
        .await;
        assert_eq!(now["assignee_id"], colleague.as_str());
        let conversation = body(
            app.get(&format!("/api/v1/tickets/{id}/conversation"), &tree.admin_a)
                .await,
        )
        .await;
        let note = conversation.as_array().unwrap().last().unwrap();
        assert_eq!(note["kind"], "note");
        assert!(note["body_text"].as_str().unwrap().contains("Handed over"));
    }
    // The group that does not ask for it keeps its ticket with the agent, with no note.
    let still = body(
        app.get(
            &format!("/api/v1/tickets/{}", kept["id"].as_str().unwrap()),
            &tree.admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(still["assignee_id"], agent.as_str());
    let conversation = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/conversation",
                kept["id"].as_str().unwrap()
            ),
            &tree.admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(conversation, json!([]));
}
