use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{assert_problem, body, spawn_app};

fn lisbon_hours(name: &str) -> Value {
    json!({
        "name": name,
        "time_zone": "Europe/Lisbon",
        "intervals": [
            {"day": "mon", "start": "13:00", "end": "22:00"},
            {"day": "mon", "start": "06:00", "end": "12:00"},
            {"day": "fri", "start": "06:00", "end": "24:00"},
        ],
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
    })
}

#[tokio::test]
async fn calendars_are_managed_by_admins_and_read_by_agents() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created = app
        .post(
            "/api/v1/calendars",
            &tree.admin_a,
            &lisbon_hours("L1 hours"),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let calendar = body(created).await;
    let id = calendar["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/calendars/{id}"));
    assert_eq!(calendar["tenant_id"], tree.partner_a.to_string());
    assert_eq!(calendar["always_open"], false);
    // Stored by day and start time, whatever order they came in.
    assert_eq!(
        calendar["intervals"],
        json!([
            {"day": "mon", "start": "06:00", "end": "12:00"},
            {"day": "mon", "start": "13:00", "end": "22:00"},
            {"day": "fri", "start": "06:00", "end": "24:00"},
        ])
    );
    assert_eq!(
        calendar["holidays"],
        json!([{"date": "2026-12-25", "name": "Christmas"}])
    );
    assert!(calendar["open_now"].is_boolean());

    let always = body(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &json!({"name": "24/7", "time_zone": "UTC", "always_open": true}),
        )
        .await,
    )
    .await;
    assert_eq!(always["open_now"], true);
    assert_eq!(always["intervals"], json!([]));
    // Supervisors keep their tiers' hours too.
    app.create_user(&tree.admin_a, tree.partner_a, "lead@a.test", "supervisor")
        .await;
    let lead = app.login("lead@a.test", tests::PASSWORD).await.access;
    let night = app
        .post("/api/v1/calendars", &lead, &lisbon_hours("Night"))
        .await;
    assert_eq!(night.status(), StatusCode::CREATED);
    let night = body(night).await["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete(&format!("/api/v1/calendars/{night}"), &lead)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    // Agents read calendars and check them, but do not change them.
    let page = body(app.get("/api/v1/calendars?limit=1", &tree.agent_a).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = body(
        app.get(
            &format!("/api/v1/calendars?limit=1&cursor={next}"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(rest["items"][0]["id"], always["id"]);
    assert!(rest["next_cursor"].is_null());
    let path = format!("/api/v1/calendars/{id}");
    assert_eq!(
        body(app.get(&path, &tree.agent_a).await).await["name"],
        "L1 hours"
    );
    assert_problem(
        app.post("/api/v1/calendars", &tree.agent_a, &lisbon_hours("Mine"))
            .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert_problem(
        app.patch(&path, &tree.agent_a, &json!({"name": "Mine"}))
            .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert_problem(
        app.delete(&path, &tree.agent_a).await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;

    // Monday 15 June 2026, 10:00 UTC is 11:00 in Lisbon (summer time): open.
    let open = body(
        app.get(
            &format!("{path}/open?at=2026-06-15T10:00:00Z"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(open["open"], true);
    assert_eq!(open["next_open"], "2026-06-15T10:00:00Z");
    // 11:30 UTC is 12:30 local, in the lunch break: it opens again at 13:00 local.
    let lunch = body(
        app.get(
            &format!("{path}/open?at=2026-06-15T11:30:00Z"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(lunch["open"], false);
    assert_eq!(lunch["next_open"], "2026-06-15T12:00:00Z");
    // Christmas is a Friday: closed all day; next opening Monday 28th at 06:00 (UTC in winter).
    let christmas = body(
        app.get(
            &format!("{path}/open?at=2026-12-25T10:00:00Z"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(christmas["open"], false);
    assert_eq!(christmas["next_open"], "2026-12-28T06:00:00Z");
    assert_problem(
        app.get(&format!("{path}/open?at=tomorrow"), &tree.agent_a)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;

    assert_problem(
        app.post("/api/v1/calendars", &tree.admin_a, &lisbon_hours("24/7"))
            .await,
        StatusCode::CONFLICT,
        "calendar_name_taken",
    )
    .await;
    let changed = app
        .patch(
            &path,
            &tree.admin_a,
            &json!({"name": "L1 all week", "time_zone": "America/Sao_Paulo", "holidays": []}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed = body(changed).await;
    assert_eq!(changed["name"], "L1 all week");
    assert_eq!(changed["time_zone"], "America/Sao_Paulo");
    assert_eq!(changed["holidays"], json!([]));
    assert_eq!(changed["intervals"].as_array().unwrap().len(), 3);
    let round_the_clock = body(
        app.patch(&path, &tree.admin_a, &json!({"always_open": true}))
            .await,
    )
    .await;
    assert_eq!(round_the_clock["always_open"], true);
    assert_eq!(round_the_clock["intervals"], json!([]));
    assert_eq!(round_the_clock["open_now"], true);

    assert_eq!(
        app.delete(&path, &tree.admin_a).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        app.get(&path, &tree.admin_a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_calendars_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let with = |change: Value| {
        let mut calendar = lisbon_hours("Hours");
        for (key, value) in change.as_object().unwrap() {
            calendar[key] = value.clone();
        }
        calendar
    };
    let interval =
        |day: &str, start: &str, end: &str| json!([{"day": day, "start": start, "end": end}]);
    let cases = [
        (with(json!({"time_zone": "Mars/Olympus"})), "time_zone"),
        (with(json!({"name": "  "})), "name"),
        (
            with(json!({"intervals": interval("mon", "6:00", "12:00")})),
            "intervals",
        ),
        (
            with(json!({"intervals": interval("mon", "12:00", "12:00")})),
            "intervals",
        ),
        (
            with(json!({"intervals": interval("mon", "18:00", "09:00")})),
            "intervals",
        ),
        (
            with(json!({"intervals": interval("mon", "09:00", "24:30")})),
            "intervals",
        ),
        (
            with(json!({"intervals": interval("mon", "24:00", "24:00")})),
            "intervals",
        ),
        (
            with(json!({"intervals": interval("funday", "09:00", "17:00")})),
            "intervals",
        ),
        (
            with(json!({"intervals": [
                {"day": "tue", "start": "06:00", "end": "12:00"},
                {"day": "tue", "start": "11:00", "end": "14:00"},
            ]})),
            "intervals",
        ),
        (with(json!({"intervals": []})), "intervals"),
        (with(json!({"always_open": true})), "intervals"),
        (
            with(json!({"holidays": [{"date": "2026-02-30"}]})),
            "holidays",
        ),
        (
            with(json!({"holidays": [{"date": "25.12.2026"}]})),
            "holidays",
        ),
    ];
    for (calendar, field) in cases {
        let problem = assert_problem(
            app.post("/api/v1/calendars", &tree.admin_a, &calendar)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{calendar}");
    }
    // Back to back is not an overlap.
    let adjacent = with(json!({"intervals": [
        {"day": "tue", "start": "06:00", "end": "12:00"},
        {"day": "tue", "start": "12:00", "end": "24:00"},
        {"day": "wed", "start": "00:00", "end": "06:00"},
    ]}));
    assert_eq!(
        app.post("/api/v1/calendars", &tree.admin_a, &adjacent)
            .await
            .status(),
        StatusCode::CREATED
    );
    let id = body(app.get("/api/v1/calendars", &tree.admin_a).await).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A change is checked as a whole: a calendar without intervals must be round the clock.
    let problem = assert_problem(
        app.patch(
            &format!("/api/v1/calendars/{id}"),
            &tree.admin_a,
            &json!({"intervals": []}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "intervals");
}

#[tokio::test]
async fn another_tenants_calendars_answer_404_and_cannot_be_given_to_a_group() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let theirs = body(
        app.post("/api/v1/calendars", &tree.admin_b, &lisbon_hours("B hours"))
            .await,
    )
    .await;
    let path = format!("/api/v1/calendars/{}", theirs["id"].as_str().unwrap());
    for response in [
        app.get(&path, &tree.admin_a).await,
        app.get(&format!("{path}/open"), &tree.admin_a).await,
        app.patch(&path, &tree.admin_a, &json!({"name": "Mine now"}))
            .await,
        app.delete(&path, &tree.admin_a).await,
        app.get(&path, &tree.agent_a).await,
    ] {
        assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_problem(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &json!({"tenant_id": tree.client_b, "name": "x", "time_zone": "UTC", "always_open": true}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let listed = body(app.get("/api/v1/calendars", &tree.admin_a).await).await;
    assert_eq!(listed["items"], json!([]));
    // Untouched by the attempts above.
    assert_eq!(
        body(app.get(&path, &tree.admin_b).await).await["name"],
        "B hours"
    );

    // A group works only by a calendar of its own tenant.
    let problem = assert_problem(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1", "calendar_id": theirs["id"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "calendar_id");
    let clients = body(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &json!({"tenant_id": tree.client_a, "name": "Client hours", "time_zone": "UTC", "always_open": true}),
        )
        .await,
    )
    .await;
    let group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await;
    for calendar in [&theirs["id"], &clients["id"]] {
        let problem = assert_problem(
            app.patch(
                &format!("/api/v1/groups/{}", group["id"].as_str().unwrap()),
                &tree.admin_a,
                &json!({"calendar_id": calendar}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "calendar_id");
    }
}

#[tokio::test]
async fn a_calendar_a_group_works_by_cannot_be_deleted() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let calendar = body(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &lisbon_hours("L1 hours"),
        )
        .await,
    )
    .await;
    let group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1", "calendar_id": calendar["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(group["calendar_id"], calendar["id"]);
    let path = format!("/api/v1/calendars/{}", calendar["id"].as_str().unwrap());
    assert_problem(
        app.delete(&path, &tree.admin_a).await,
        StatusCode::CONFLICT,
        "calendar_in_use",
    )
    .await;
    assert_eq!(app.get(&path, &tree.admin_a).await.status(), StatusCode::OK);
    let freed = body(
        app.patch(
            &format!("/api/v1/groups/{}", group["id"].as_str().unwrap()),
            &tree.admin_a,
            &json!({"calendar_id": null}),
        )
        .await,
    )
    .await;
    assert!(freed["calendar_id"].is_null());
    assert_eq!(
        app.delete(&path, &tree.admin_a).await.status(),
        StatusCode::NO_CONTENT
    );
}

/// Holidays around today in the calendar's zone keep a round-the-clock calendar closed for the
/// whole test, whenever it runs.
fn closed_all_around_now(name: &str) -> Value {
    let today = Utc::now().date_naive();
    let holidays: Vec<Value> = (-1..=1)
        .map(|d| json!({"date": (today + Duration::days(d)).to_string()}))
        .collect();
    json!({"name": name, "time_zone": "UTC", "always_open": true, "holidays": holidays})
}

#[tokio::test]
async fn a_group_whose_calendar_is_closed_leaves_new_tickets_unassigned() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let closed = body(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &closed_all_around_now("Closed"),
        )
        .await,
    )
    .await;
    let open = body(
        app.post(
            "/api/v1/calendars",
            &tree.admin_a,
            &json!({"name": "24/7", "time_zone": "UTC", "always_open": true}),
        )
        .await,
    )
    .await;
    assert_eq!(closed["open_now"], false);
    let agent = body(app.get("/api/v1/me", &tree.agent_a).await).await["user_id"].clone();
    let group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1", "assignment_mode": "round_robin", "calendar_id": closed["id"]}),
        )
        .await,
    )
    .await;
    let group_id = group["id"].as_str().unwrap();
    app.put(
        &format!("/api/v1/users/{}/groups", agent.as_str().unwrap()),
        &tree.admin_a,
        &json!({"group_ids": [group_id]}),
    )
    .await;
    let ticket =
        json!({"subject": "Exam", "requester": {"email": "s@uni.example"}, "group_id": group_id});
    let waiting = body(app.post("/api/v1/tickets", &tree.admin_a, &ticket).await).await;
    assert!(waiting["assignee_id"].is_null(), "{waiting}");

    app.patch(
        &format!("/api/v1/groups/{group_id}"),
        &tree.admin_a,
        &json!({"calendar_id": open["id"]}),
    )
    .await;
    let served = body(app.post("/api/v1/tickets", &tree.admin_a, &ticket).await).await;
    assert_eq!(served["assignee_id"], agent);
}
