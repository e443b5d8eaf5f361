use api::channels::domain::SecretName;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tests::{assert_problem, body, spawn_app};
use uuid::Uuid;

fn email_channel(name: &str, address: &str) -> Value {
    json!({
        "kind": "email",
        "name": name,
        "priority": "high",
        "tags": ["Exams", "exams"],
        "locale": "ru",
        "email": {
            "address": address,
            "from_name": "Proctoring support",
            "smtp": {"host": "SMTP.Mail.Example", "port": 587, "security": "starttls", "username": "support"}
        },
        "secrets": {"smtp_password": "smtp-pass-7f3a", "inbound_secret": "relay-secret-91c2"}
    })
}

async fn stored(app: &tests::TestApp, id: &Value) -> entity::channel::Model {
    let id: Uuid = id.as_str().unwrap().parse().unwrap();
    entity::channel::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the channel row")
}

#[tokio::test]
async fn admins_manage_channels_and_secrets_never_come_back() {
    let app = spawn_app().await;
    let tree = app.tree().await;

    let created = app
        .post(
            "/api/v1/channels",
            &tree.admin_a,
            &email_channel("Support inbox", " Support@Partner-A.Example "),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let text = created.text().await.unwrap();
    assert!(!text.contains("smtp-pass-7f3a") && !text.contains("relay-secret-91c2"));
    let channel: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        location,
        format!("/api/v1/channels/{}", channel["id"].as_str().unwrap())
    );
    assert_eq!(channel["tenant_id"], tree.partner_a.to_string());
    assert_eq!(channel["kind"], "email");
    assert_eq!(channel["enabled"], true);
    assert_eq!(channel["priority"], "high");
    assert_eq!(channel["tags"], json!(["exams"]));
    assert_eq!(channel["email"]["address"], "support@partner-a.example");
    assert_eq!(channel["email"]["smtp"]["host"], "smtp.mail.example");
    assert_eq!(
        channel["secrets_set"],
        json!(["inbound_secret", "smtp_password"])
    );
    assert!(channel.get("secrets").is_none() && channel.get("whatsapp").is_none());

    // At rest the secrets are sealed; the service opens them for its workers.
    let row = stored(&app, &channel["id"]).await;
    assert_eq!(row.address.as_deref(), Some("support@partner-a.example"));
    assert!(!row.secrets.contains("smtp-pass-7f3a") && !row.secrets.contains("relay-secret-91c2"));
    let opened = api::channels::service::secret(&app.state, &row, SecretName::SmtpPassword)
        .unwrap()
        .unwrap();
    assert_eq!(opened.expose_secret(), "smtp-pass-7f3a");
    assert!(
        api::channels::service::secret(&app.state, &row, SecretName::ImapPassword)
            .unwrap()
            .is_none()
    );
    // A sealed value moved to another secret's place does not open.
    let mut moved = row.clone();
    let sealed: serde_json::Map<String, Value> = serde_json::from_str(&row.secrets).unwrap();
    moved.secrets = json!({"imap_password": sealed["smtp_password"]}).to_string();
    assert!(api::channels::service::secret(&app.state, &moved, SecretName::ImapPassword).is_err());

    // Names are unique per tenant; an address receives for one channel across all tenants.
    assert_problem(
        app.post(
            "/api/v1/channels",
            &tree.admin_a,
            &email_channel("Support inbox", "other@partner-a.example"),
        )
        .await,
        StatusCode::CONFLICT,
        "channel_name_taken",
    )
    .await;
    assert_problem(
        app.post(
            "/api/v1/channels",
            &tree.admin_b,
            &email_channel("Inbox", "SUPPORT@partner-a.example"),
        )
        .await,
        StatusCode::CONFLICT,
        "channel_address_taken",
    )
    .await;

    // Agents read channels (never secrets) but do not manage them.
    let listed = body(app.get("/api/v1/channels", &tree.agent_a).await).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["items"][0]["secrets_set"],
        json!(["inbound_secret", "smtp_password"])
    );
    let one = app.get(&location, &tree.agent_a).await;
    assert_eq!(one.status(), StatusCode::OK);
    assert_problem(
        app.post(
            "/api/v1/channels",
            &tree.agent_a,
            &email_channel("Mine", "mine@a.example"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;
    assert_problem(
        app.patch(&location, &tree.agent_a, &json!({"enabled": false}))
            .await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    )
    .await;

    // An update replaces what it names: one secret removed, one added, the other kept.
    let updated = app
        .patch(
            &location,
            &tree.admin_a,
            &json!({
                "enabled": false,
                "priority": null,
                "email": {"address": "help@partner-a.example", "imap": {"host": "imap.mail.example", "port": 993}},
                "secrets": {"smtp_password": null, "imap_password": "imap-pass-55"}
            }),
        )
        .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated = body(updated).await;
    assert_eq!(updated["enabled"], false);
    assert_eq!(updated["priority"], Value::Null);
    assert_eq!(updated["email"]["imap"]["security"], "tls");
    assert_eq!(updated["email"]["smtp"], Value::Null);
    assert_eq!(
        updated["secrets_set"],
        json!(["inbound_secret", "imap_password"])
    );
    let row = stored(&app, &channel["id"]).await;
    assert_eq!(row.address.as_deref(), Some("help@partner-a.example"));
    let kept = api::channels::service::secret(&app.state, &row, SecretName::InboundSecret)
        .unwrap()
        .unwrap();
    assert_eq!(kept.expose_secret(), "relay-secret-91c2");
    // The old address is free again.
    let reused = app
        .post(
            "/api/v1/channels",
            &tree.admin_b,
            &email_channel("Inbox", "support@partner-a.example"),
        )
        .await;
    assert_eq!(reused.status(), StatusCode::CREATED);

    // Settings of another kind and secrets the kind does not keep are refused, nothing saved.
    for (patch, field) in [
        (json!({"whatsapp": {"phone_number_id": "1234"}}), "whatsapp"),
        (
            json!({"secrets": {"bot_token": "123:abc"}}),
            "secrets.bot_token",
        ),
        (
            json!({"secrets": {"imap_password": ""}}),
            "secrets.imap_password",
        ),
        (json!({"locale": "not a locale!"}), "locale"),
        (
            json!({"email": {"address": "not-an-address"}}),
            "email.address",
        ),
        (
            json!({"email": {"address": "a@b.example", "smtp": {"host": "bad host", "port": 25}}}),
            "email.smtp.host",
        ),
    ] {
        let refused = assert_problem(
            app.patch(&location, &tree.admin_a, &patch).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    assert_eq!(stored(&app, &channel["id"]).await, row);

    app.delete(&location, &tree.admin_a).await;
    assert_problem(
        app.get(&location, &tree.admin_a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn each_kind_is_checked_against_its_own_settings() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let whatsapp = app
        .post(
            "/api/v1/channels",
            &tree.admin_a,
            &json!({
                "kind": "whatsapp",
                "name": "WhatsApp LATAM",
                "locale": "pt-BR",
                "whatsapp": {"phone_number_id": " 106540352242922 ", "display_phone": "+55 11 4000-0000"},
                "secrets": {"access_token": "EAAG-token", "app_secret": "meta-app-secret", "verify_token": "verify-me"}
            }),
        )
        .await;
    assert_eq!(whatsapp.status(), StatusCode::CREATED);
    let whatsapp = body(whatsapp).await;
    assert_eq!(whatsapp["whatsapp"]["phone_number_id"], "106540352242922");
    assert_eq!(
        whatsapp["secrets_set"],
        json!(["access_token", "app_secret", "verify_token"])
    );

    let telegram = body(
        app.post(
            "/api/v1/channels",
            &tree.admin_a,
            &json!({"kind": "telegram", "name": "Bot", "telegram": {"bot_username": "@Exam_Help_Bot"}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        telegram["telegram"],
        json!({"bot_username": "Exam_Help_Bot", "mode": "polling"})
    );
    let web = body(
        app.post(
            "/api/v1/channels",
            &tree.admin_a,
            &json!({"kind": "web", "name": "Form", "web": {"allowed_origins": ["https://Exams.Example.edu"]}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        web["web"]["allowed_origins"],
        json!(["https://exams.example.edu"])
    );
    let api_entry = body(
        app.post(
            "/api/v1/channels",
            &tree.admin_a,
            &json!({"kind": "api", "name": "Scenario bot"}),
        )
        .await,
    )
    .await;
    assert_eq!(api_entry["secrets_set"], json!([]));

    let kinds = body(
        app.get("/api/v1/channels?kind=telegram", &tree.admin_a)
            .await,
    )
    .await;
    let kinds: Vec<&str> = kinds["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["telegram"]);

    for (bad, field) in [
        (json!({"kind": "whatsapp", "name": "W"}), "whatsapp"),
        (
            json!({"kind": "whatsapp", "name": "W", "whatsapp": {"phone_number_id": "12ab"}}),
            "whatsapp.phone_number_id",
        ),
        (
            json!({"kind": "telegram", "name": "T", "telegram": {"bot_username": "helper"}}),
            "telegram.bot_username",
        ),
        (
            json!({"kind": "telegram", "name": "T", "telegram": {"bot_username": "x_bot"}, "email": {"address": "a@b.example"}}),
            "email",
        ),
        (
            json!({"kind": "web", "name": "F", "web": {"allowed_origins": ["https://x.example/path"]}}),
            "web.allowed_origins",
        ),
        (
            json!({"kind": "api", "name": "A", "secrets": {"captcha_secret": "s"}}),
            "secrets.captcha_secret",
        ),
        (
            json!({"kind": "email", "name": "E", "email": {"address": "a@b.example"}, "tags": ["a,b"]}),
            "tags",
        ),
        (json!({"kind": "fax", "name": "F"}), "unknown variant `fax`"),
        (
            json!({"kind": "email", "name": "E", "email": {"address": "a@b.example", "smtp": {"host": "h", "port": 70000}}}),
            "70000",
        ),
    ] {
        let refused = app.post("/api/v1/channels", &tree.admin_a, &bad).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let refused = body(refused).await;
        assert!(refused.to_string().contains(field), "{field}: {refused}");
    }
    let count = entity::channel::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(count, 4, "refused channels left rows behind");
}

#[tokio::test]
async fn channels_belong_to_tenants_whose_tickets_the_caller_works() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    // A partner sets up its client's own address, with the partner's tier as its group.
    let group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_a,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await;
    let mut client_channel = email_channel("Client inbox", "exams@client-a.example");
    client_channel["tenant_id"] = json!(tree.client_a);
    client_channel["default_group_id"] = group["id"].clone();
    let created = app
        .post("/api/v1/channels", &tree.admin_a, &client_channel)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    assert_eq!(created["tenant_id"], tree.client_a.to_string());
    assert_eq!(created["default_group_id"], group["id"]);
    // The client's own admin sees it; partner B's group is no group of this tenant.
    let seen = app
        .get(
            &format!("/api/v1/channels/{}", created["id"].as_str().unwrap()),
            &tree.client_admin_a,
        )
        .await;
    assert_eq!(seen.status(), StatusCode::OK);
    let other_group = body(
        app.post(
            "/api/v1/groups",
            &tree.admin_b,
            &json!({"name": "L1", "kind": "l1"}),
        )
        .await,
    )
    .await;
    let mut foreign_group = email_channel("Other", "other@client-a.example");
    foreign_group["default_group_id"] = other_group["id"].clone();
    assert_problem(
        app.post("/api/v1/channels", &tree.admin_a, &foreign_group)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;

    // The platform administers partners but does not work their tickets: no channel there.
    let mut in_partner = email_channel("Platform's", "platform@partner-a.example");
    in_partner["tenant_id"] = json!(tree.partner_a);
    assert_problem(
        app.post("/api/v1/channels", &tree.root, &in_partner).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Its own dedicated client is its support data.
    let mut dedicated = email_channel("Dedicated", "support@dedicated.example");
    dedicated["tenant_id"] = json!(tree.dedicated);
    let made = app.post("/api/v1/channels", &tree.root, &dedicated).await;
    assert_eq!(made.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn another_tenant_gets_404_on_every_channel_endpoint() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let channel = body(
        app.post(
            "/api/v1/channels",
            &tree.admin_a,
            &email_channel("Support", "support@a.example"),
        )
        .await,
    )
    .await;
    let path = format!("/api/v1/channels/{}", channel["id"].as_str().unwrap());
    for token in [&tree.admin_b, &tree.root] {
        assert_problem(
            app.get(&path, token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(
            app.patch(&path, token, &json!({"enabled": false})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_problem(
            app.delete(&path, token).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let listed = body(
            app.get(
                &format!("/api/v1/channels?tenant_id={}", tree.partner_a),
                token,
            )
            .await,
        )
        .await;
        assert_eq!(listed["items"], json!([]));
    }
    let mut into_a = email_channel("Sneaky", "sneaky@a.example");
    into_a["tenant_id"] = json!(tree.partner_a);
    assert_problem(
        app.post("/api/v1/channels", &tree.admin_b, &into_a).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Untouched.
    let row = stored(&app, &channel["id"]).await;
    assert!(row.enabled);
}
