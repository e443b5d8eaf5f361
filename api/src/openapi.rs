//! The OpenAPI document, collected from the same route table the server runs.
use crate::error::{FieldError, Problem};
use actix_web::App;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Helpdesk API",
        description = "Multi-tenant customer support: a platform, its regional partners and their clients, each isolated behind JWT- or API-key-scoped endpoints. Errors are RFC 9457 problem documents; lists use cursor pagination; POSTs accept `Idempotency-Key`."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "auth", description = "Sign-in, tokens, passwords"),
        (name = "tenants", description = "The tenant tree and branding"),
        (name = "users", description = "Users and roles"),
        (name = "groups", description = "Agent groups (tiers and teams) and memberships"),
        (name = "calendars", description = "Business hours: weekly intervals, holidays, 24/7"),
        (name = "tickets", description = "Tickets, conversation and history"),
        (name = "attachments", description = "Files of a ticket's conversation"),
        (name = "jobs", description = "Bulk updates and mass replies, run in the background"),
        (name = "views", description = "Agents' saved ticket views"),
        (name = "agents", description = "Shifts and hand-offs"),
        (name = "reports", description = "Counts and statistics"),
        (name = "companies", description = "Client organisations"),
        (name = "contacts", description = "Requesters"),
        (name = "api-keys", description = "Integrators' API keys"),
        (name = "operations", description = "Probes"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "An integrator's API key (`hd_…`); `Authorization: Bearer hd_…` works too",
            ))),
        );
    }
}

/// The document describing every operation the server registers.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::startup::routes)
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api
}

/// The document as pretty JSON with a trailing newline, as checked in at `openapi/openapi.json`.
///
/// # Errors
/// Fails only if serialisation fails.
pub fn spec_json() -> anyhow::Result<String> {
    Ok(format!("{}\n", spec().to_pretty_json()?))
}
