use reqwest::StatusCode;
use serde_json::json;
use tests::{assert_problem, body, spawn_app};

#[tokio::test]
async fn each_field_is_inherited_from_the_nearest_tenant_that_sets_it() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    let platform_branding = json!({"display_name": "Proctoring Support", "primary_color": "#112233", "logo_url": "https://cdn.example.org/logo.png",
                                   "email_signature": "The support team", "portal_domain": "help.platform.example"});
    assert_eq!(
        app.put(
            &format!("/api/v1/tenants/{}/branding", tree.platform),
            &tree.root,
            &platform_branding
        )
        .await
        .status(),
        StatusCode::OK
    );
    let partner_branding =
        json!({"primary_color": "#AA0000", "email_sender_name": "Partner A Support"});
    assert_eq!(
        app.put(
            &format!("/api/v1/tenants/{}/branding", tree.partner_a),
            &tree.admin_a,
            &partner_branding
        )
        .await
        .status(),
        StatusCode::OK
    );

    let effective = body(
        app.get(
            &format!("/api/v1/tenants/{}/branding", tree.client_a),
            &tree.client_admin_a,
        )
        .await,
    )
    .await;
    assert_eq!(effective["tenant_id"], tree.client_a.to_string());
    assert_eq!(effective["display_name"]["value"], "Proctoring Support");
    assert_eq!(
        effective["display_name"]["source_tenant_id"],
        tree.platform.to_string()
    );
    assert_eq!(effective["primary_color"]["value"], "#AA0000");
    assert_eq!(
        effective["primary_color"]["source_tenant_id"],
        tree.partner_a.to_string()
    );
    assert_eq!(effective["email_sender_name"]["value"], "Partner A Support");
    assert_eq!(effective["accent_color"]["value"], serde_json::Value::Null);
    // A portal domain names one tenant's portal and is not inherited.
    assert_eq!(effective["portal_domain"]["value"], serde_json::Value::Null);

    // The client overrides one field; clearing it falls back to the partner again.
    let own = app
        .put(
            &format!("/api/v1/tenants/{}/branding", tree.client_a),
            &tree.admin_a,
            &json!({"primary_color": "#00aa00", "portal_domain": "help.client-a.example"}),
        )
        .await;
    let own = body(own).await;
    assert_eq!(
        own["primary_color"]["source_tenant_id"],
        tree.client_a.to_string()
    );
    assert_eq!(own["portal_domain"]["value"], "help.client-a.example");
    let cleared = body(
        app.put(
            &format!("/api/v1/tenants/{}/branding", tree.client_a),
            &tree.admin_a,
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(cleared["primary_color"]["value"], "#AA0000");
    // The sibling partner's clients see the platform's colour, not partner A's.
    let sibling = body(
        app.get(
            &format!("/api/v1/tenants/{}/branding", tree.client_b),
            &tree.admin_b,
        )
        .await,
    )
    .await;
    assert_eq!(sibling["primary_color"]["value"], "#112233");
}

#[tokio::test]
async fn malformed_branding_and_taken_domains_are_refused() {
    let app = spawn_app().await;
    let tree = app.tree().await;
    for (field, value) in [
        ("primary_color", "red"),
        ("accent_color", "#12345"),
        ("logo_url", "javascript:alert(1)"),
        ("portal_domain", "not a domain"),
    ] {
        let response = app
            .put(
                &format!("/api/v1/tenants/{}/branding", tree.partner_a),
                &tree.admin_a,
                &json!({field: value}),
            )
            .await;
        let problem = assert_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let domain = json!({"portal_domain": "help.shared.example"});
    assert_eq!(
        app.put(
            &format!("/api/v1/tenants/{}/branding", tree.partner_a),
            &tree.admin_a,
            &domain
        )
        .await
        .status(),
        StatusCode::OK
    );
    let taken = app
        .put(
            &format!("/api/v1/tenants/{}/branding", tree.partner_b),
            &tree.admin_b,
            &domain,
        )
        .await;
    assert_problem(taken, StatusCode::CONFLICT, "portal_domain_taken").await;
    // The refused write left partner B's branding as it was.
    let b = body(
        app.get(
            &format!("/api/v1/tenants/{}/branding", tree.partner_b),
            &tree.admin_b,
        )
        .await,
    )
    .await;
    assert_eq!(b["portal_domain"]["value"], serde_json::Value::Null);
}
