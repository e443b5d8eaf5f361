use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, assert_problem, body, spawn_app};

async fn ticket(app: &TestApp, token: &str, request: Value) -> String {
    let response = app.post("/api/v1/tickets", token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body(response).await["id"].as_str().unwrap().to_owned()
}

async fn backdate(app: &TestApp, id: &str, at: chrono::DateTime<Utc>) {
    entity::ticket::Entity::update_many()
        .col_expr(entity::ticket::Column::CreatedAt, Expr::value(at))
        .filter(entity::ticket::Column::Id.eq(id.parse::<uuid::Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
}

fn buckets(report: &Value) -> Vec<(Value, i64)> {
    report["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["key"].clone(), b["count"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn counts_by_company_source_tag_and_local_day() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let company = body(
        app.post(
            "/api/v1/companies",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "name": "HSE", "domains": ["hse.example"]}),
        )
        .await,
    )
    .await;
    let company_id = company["id"].as_str().unwrap().to_owned();
    let in_client = |email: &str, source: &str, tags: Value| json!({"tenant_id": tree.client_a, "subject": "Exam", "source": source, "tags": tags, "requester": {"email": email}});
    let a = ticket(
        &app,
        &tree.agent_a,
        in_client("s1@hse.example", "email", json!(["outage", "camera"])),
    )
    .await;
    let b = ticket(
        &app,
        &tree.agent_a,
        in_client("s2@hse.example", "whatsapp", json!(["outage"])),
    )
    .await;
    let c = ticket(
        &app,
        &tree.agent_a,
        in_client("s3@gmail.example", "whatsapp", json!([])),
    )
    .await;
    // Partner B's tickets never appear in partner A's numbers.
    ticket(&app, &tree.admin_b, json!({"subject": "B", "source": "telegram", "tags": ["outage"], "requester": {"email": "x@b.example"}})).await;

    // 22:30 UTC is already the next day in Moscow; 20:00 UTC is not.
    backdate(
        &app,
        &a,
        Utc.with_ymd_and_hms(2026, 3, 10, 22, 30, 0).unwrap(),
    )
    .await;
    backdate(
        &app,
        &b,
        Utc.with_ymd_and_hms(2026, 3, 10, 20, 0, 0).unwrap(),
    )
    .await;
    backdate(
        &app,
        &c,
        Utc.with_ymd_and_hms(2026, 3, 11, 9, 15, 0).unwrap(),
    )
    .await;
    let period = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z";

    let by_day = body(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=day&time_zone=Europe/Moscow&{period}"),
            &tree.client_admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(by_day["total"], 3);
    assert_eq!(
        buckets(&by_day),
        [(json!("2026-03-10"), 1), (json!("2026-03-11"), 2)]
    );
    let by_utc_day = body(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=day&time_zone=UTC&{period}"),
            &tree.client_admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(
        buckets(&by_utc_day),
        [(json!("2026-03-10"), 2), (json!("2026-03-11"), 1)]
    );

    let by_company = body(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=company&{period}"),
            &tree.client_admin_a,
        )
        .await,
    )
    .await;
    let mut companies = buckets(&by_company);
    companies.sort_by_key(|(key, _)| key.to_string());
    assert_eq!(companies, [(json!(company_id), 2), (Value::Null, 1)]);
    assert_eq!(by_company["total"], 3);
    let by_source = body(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=source&{period}"),
            &tree.admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(
        buckets(&by_source),
        [(json!("email"), 1), (json!("whatsapp"), 2)]
    );
    assert_eq!(by_source["total"], 3);
    let by_tag = body(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=tag&{period}"),
            &tree.admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(
        buckets(&by_tag),
        [(json!("camera"), 1), (json!("outage"), 2)]
    );
    assert_eq!(by_tag["total"], 3);

    // Outside the period nothing counts; bad input is named.
    let empty = body(app.get("/api/v1/reports/ticket-counts?group_by=source&from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z", &tree.admin_a).await).await;
    assert_eq!(empty["total"], 0);
    assert_problem(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=day&time_zone=Mars/Base&{period}"),
            &tree.admin_a,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(app.get("/api/v1/reports/ticket-counts?group_by=day&from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z", &tree.admin_a).await, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_problem(
        app.get(
            "/api/v1/reports/ticket-counts?group_by=planet",
            &tree.admin_a,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
    // Partner B asking about partner A's client: 404; agents have no reports permission.
    assert_problem(
        app.get(
            &format!(
                "/api/v1/reports/ticket-counts?group_by=source&tenant_id={}",
                tree.client_a
            ),
            &tree.admin_b,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get(
            "/api/v1/reports/ticket-counts?group_by=source",
            &tree.agent_a,
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    let b_view = body(
        app.get(
            &format!("/api/v1/reports/ticket-counts?group_by=source&{period}"),
            &tree.admin_b,
        )
        .await,
    )
    .await;
    assert_eq!(
        b_view["total"], 0,
        "partner B's one ticket was created now, outside March"
    );
}

/// Zones whose offsets are not whole hours put a ticket created minutes before local midnight
/// on one day and minutes after it on the next, also after a DST change.
#[tokio::test]
async fn day_buckets_follow_local_midnight_in_half_and_quarter_hour_zones() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let at = |month, day, hour, minute| {
        Utc.with_ymd_and_hms(2026, month, day, hour, minute, 0)
            .unwrap()
    };
    // (zone, just before local midnight, just after it, the local day before)
    let cases = [
        // +05:30: midnight of 11 March is 18:30 UTC on the 10th.
        (
            "Asia/Kolkata",
            at(3, 10, 18, 20),
            at(3, 10, 18, 40),
            "2026-03-10",
        ),
        // +05:45: midnight is 18:15 UTC.
        (
            "Asia/Kathmandu",
            at(3, 12, 18, 10),
            at(3, 12, 18, 20),
            "2026-03-12",
        ),
        // +10:30 (summer time): midnight is 13:30 UTC.
        (
            "Australia/Adelaide",
            at(3, 14, 13, 20),
            at(3, 14, 13, 40),
            "2026-03-14",
        ),
        // +09:30 after summer time ended on 5 April: midnight is 14:30 UTC.
        (
            "Australia/Adelaide",
            at(4, 6, 14, 20),
            at(4, 6, 14, 40),
            "2026-04-06",
        ),
    ];
    for (zone, before, after, day) in cases {
        for instant in [before, after] {
            let id = ticket(
                &app,
                &tree.agent_a,
                json!({"tenant_id": tree.client_a, "subject": zone, "requester": {"email": "s@uni.example"}}),
            )
            .await;
            backdate(&app, &id, instant).await;
        }
        let from = (before - chrono::Duration::hours(2))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let to =
            (after + chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let report = body(
            app.get(
                &format!("/api/v1/reports/ticket-counts?group_by=day&time_zone={zone}&from={from}&to={to}"),
                &tree.admin_a,
            )
            .await,
        )
        .await;
        let next =
            (day.parse::<chrono::NaiveDate>().unwrap() + chrono::Duration::days(1)).to_string();
        assert_eq!(
            buckets(&report),
            [(json!(day), 1), (json!(next), 1)],
            "{zone} around {before}: {report}"
        );
        assert_eq!(report["total"], 2);
    }
}
