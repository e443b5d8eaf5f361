use reqwest::{Method, Response, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use tests::{TestApp, assert_problem, body, spawn_app, spawn_app_with};

const BOUNDARY: &str = "helpdesk-test-boundary-7f3a9c";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0";

/// One part of a multipart body: field name, file name, declared type, content.
struct Part<'a>(&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for Part(name, file_name, content_type, content) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(file_name) = file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        out.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(content_type) = content_type {
            out.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

async fn upload_raw(
    app: &TestApp,
    token: &str,
    ticket: &str,
    content_type: &str,
    raw: Vec<u8>,
) -> Response {
    app.request(
        Method::POST,
        &format!("/api/v1/tickets/{ticket}/attachments"),
        Some(token),
    )
    .header("content-type", content_type)
    .body(raw)
    .send()
    .await
    .unwrap()
}

async fn upload(app: &TestApp, token: &str, ticket: &str, parts: &[Part<'_>]) -> Response {
    upload_raw(
        app,
        token,
        ticket,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(parts),
    )
    .await
}

/// Uploads one text file, failing the test unless it is stored; returns its description.
pub(crate) async fn upload_text(app: &TestApp, token: &str, ticket: &str, text: &str) -> Value {
    let response = upload(
        app,
        token,
        ticket,
        &[Part(
            "file",
            Some("notes.txt"),
            Some("text/plain"),
            text.as_bytes(),
        )],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body(response).await[0].clone()
}

async fn new_ticket(app: &TestApp, token: &str, tenant: Option<uuid::Uuid>) -> String {
    let mut request = json!({"subject": "Exam photo", "description": "See the screenshot",
        "requester": {"email": "student@uni.example"}});
    if let Some(tenant) = tenant {
        request["tenant_id"] = json!(tenant);
    }
    let response = app.post("/api/v1/tickets", token, &request).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body(response).await["id"].as_str().unwrap().to_owned()
}

pub(crate) fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

async fn attachment_rows(app: &TestApp) -> u64 {
    entity::attachment::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn uploaded_files_download_as_the_same_bytes() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    let csv = "exam,score\nmath,5\n".as_bytes();
    let response = upload(
        &app,
        &tree.agent_a,
        &ticket,
        &[
            Part(
                "file",
                Some("../../screen shot.png"),
                Some("image/png"),
                PNG,
            ),
            Part("comment", None, None, b"not a file"),
            Part("file", Some("results.csv"), Some("text/csv"), csv),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let stored = body(response).await;
    let stored = stored.as_array().unwrap();
    assert_eq!(stored.len(), 2, "the plain form field is not a file");
    let png = &stored[0];
    assert_eq!(
        png["file_name"], "screen shot.png",
        "path parts are dropped"
    );
    assert_eq!(png["content_type"], "image/png");
    assert_eq!(png["size"], PNG.len());
    assert_eq!(png["sha256"], hex::encode(Sha256::digest(PNG)));
    assert_eq!(png["ticket_id"], ticket);
    assert_eq!(png["message_id"], Value::Null);
    assert_eq!(stored[1]["content_type"], "text/csv");

    let id = png["id"].as_str().unwrap();
    let described = body(
        app.get(&format!("/api/v1/attachments/{id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(&described, png);
    let download = app
        .get(&format!("/api/v1/attachments/{id}/content"), &tree.agent_a)
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    let headers = download.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("screen shot.png"),
        "{disposition}"
    );
    assert_eq!(download.bytes().await.unwrap().as_ref(), PNG);
    let csv_id = stored[1]["id"].as_str().unwrap();
    let download = app
        .get(
            &format!("/api/v1/attachments/{csv_id}/content"),
            &tree.agent_a,
        )
        .await;
    assert_eq!(download.bytes().await.unwrap().as_ref(), csv);

    let files = files_under(&app.attachments_dir());
    assert_eq!(files.len(), 2, "one stored file per attachment: {files:?}");
    assert!(files.iter().all(|f| f.starts_with(app.attachments_dir())));
}

#[tokio::test]
async fn files_over_the_limit_are_413_and_leave_nothing() {
    let app = spawn_app_with(|s| s.attachments.max_file_bytes = 1024).await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    let big = "x".repeat(4096);
    let response = upload(
        &app,
        &tree.agent_a,
        &ticket,
        &[
            Part("file", Some("small.txt"), Some("text/plain"), b"fits"),
            Part("file", Some("big.txt"), Some("text/plain"), big.as_bytes()),
        ],
    )
    .await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(attachment_rows(&app).await, 0, "no row for any file");
    assert_eq!(
        files_under(&app.attachments_dir()),
        Vec::<std::path::PathBuf>::new()
    );
    // Exactly at the limit is fine.
    let exact = "y".repeat(1024);
    upload_text(&app, &tree.agent_a, &ticket, &exact).await;
    assert_eq!(attachment_rows(&app).await, 1);
}

#[tokio::test]
async fn uploads_over_the_total_limit_are_413_and_leave_nothing() {
    let app = spawn_app_with(|s| {
        s.attachments.max_file_bytes = 2048;
        s.attachments.max_upload_bytes = 3072;
    })
    .await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    // Each file is within the per-file limit; together they are over the upload's.
    let (first, second) = ("a".repeat(2000), "b".repeat(2000));
    let response = upload(
        &app,
        &tree.agent_a,
        &ticket,
        &[
            Part("file", Some("a.txt"), Some("text/plain"), first.as_bytes()),
            Part("file", Some("b.txt"), Some("text/plain"), second.as_bytes()),
        ],
    )
    .await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(attachment_rows(&app).await, 0, "no row for any file");
    assert_eq!(
        files_under(&app.attachments_dir()),
        Vec::<std::path::PathBuf>::new()
    );
}

#[tokio::test]
async fn an_upload_over_the_json_limit_is_idempotent_with_a_key() {
    // The JSON limit is far below the file: the key must not make the upload a 413.
    let app = spawn_app_with(|s| s.http.max_body_bytes = 4096).await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    let content = "exam log line\n".repeat(20_000);
    let send = |key: &'static str, text: String| {
        let app = &app;
        let token = tree.agent_a.clone();
        let ticket = ticket.clone();
        async move {
            app.request(
                Method::POST,
                &format!("/api/v1/tickets/{ticket}/attachments"),
                Some(&token),
            )
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("idempotency-key", key)
            .body(multipart(&[Part(
                "file",
                Some("log.txt"),
                Some("text/plain"),
                text.as_bytes(),
            )]))
            .send()
            .await
            .unwrap()
        }
    };
    let first = send("upload-1", content.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let stored = body(first).await;
    assert_eq!(stored[0]["size"], content.len());
    // A retry gets the first answer back and stores nothing new.
    let retry = send("upload-1", content.clone()).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(body(retry).await[0]["id"], stored[0]["id"]);
    assert_eq!(attachment_rows(&app).await, 1);
    // The same key with another file is refused.
    assert_problem(
        send("upload-1", content.replace("log", "LOG")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // JSON bodies keep their own limit under a key.
    let response = app
        .request(Method::POST, "/api/v1/tickets", Some(&tree.agent_a))
        .header("idempotency-key", "big-json")
        .json(&json!({"subject": "x", "description": "d".repeat(8192),
                      "requester": {"email": "student@uni.example"}}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn uploads_no_message_took_are_removed_after_their_time() {
    // Uploads wait a day for a message (the default); the test moves the server's clock past
    // it and sweeps as the sweeper's next round would, instead of waiting.
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    let sent = upload_text(&app, &tree.agent_a, &ticket, "sent with a reply").await;
    let unsent = upload_text(&app, &tree.agent_a, &ticket, "never sent").await;
    let reply = app
        .post(
            &format!("/api/v1/tickets/{ticket}/replies"),
            &tree.agent_a,
            &json!({"body": "Here is the log", "attachment_ids": [sent["id"]]}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    assert_eq!(files_under(&app.attachments_dir()).len(), 2);
    let unsent_url = format!("/api/v1/attachments/{}", unsent["id"].as_str().unwrap());
    let sweep = || api::attachments::sweeper::sweep_due(&app.state);
    app.state.clock.advance(chrono::TimeDelta::hours(23));
    assert_eq!(sweep().await.unwrap(), 0, "nothing is due before a day");
    // The agent's access token expired with the clock's move: a new login reads on.
    let agent = app.login("agent@a.test", tests::PASSWORD).await.access;
    assert_eq!(app.get(&unsent_url, &agent).await.status(), StatusCode::OK);
    app.state
        .clock
        .advance(chrono::TimeDelta::hours(1) + chrono::TimeDelta::seconds(1));
    assert_eq!(sweep().await.unwrap(), 1);
    let agent = app.login("agent@a.test", tests::PASSWORD).await.access;
    assert_eq!(
        app.get(&unsent_url, &agent).await.status(),
        StatusCode::NOT_FOUND
    );
    // Its bytes went with it; the sent file stays, bytes and all.
    assert_eq!(attachment_rows(&app).await, 1);
    assert_eq!(files_under(&app.attachments_dir()).len(), 1);
    let content = app
        .get(
            &format!(
                "/api/v1/attachments/{}/content",
                sent["id"].as_str().unwrap()
            ),
            &agent,
        )
        .await;
    assert_eq!(content.status(), StatusCode::OK);
    assert_eq!(content.text().await.unwrap(), "sent with a reply");
}

#[tokio::test]
async fn one_node_at_a_time_sweeps_and_another_takes_over_when_its_lease_runs_out() {
    use api::attachments::sweeper::round;
    let first = spawn_app().await;
    let second = first.second_node().await;
    let (mut on_first, mut on_second) = (None, None);
    // The first node to look takes the sweep; the other keeps out while the lease lasts, even
    // after the holder's own rounds.
    assert_eq!(round(&first.state, &mut on_first).await.unwrap(), Some(0));
    assert_eq!(round(&second.state, &mut on_second).await.unwrap(), None);
    assert_eq!(round(&first.state, &mut on_first).await.unwrap(), Some(0));
    assert_eq!(round(&second.state, &mut on_second).await.unwrap(), None);
    // The first node stops; once the second node's clock is past the lease, it sweeps...
    second.state.clock.advance(chrono::TimeDelta::days(1));
    assert_eq!(round(&second.state, &mut on_second).await.unwrap(), Some(0));
    // ...and the first node, back from its stall, finds it lost the lease and keeps out.
    first.state.clock.advance(chrono::TimeDelta::days(1));
    assert_eq!(round(&first.state, &mut on_first).await.unwrap(), None);
    assert!(on_first.is_none());
}

#[tokio::test]
async fn forbidden_and_disguised_types_are_415() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    let cases: [(&str, Option<&str>, &[u8]); 5] = [
        ("setup.exe", Some("application/x-msdownload"), EXE),
        ("photo.png", Some("image/png"), EXE),
        ("photo.png", Some("image/png"), b"plain words, no image"),
        ("report.pdf", Some("application/pdf"), PNG),
        ("notes.txt", None, b"no declared type"),
    ];
    for (name, declared, content) in cases {
        let response = upload(
            &app,
            &tree.agent_a,
            &ticket,
            &[
                Part("file", Some("ok.txt"), Some("text/plain"), b"fine"),
                Part("file", Some(name), declared, content),
            ],
        )
        .await;
        let problem = assert_problem(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        assert!(problem["detail"].as_str().unwrap().len() > 10, "{problem}");
    }
    assert_eq!(attachment_rows(&app).await, 0);
    assert!(files_under(&app.attachments_dir()).is_empty());
}

#[tokio::test]
async fn broken_multipart_is_400() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket = new_ticket(&app, &tree.agent_a, None).await;
    let truncated = {
        let mut raw = multipart(&[Part("file", Some("a.txt"), Some("text/plain"), b"abc")]);
        raw.truncate(raw.len() - 20);
        raw
    };
    let response = upload_raw(
        &app,
        &tree.agent_a,
        &ticket,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        truncated,
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_multipart").await;
    let response = upload_raw(
        &app,
        &tree.agent_a,
        &ticket,
        "multipart/form-data",
        b"no boundary".to_vec(),
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_multipart").await;
    let response = upload_raw(
        &app,
        &tree.agent_a,
        &ticket,
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "malformed_multipart").await;
    let response = upload(
        &app,
        &tree.agent_a,
        &ticket,
        &[Part("comment", None, None, b"only a field")],
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST, "missing_file").await;
    assert_eq!(attachment_rows(&app).await, 0);
    assert!(files_under(&app.attachments_dir()).is_empty());
}

#[tokio::test]
async fn attachments_linked_to_a_reply_appear_in_the_conversation() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // A ticket of partner A's client, so the client's staff can read it too.
    let ticket = new_ticket(&app, &tree.agent_a, Some(tree.client_a)).await;
    let other_ticket = new_ticket(&app, &tree.agent_a, Some(tree.client_a)).await;
    let for_reply = upload_text(&app, &tree.agent_a, &ticket, "instructions").await;
    let for_note = upload_text(&app, &tree.agent_a, &ticket, "internal log").await;
    let elsewhere = upload_text(&app, &tree.agent_a, &other_ticket, "other").await;

    // Another ticket's upload cannot ride on this reply, and the refusal writes nothing.
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/replies"),
            &tree.agent_a,
            &json!({"body": "Here you go", "attachment_ids": [for_reply["id"], elsewhere["id"]]}),
        )
        .await;
    let problem = assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "attachment_ids");
    let conversation = body(
        app.get(
            &format!("/api/v1/tickets/{ticket}/conversation"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(
        conversation.as_array().unwrap().len(),
        0,
        "no reply was written"
    );

    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/replies"),
            &tree.agent_a,
            &json!({"body": "Here you go", "attachment_ids": [for_reply["id"]]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reply = body(response).await;
    assert_eq!(reply["attachments"][0]["id"], for_reply["id"]);
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/notes"),
            &tree.agent_a,
            &json!({"body": "Log attached", "attachment_ids": [for_note["id"]]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let note = body(response).await;

    let conversation = body(
        app.get(
            &format!("/api/v1/tickets/{ticket}/conversation"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    let messages = conversation.as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["id"], reply["id"]);
    assert_eq!(messages[0]["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(messages[0]["attachments"][0]["file_name"], "notes.txt");
    assert_eq!(messages[0]["attachments"][0]["message_id"], reply["id"]);
    assert_eq!(messages[1]["attachments"][0]["id"], for_note["id"]);

    // Once sent, an attachment cannot be sent again with another message.
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/notes"),
            &tree.agent_a,
            &json!({"body": "again", "attachment_ids": [for_reply["id"]]}),
        )
        .await;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // The client's staff see the reply's file, never the note's.
    let reply_file = for_reply["id"].as_str().unwrap();
    let note_file = for_note["id"].as_str().unwrap();
    let seen = app
        .get(
            &format!("/api/v1/attachments/{reply_file}/content"),
            &tree.client_admin_a,
        )
        .await;
    assert_eq!(seen.status(), StatusCode::OK);
    assert_eq!(seen.bytes().await.unwrap().as_ref(), b"instructions");
    assert_problem(
        app.get(
            &format!("/api/v1/attachments/{note_file}"),
            &tree.client_admin_a,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    // A sent reply's file stays; a note's file and an unsent upload can be removed.
    assert_problem(
        app.delete(&format!("/api/v1/attachments/{reply_file}"), &tree.agent_a)
            .await,
        StatusCode::CONFLICT,
        "attachment_sent",
    )
    .await;
    assert_eq!(files_under(&app.attachments_dir()).len(), 3);
    let response = app
        .delete(&format!("/api/v1/attachments/{note_file}"), &tree.agent_a)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let unsent = elsewhere["id"].as_str().unwrap();
    let response = app
        .delete(&format!("/api/v1/attachments/{unsent}"), &tree.agent_a)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(
            &format!("/api/v1/attachments/{unsent}/content"),
            &tree.agent_a,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(files_under(&app.attachments_dir()).len(), 1);
    assert_eq!(attachment_rows(&app).await, 1);
    let conversation = body(
        app.get(
            &format!("/api/v1/tickets/{ticket}/conversation"),
            &tree.agent_a,
        )
        .await,
    )
    .await;
    assert_eq!(conversation[0]["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(conversation[1]["id"], note["id"]);
    assert_eq!(conversation[1]["attachments"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn another_tenants_attachments_answer_404() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let ticket_a = new_ticket(&app, &tree.agent_a, None).await;
    let ticket_b = new_ticket(&app, &tree.admin_b, None).await;
    let file_a = upload_text(&app, &tree.agent_a, &ticket_a, "partner A only").await;
    let id = file_a["id"].as_str().unwrap();

    let response = upload(
        &app,
        &tree.admin_b,
        &ticket_a,
        &[Part(
            "file",
            Some("x.txt"),
            Some("text/plain"),
            b"intrusion",
        )],
    )
    .await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    for path in [
        format!("/api/v1/attachments/{id}"),
        format!("/api/v1/attachments/{id}/content"),
    ] {
        assert_problem(
            app.get(&path, &tree.admin_b).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    assert_problem(
        app.delete(&format!("/api/v1/attachments/{id}"), &tree.admin_b)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Nor can B send A's file with a reply on B's own ticket.
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket_b}/replies"),
            &tree.admin_b,
            &json!({"body": "stolen", "attachment_ids": [id]}),
        )
        .await;
    assert_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // A's file is untouched.
    let still = body(
        app.get(&format!("/api/v1/attachments/{id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(still, file_a);
    assert_eq!(attachment_rows(&app).await, 1);
}

#[tokio::test]
async fn merging_tickets_takes_their_attachments_along() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let primary = new_ticket(&app, &tree.agent_a, Some(tree.client_a)).await;
    let secondary = new_ticket(&app, &tree.agent_a, Some(tree.client_a)).await;
    let file = upload_text(&app, &tree.agent_a, &secondary, "screenshot").await;
    let merged = app
        .post(
            &format!("/api/v1/tickets/{primary}/merge"),
            &tree.agent_a,
            &json!({"secondary_ids": [secondary]}),
        )
        .await;
    assert_eq!(merged.status(), StatusCode::OK);
    let id = file["id"].as_str().unwrap();
    let moved = body(
        app.get(&format!("/api/v1/attachments/{id}"), &tree.agent_a)
            .await,
    )
    .await;
    assert_eq!(moved["ticket_id"], primary.to_string());
    // The unsent upload now rides on a reply of the primary ticket.
    let reply = app
        .post(
            &format!("/api/v1/tickets/{primary}/replies"),
            &tree.agent_a,
            &json!({"body": "See the screenshot", "attachment_ids": [id]}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
}
