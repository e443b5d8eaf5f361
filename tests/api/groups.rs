use reqwest::StatusCode;
use serde_json::json;
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn tiers_and_memberships_are_managed_by_admins() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let create = |name: &str, kind: &str| json!({"name": name, "kind": kind, "description": "Students' questions"});
    let l1 = app
        .post(
            "/api/v1/groups",
            &tree.admin_a,
            &create("L1 students", "l1"),
        )
        .await;
    assert_eq!(l1.status(), StatusCode::CREATED);
    let l1 = body(l1).await;
    assert_eq!(l1["tenant_id"], tree.partner_a.to_string());
    assert_eq!(l1["kind"], "l1");
    let l2 = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &create("L2 organisers", "l2"),
        )
        .await,
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &create("L1 students", "l1"),
        )
        .await,
        StatusCode::CONFLICT,
        "group_name_taken",
    )
    .await;
    assert_problem(
        app.post("/api/v1/groups", &tree.admin_a, &create("x", "l9"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post("/api/v1/groups", &tree.agent_a, &create("mine", "team"))
            .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
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
    let set = app
        .put(
            &format!("/api/v1/users/{agent}/groups"),
            &tree.admin_a,
            &json!({"group_ids": [l1["id"], l2["id"], l1["id"]]}),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let mut expected = vec![
        l1["id"].as_str().unwrap().to_owned(),
        l2["id"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(body(set).await["group_ids"], json!(expected));
    let user = body(
        app.get(&format!("/api/v1/users/{agent}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(user["group_ids"], json!(expected));
    let group = body(
        app.get(
            &format!("/api/v1/groups/{}", l1["id"].as_str().unwrap()),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(group["member_ids"], json!([agent]));

    // A group of another tenant (even a client below) is refused, and nothing changes.
    let wrong = app
        .put(
            &format!("/api/v1/users/{agent}/groups"),
            &tree.admin_a,
            &json!({"group_ids": [client_group["id"]]}),
        )
        .await;
    assert_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(
        body(
            app.get(&format!("/api/v1/users/{agent}"), &tree.admin_a)
                .await
        )
        .await["group_ids"],
        json!(expected)
    );

    let renamed = body(
        app.patch(
            &format!("/api/v1/groups/{}", l2["id"].as_str().unwrap()),
            &tree.admin_a,
            &json!({"name": "L2 clients", "kind": "l2"}),
        )
        .await,
    )
    .await;
    assert_eq!(renamed["name"], "L2 clients");
    assert_eq!(renamed["member_ids"], json!([agent]));
    assert_eq!(
        app.delete(
            &format!("/api/v1/groups/{}", l2["id"].as_str().unwrap()),
            &tree.admin_a
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let user = body(
        app.get(&format!("/api/v1/users/{agent}"), &tree.admin_a)
            .await,
    )
    .await;
    assert_eq!(user["group_ids"], json!([l1["id"]]));
    let listed = body(app.get("/api/v1/groups", &tree.admin_a).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let listed_b = body(app.get("/api/v1/groups", &tree.admin_b).await).await;
    assert_eq!(listed_b["items"].as_array().unwrap().len(), 0);
}

/// Partner A's agent plus `extra` new agents of partner A, all members of one new group of
/// partner A with these settings; returns the group id and the members' ids, lowest first.
async fn staffed_group(
    app: &tests::TestApp,
    tree: &tests::Tree,
    settings: serde_json::Value,
    extra: &[&str],
) -> (String, Vec<String>) {
    let mut members = vec![
        body(app.get("/api/v1/me", &tree.agent_a).await).await["user_id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    for email in extra {
        members.push(
            app.create_user(&tree.admin_a, tree.partner_a, email, "agent")
                .await
                .to_string(),
        );
    }
    members.sort();
    let group = app.post("/api/v1/groups", &tree.admin_a, &settings).await;
    assert_eq!(group.status(), StatusCode::CREATED);
    let group = body(group).await["id"].as_str().unwrap().to_owned();
    for member in &members {
        let set = app
            .put(
                &format!("/api/v1/users/{member}/groups"),
                &tree.admin_a,
                &json!({"group_ids": [group]}),
            )
            .await;
        assert_eq!(set.status(), StatusCode::OK);
    }
    (group, members)
}

async fn new_ticket(
    app: &tests::TestApp,
    token: &str,
    group: Option<&str>,
    assignee: Option<&str>,
) -> serde_json::Value {
    let created = app
        .post(
            "/api/v1/tickets",
            token,
            &json!({"subject": "Exam", "requester": {"email": "s@uni.example"}, "group_id": group, "assignee_id": assignee}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await
}

#[tokio::test]
async fn groups_carry_a_calendar_an_assignment_mode_and_auto_handoff() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let plain = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L3", "kind": "l3"}),
        )
        .await,
    )
    .await;
    assert_eq!(plain["assignment_mode"], "manual");
    assert_eq!(plain["auto_handoff"], false);
    assert!(plain["calendar_id"].is_null());
    let calendar = body(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &json!({"name": "L1 hours", "time_zone": "Europe/Lisbon",
                    "intervals": [{"day": "mon", "start": "06:00", "end": "22:00"}]}),
        )
        .await,
    )
    .await;
    let l1 = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1", "calendar_id": calendar["id"],
                    "assignment_mode": "round_robin", "auto_handoff": true}),
        )
        .await,
    )
    .await;
    assert_eq!(l1["calendar_id"], calendar["id"]);
    assert_eq!(l1["assignment_mode"], "round_robin");
    assert_eq!(l1["auto_handoff"], true);
    let path = format!("/api/v1/groups/{}", l1["id"].as_str().unwrap());
    let changed = body(
        app.patch(
            &path,
            &tree.admin_a,
            &json!({"assignment_mode": "least_open", "auto_handoff": false}),
        )
        .await,
    )
    .await;
    assert_eq!(changed["assignment_mode"], "least_open");
    assert_eq!(changed["auto_handoff"], false);
    assert_eq!(
        changed["calendar_id"], calendar["id"],
        "untouched when not sent"
    );
    assert_eq!(
        body(app.get(&path, &tree.agent_a).await).await["assignment_mode"],
        "least_open"
    );
    for bad in [
        json!({"assignment_mode": "lottery"}),
        json!({"auto_handoff": "yes"}),
    ] {
        assert_problem(
            app.patch(&path, &tree.admin_a, &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    let problem = assert_problem(
        app.patch(
            &path,
            &tree.admin_a,
            &json!({"calendar_id": uuid::Uuid::now_v7()}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "calendar_id");
    // Another tenant neither sees nor changes the group.
    assert_problem(
        app.patch(&path, &tree.admin_b, &json!({"auto_handoff": true}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn round_robin_spreads_new_tickets_over_the_agents_on_shift() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (group, members) = staffed_group(
        &app,
        &tree,
        json!({"name": "L1", "kind": "l1", "assignment_mode": "round_robin"}),
        &["second@a.test", "resting@a.test"],
    )
    .await;
    let outsider = app
        .create_user(&tree.admin_a, tree.partner_a, "outsider@a.test", "agent")
        .await;
    // One member rests; a colleague outside the group is on shift but not a member.
    let off = members[1].clone();
    app.put(
        &format!("/api/v1/agents/{off}/availability"),
        &tree.admin_a,
        &json!({"availability": "off_shift"}),
    )
    .await;
    let mut assignees = Vec::new();
    for _ in 0..4 {
        let ticket = new_ticket(&app, &tree.admin_a, Some(&group), None).await;
        assignees.push(ticket["assignee_id"].as_str().unwrap().to_owned());
    }
    let on_shift = [members[0].clone(), members[2].clone()];
    // Next after the last one, by user id, skipping the member off shift.
    assert_eq!(
        assignees,
        vec![
            on_shift[0].clone(),
            on_shift[1].clone(),
            on_shift[0].clone(),
            on_shift[1].clone()
        ]
    );
    assert!(!assignees.contains(&outsider.to_string()));

    // The history says automation did it.
    let last = new_ticket(&app, &tree.admin_a, Some(&group), None).await;
    let history = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/activities",
                last["id"].as_str().unwrap()
            ),
            &tree.admin_a,
        )
        .await,
    )
    .await;
    let assigned = history
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["field"] == "assignee_id")
        .unwrap();
    assert_eq!(assigned["actor_type"], "automation");
    assert_eq!(assigned["new_value"], last["assignee_id"]);

    // An explicit assignee is kept, and a manual group assigns nobody.
    let chosen = new_ticket(&app, &tree.admin_a, Some(&group), Some(&off)).await;
    assert_eq!(chosen["assignee_id"], off.as_str());
    let manual = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L2", "kind": "l2"}),
        )
        .await,
    )
    .await;
    let manual_ticket = new_ticket(
        &app,
        &tree.admin_a,
        Some(manual["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert!(manual_ticket["assignee_id"].is_null());

    // Moving a ticket into the group by an edit assigns it too.
    let moved = body(
        app.patch(
            &format!("/api/v1/tickets/{}", manual_ticket["id"].as_str().unwrap()),
            &tree.admin_a,
            &json!({"group_id": group}),
        )
        .await,
    )
    .await;
    assert!(
        on_shift.contains(&moved["assignee_id"].as_str().unwrap().to_owned()),
        "{moved}"
    );
}

#[tokio::test]
async fn least_open_gives_new_tickets_to_the_least_loaded_agent() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (group, members) = staffed_group(
        &app,
        &tree,
        json!({"name": "L1", "kind": "l1", "assignment_mode": "least_open"}),
        &["second@a.test"],
    )
    .await;
    // The lower id already has two open tickets, the higher one a resolved one.
    for _ in 0..2 {
        new_ticket(&app, &tree.admin_a, None, Some(&members[0])).await;
    }
    let done = new_ticket(&app, &tree.admin_a, None, Some(&members[1])).await;
    app.patch(
        &format!("/api/v1/tickets/{}", done["id"].as_str().unwrap()),
        &tree.admin_a,
        &json!({"status": "resolved"}),
    )
    .await;
    let first = new_ticket(&app, &tree.admin_a, Some(&group), None).await;
    assert_eq!(first["assignee_id"], members[1].as_str());
    let second = new_ticket(&app, &tree.admin_a, Some(&group), None).await;
    assert_eq!(second["assignee_id"], members[1].as_str());
    // Two each now: the tie goes to the lowest id.
    let third = new_ticket(&app, &tree.admin_a, Some(&group), None).await;
    assert_eq!(third["assignee_id"], members[0].as_str());
}

#[tokio::test]
async fn simultaneous_tickets_in_a_round_robin_group_are_spread_evenly() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let (group, members) = staffed_group(
        &app,
        &tree,
        json!({"name": "L1", "kind": "l1", "assignment_mode": "round_robin"}),
        &["second@a.test"],
    )
    .await;
    // Two assignments that raced on the cursor would both pick the same agent and leave the
    // split uneven.
    let created = futures_util::future::join_all(
        (0..8).map(|_| new_ticket(&app, &tree.admin_a, Some(&group), None)),
    )
    .await;
    let to_first = created
        .iter()
        .filter(|t| t["assignee_id"] == members[0].as_str())
        .count();
    let to_second = created
        .iter()
        .filter(|t| t["assignee_id"] == members[1].as_str())
        .count();
    assert_eq!((to_first, to_second), (4, 4));
}
