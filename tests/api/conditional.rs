//! `If-Match` on ticket edits as RFC 9110 defines it: `*`, one entity tag or a list of them,
//! compared strongly.
use reqwest::{Method, StatusCode};
use serde_json::json;
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn if_match_accepts_a_list_of_etags_and_star() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let created = app
        .post(
            "/api/v1/tickets",
            &tree.agent_a,
            &json!({"tenant_id": tree.client_a, "subject": "Exam", "requester": {"email": "s@uni.example"}}),
        )
        .await;
    assert_eq!(created.headers()["etag"], "\"1\"");
    let path = format!(
        "/api/v1/tickets/{}",
        body(created).await["id"].as_str().unwrap()
    );
    let edit = |if_match: &'static str, priority: &'static str| {
        app.request(Method::PATCH, &path, Some(&tree.agent_a))
            .header("if-match", if_match)
            .json(&json!({"priority": priority}))
            .send()
    };

    // Any of the listed versions may be the current one.
    let listed = edit("\"7\", \"1\"", "high").await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(listed.headers()["etag"], "\"2\"");
    let star = edit("*", "urgent").await.unwrap();
    assert_eq!(star.status(), StatusCode::OK);
    assert_eq!(star.headers()["etag"], "\"3\"");
    // Several header lines form one list.
    let lines = app
        .request(Method::PATCH, &path, Some(&tree.agent_a))
        .header("if-match", "\"1\"")
        .header("if-match", "\"3\"")
        .json(&json!({"priority": "low"}))
        .send()
        .await
        .unwrap();
    assert_eq!(lines.status(), StatusCode::OK);

    // None current, a weak tag (If-Match compares strongly) or a value that is no list of tags:
    // refused, and nothing changed.
    for stale in ["\"1\", \"2\"", "W/\"4\"", "\"4\" \"5\""] {
        assert_problem(
            edit(stale, "high").await.unwrap(),
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
        )
        .await;
    }
    let now = body(app.get(&path, &tree.agent_a).await).await;
    assert_eq!(now["priority"], "low");
    assert_eq!(now["version"], 4);
}
