use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, Tree, assert_problem, body, spawn_app};

const SECRET: &str = "relay-secret-3f9d";

/// A Russian student's first mail: the subject in KOI8-R (RFC 2047, base64), the text in
/// windows-1251 (quoted-printable): "Не запускается экзамен" / "Камера не работает".
const FIRST: &str = "From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <Ivan.Petrov@Student.Example>\r\n\
To: support@partner-a.example\r\n\
Subject: =?KOI8-R?B?7sUg2sHQ1dPLwcXU09Eg3Mvawc3Fzg==?=\r\n\
Message-ID: <first-4711@student.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=windows-1251\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
=CA=E0=EC=E5=F0=E0 =ED=E5 =F0=E0=E1=EE=F2=E0=E5=F2\r\n";

async fn email_channel(app: &TestApp, token: &str, address: &str) -> Value {
    let created = app
        .post(
            "/api/v1/channels",
            token,
            &json!({
                "kind": "email",
                "name": format!("Inbox {address}"),
                "priority": "high",
                "tags": ["exams"],
                "email": {"address": address},
                "secrets": {"inbound_secret": SECRET}
            }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await
}

async fn deliver(
    app: &TestApp,
    channel: &Value,
    secret: Option<&str>,
    raw: &str,
) -> reqwest::Response {
    let path = format!(
        "/api/v1/channels/{}/inbound/email",
        channel["id"].as_str().unwrap()
    );
    app.request(Method::POST, &path, secret)
        .header("content-type", "message/rfc822")
        .body(raw.to_owned())
        .send()
        .await
        .unwrap()
}

async fn tickets(app: &TestApp) -> u64 {
    entity::ticket::Entity::find().count(&app.db).await.unwrap()
}

async fn setup() -> (TestApp, Tree, Value) {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let channel = email_channel(&app, &tree.admin_a, "support@partner-a.example").await;
    (app, tree, channel)
}

#[tokio::test]
async fn a_mail_opens_a_ticket_and_its_replies_join_it() {
    let (app, tree, channel) = setup().await;
    let opened = deliver(&app, &channel, Some(SECRET), FIRST).await;
    assert_eq!(opened.status(), StatusCode::CREATED);
    let opened = body(opened).await;
    assert_eq!(opened["result"], "opened");
    let ticket_path = format!("/api/v1/tickets/{}", opened["ticket_id"].as_str().unwrap());
    let ticket = body(app.get(&ticket_path, &tree.admin_a).await).await;
    assert_eq!(ticket["subject"], "Не запускается экзамен");
    assert_eq!(ticket["description"], "Камера не работает");
    assert_eq!(ticket["source"], "email");
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["tags"], json!(["exams"]));
    assert_eq!(ticket["tenant_id"], tree.partner_a.to_string());
    let contact = entity::contact::Entity::find()
        .filter(entity::contact::Column::Email.eq("ivan.petrov@student.example"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the sender became a contact");
    assert_eq!(contact.name, "Иван Петров");
    assert_eq!(ticket["requester_id"], contact.id.to_string());

    // The relay delivers the same mail again: nothing more is stored.
    let again = deliver(&app, &channel, Some(SECRET), FIRST).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = body(again).await;
    assert_eq!(again["result"], "duplicate");
    assert_eq!(again["ticket_id"], opened["ticket_id"]);
    assert_eq!(tickets(&app).await, 1);

    // A reply naming the first mail joins its ticket as the student's incoming message.
    let reply = "From: ivan.petrov@student.example\r\n\
Subject: Re: help\r\n\
Message-ID: <second-4712@student.example>\r\n\
In-Reply-To: <first-4711@student.example>\r\n\
References: <first-4711@student.example>\r\n\
\r\n\
Still broken after a restart.\r\n";
    let joined = deliver(&app, &channel, Some(SECRET), reply).await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    let joined = body(joined).await;
    assert_eq!(joined["result"], "joined");
    assert_eq!(joined["ticket_id"], opened["ticket_id"]);
    // A mail from someone else whose subject carries the ticket's tag joins it too.
    let tagged = format!(
        "From: Proctor <proctor@uni.example>\r\nSubject: Re: [#{}] exam\r\nMessage-ID: <p-1@uni.example>\r\n\r\nI can see the student's camera now.\r\n",
        ticket["number"]
    );
    let by_tag = body(deliver(&app, &channel, Some(SECRET), &tagged).await).await;
    assert_eq!(by_tag["result"], "joined");
    assert_eq!(by_tag["ticket_id"], opened["ticket_id"]);
    assert_eq!(tickets(&app).await, 1);

    // The agent answers; the student's answer to that reply names our Message-ID only.
    let answered = app
        .post(
            &format!("{ticket_path}/replies"),
            &tree.admin_a,
            &json!({"body": "Please allow camera access in the browser."}),
        )
        .await;
    assert_eq!(answered.status(), StatusCode::CREATED);
    let sent = entity::outbox::Entity::find()
        .filter(
            entity::outbox::Column::TicketId.eq(ticket["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap()),
        )
        .one(&app.db)
        .await
        .unwrap()
        .expect("the reply's outbox row");
    let answer = format!(
        "From: ivan.petrov@student.example\r\nSubject: Re: camera\r\nMessage-ID: <fourth@student.example>\r\nIn-Reply-To: <{}@helpdesk>\r\n\r\nThat worked, thank you.\r\n",
        sent.id
    );
    // The reply leaves from the channel's address, in the student's thread.
    let dir = app.state.settings.delivery.resolved_mail_dir("");
    let mut written = String::new();
    for _ in 0..200 {
        if let Some(file) = std::fs::read_dir(&dir).ok().and_then(|mut d| d.next()) {
            written = std::fs::read_to_string(file.unwrap().path()).unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        written.contains("From: support@partner-a.example"),
        "{written}"
    );
    assert!(
        written.contains("In-Reply-To: <p-1@uni.example>"),
        "{written}"
    );
    // (the header may be folded onto a second line)
    let unfolded = written.replace("\r\n ", " ").replace("\n ", " ");
    assert!(
        unfolded.contains("References: <first-4711@student.example> <second-4712@student.example> <p-1@uni.example>"),
        "{written}"
    );
    assert!(unfolded.contains("Subject: [#1] "), "{written}");
    assert!(
        written.contains("To: ivan.petrov@student.example"),
        "{written}"
    );
    let thanked = body(deliver(&app, &channel, Some(SECRET), &answer).await).await;
    assert_eq!(thanked["result"], "joined");
    assert_eq!(thanked["ticket_id"], opened["ticket_id"]);
    // Our own reply coming back (a forwarding loop) is dropped.
    let echo = format!(
        "From: support@partner-a.example\r\nSubject: [#1] x\r\nMessage-ID: <{}@helpdesk>\r\n\r\nPlease allow camera access.\r\n",
        sent.id
    );
    let echoed = body(deliver(&app, &channel, Some(SECRET), &echo).await).await;
    assert_eq!(echoed["result"], "ignored");
    assert_eq!(echoed["reason"], "own_message");

    let conversation = body(
        app.get(&format!("{ticket_path}/conversation"), &tree.admin_a)
            .await,
    )
    .await;
    let incoming: Vec<&Value> = conversation
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "incoming")
        .collect();
    assert_eq!(incoming.len(), 3, "{conversation}");
    assert_eq!(incoming[0]["body_text"], "Still broken after a restart.");
    assert_eq!(incoming[0]["author_contact_id"], contact.id.to_string());
}

#[tokio::test]
async fn machines_mail_gets_no_ticket_and_bad_mail_a_clear_problem() {
    let (app, _tree, channel) = setup().await;
    for (raw, reason) in [
        (
            "From: a@student.example\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\nMessage-ID: <ooo@x>\r\n\r\nAway.\r\n",
            "auto_reply",
        ),
        (
            "From: a@student.example\r\nX-Autoreply: yes\r\nSubject: Away\r\n\r\nAway.\r\n",
            "auto_reply",
        ),
        (
            "From: news@list.example\r\nPrecedence: bulk\r\nSubject: Digest\r\n\r\nNews.\r\n",
            "bulk",
        ),
        (
            "From: news@list.example\r\nList-Id: <exams.list.example>\r\nSubject: Digest\r\n\r\nNews.\r\n",
            "bulk",
        ),
        (
            "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered\r\n\r\nFailed.\r\n",
            "bounce",
        ),
        (
            "From: postmaster@mx.example\r\nSubject: Report\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--b--\r\n",
            "bounce",
        ),
    ] {
        let answered = deliver(&app, &channel, Some(SECRET), raw).await;
        assert_eq!(answered.status(), StatusCode::OK, "{reason}");
        let answered = body(answered).await;
        assert_eq!(answered["result"], "ignored");
        assert_eq!(answered["reason"], reason);
    }
    assert_problem(
        deliver(&app, &channel, Some(SECRET), "").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_problem(
        deliver(
            &app,
            &channel,
            Some(SECRET),
            "Subject: nobody\r\n\r\ntext\r\n",
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    // An oversized subject and text are cut, not refused; NUL bytes never reach the database.
    let long = format!(
        "From: a@student.example\r\nSubject: {}\r\n\r\nnul\0here {}\r\n",
        "S".repeat(5000),
        "x".repeat(100 * 1024)
    );
    let kept = body(deliver(&app, &channel, Some(SECRET), &long).await).await;
    assert_eq!(kept["result"], "opened");
    let ticket = entity::ticket::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.subject.chars().count(), 300);
    assert!(ticket.description.starts_with("nulhere"));
    assert!(
        ticket
            .description
            .ends_with("[the message was cut at 64 KiB]")
    );
    assert_eq!(tickets(&app).await, 1);
}

#[tokio::test]
async fn only_the_channels_relay_delivers_and_only_into_its_tenant() {
    let (app, tree, channel) = setup().await;
    for secret in [
        None,
        Some("wrong-secret"),
        Some(&SECRET[..SECRET.len() - 1]),
    ] {
        assert_problem(
            deliver(&app, &channel, secret, FIRST).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let unknown = json!({"id": uuid::Uuid::now_v7().to_string()});
    assert_problem(
        deliver(&app, &unknown, Some(SECRET), FIRST).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let path = format!(
        "/api/v1/channels/{}/inbound/email",
        channel["id"].as_str().unwrap()
    );
    let not_mail = app
        .request(Method::POST, &path, Some(SECRET))
        .header("content-type", "text/plain")
        .body(FIRST)
        .send()
        .await
        .unwrap();
    assert_problem(
        not_mail,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let huge = app
        .request(Method::POST, &path, Some(SECRET))
        .header("content-type", "message/rfc822")
        .body(vec![b'a'; 11 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(tickets(&app).await, 0);

    // A disabled channel takes no mail.
    let channel_path = format!("/api/v1/channels/{}", channel["id"].as_str().unwrap());
    app.patch(&channel_path, &tree.admin_a, &json!({"enabled": false}))
        .await;
    assert_problem(
        deliver(&app, &channel, Some(SECRET), FIRST).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    app.patch(&channel_path, &tree.admin_a, &json!({"enabled": true}))
        .await;

    // Partner A's student writes; then partner B's channel gets a mail naming that mail and
    // A's ticket's tag: it opens a ticket of B's instead of joining A's.
    let opened = body(deliver(&app, &channel, Some(SECRET), FIRST).await).await;
    let other = email_channel(&app, &tree.admin_b, "help@partner-b.example").await;
    let crossing = "From: ivan.petrov@student.example\r\nSubject: Re: [#1] again\r\n\
Message-ID: <third@student.example>\r\nIn-Reply-To: <first-4711@student.example>\r\n\r\nHello B.\r\n";
    let in_b = body(deliver(&app, &other, Some(SECRET), crossing).await).await;
    assert_eq!(in_b["result"], "opened");
    assert_ne!(in_b["ticket_id"], opened["ticket_id"]);
    let b_ticket = body(
        app.get(
            &format!("/api/v1/tickets/{}", in_b["ticket_id"].as_str().unwrap()),
            &tree.admin_b,
        )
        .await,
    )
    .await;
    assert_eq!(b_ticket["tenant_id"], tree.partner_b.to_string());
    // A's ticket still has no incoming message.
    let a_messages = body(
        app.get(
            &format!(
                "/api/v1/tickets/{}/conversation",
                opened["ticket_id"].as_str().unwrap()
            ),
            &tree.admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(a_messages, json!([]));
}

#[tokio::test]
async fn a_delivery_that_died_midway_holds_the_mail_only_for_a_while() {
    let (app, tree, channel) = setup().await;
    // A node took the mail's receipt and died before its ticket was opened.
    let channel_id: uuid::Uuid = channel["id"].as_str().unwrap().parse().unwrap();
    use sea_orm::{ActiveModelTrait, Set};
    entity::inbound_message::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        tenant_id: Set(tree.partner_a),
        channel_id: Set(channel_id),
        external_id: Set("first-4711@student.example".to_owned()),
        ticket_id: Set(None),
        message_id: Set(None),
        received_at: Set(app.state.clock.now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    // Meanwhile the relay's retry is told to come back, not that the mail is stored.
    assert_problem(
        deliver(&app, &channel, Some(SECRET), FIRST).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    assert_eq!(tickets(&app).await, 0);
    app.state.clock.advance(chrono::TimeDelta::minutes(6));
    let opened = body(deliver(&app, &channel, Some(SECRET), FIRST).await).await;
    assert_eq!(opened["result"], "opened");
    let receipts = entity::inbound_message::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(
        receipts[0].ticket_id.map(|id| id.to_string()),
        opened["ticket_id"].as_str().map(str::to_owned)
    );
}
