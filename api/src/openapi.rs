//! The OpenAPI document, collected from the same route table the server runs.
use crate::error::{FieldError, PROBLEM_JSON, Problem};
use actix_web::App;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Schema};
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
        (name = "inbound", description = "Messages arriving through channels: raw mail posted by a relay"),
        (name = "channels", description = "E-mail addresses, WhatsApp numbers, Telegram bots, web forms and API entries of a tenant, with write-only secrets"),
        (name = "calendars", description = "Business hours: weekly intervals, holidays, 24/7"),
        (name = "tickets", description = "Tickets, conversation and history"),
        (name = "attachments", description = "Files of a ticket's conversation"),
        (name = "jobs", description = "Bulk updates and mass replies, run in the background"),
        (name = "outbox", description = "Messages on their way out: delivery status, dead letters, retries"),
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
        components.add_security_scheme(
            "channel_secret",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A channel's own `inbound_secret`, presented by the relay that posts its mail",
                    ))
                    .build(),
            ),
        );
    }
}

/// Documents on every operation the error statuses its shape implies, where the annotation does
/// not already say more: whatever extracts a JSON body, a query, a path or credentials can
/// answer them before the handler runs, so they are stated once here rather than on ~80
/// operations (and an operation that gains a body or a query gains them too).
///
/// | the operation has | the server may answer |
/// |---|---|
/// | a JSON body | 400 malformed JSON, 413 too large, 415 not JSON, 422 wrong shape |
/// | any body | 413 too large |
/// | query parameters | 400 unparsable or unknown parameter or cursor; 422 for `limit` out of 1-100 |
/// | path parameters | 404 no such resource (a malformed id is no resource either) |
/// | security | 401 no or bad credentials, 403 missing permission or suspended tenant |
/// | a path under `/api/v1` | 503 `dependency_unavailable` with `Retry-After`: the database or Redis is down |
/// | API-key security | 429 over the key's per-minute limit |
/// | `POST` under `/api/v1` (not `/auth`) | 409 and 422 from `Idempotency-Key` (in use, reused, invalid) |
pub struct ImpliedResponses;

impl Modify for ImpliedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (&mut item.get, "GET"),
                (&mut item.put, "PUT"),
                (&mut item.post, "POST"),
                (&mut item.delete, "DELETE"),
                (&mut item.patch, "PATCH"),
                (&mut item.head, "HEAD"),
                (&mut item.options, "OPTIONS"),
                (&mut item.trace, "TRACE"),
            ];
            for (operation, method) in operations {
                if let Some(operation) = operation {
                    for (status, why) in implied_statuses(path, method, operation) {
                        add_problem_response(operation, status, &why);
                    }
                }
            }
        }
    }
}

/// The statuses `operation` can answer by its shape alone, with why.
fn implied_statuses(path: &str, method: &str, operation: &Operation) -> Vec<(u16, String)> {
    let mut implied: Vec<(u16, String)> = Vec::new();
    let mut say = |status: u16, why: &str| match implied.iter_mut().find(|(s, _)| *s == status) {
        Some((_, text)) => {
            text.push_str("; ");
            text.push_str(why);
        }
        None => implied.push((status, why.to_owned())),
    };
    if let Some(RefOr::T(body)) = &operation.request_body {
        if body.content.contains_key("application/json") {
            say(400, "The body is not well-formed JSON (`malformed_json`)");
            say(
                415,
                "The body is not `application/json` (`unsupported_media_type`)",
            );
            say(
                422,
                "The body is JSON of the wrong shape or with invalid fields (`validation_failed`)",
            );
        }
        say(413, "The body is larger than allowed (`payload_too_large`)");
    }
    let parameters = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(parameter) => Some(parameter),
            RefOr::Ref(_) => None,
        });
    let mut query = false;
    let mut paged = false;
    let mut in_path = false;
    for parameter in parameters {
        match parameter.parameter_in {
            ParameterIn::Query | ParameterIn::QueryString => {
                query = true;
                paged |= parameter.name == "limit" || parameter.name == "cursor";
            }
            ParameterIn::Path => in_path = true,
            ParameterIn::Header | ParameterIn::Cookie => {}
        }
    }
    if query {
        say(
            400,
            "A query parameter cannot be read or is unknown (`invalid_query`)",
        );
    }
    if paged {
        say(
            400,
            "The cursor is not one this API issued (`invalid_cursor`)",
        );
        say(422, "`limit` is outside 1-100 (`validation_failed`)");
    }
    if in_path {
        say(
            404,
            "Not found in the caller's scope; a malformed id names no resource either (`not_found`)",
        );
    }
    let schemes: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| serde_json::to_value(requirement).ok())
        .filter_map(|value| value.as_object().cloned())
        .flat_map(|requirement| requirement.keys().cloned().collect::<Vec<_>>())
        .collect();
    if !schemes.is_empty() {
        say(
            401,
            "No credentials, or credentials that are invalid, expired or revoked",
        );
        say(
            403,
            "The caller lacks the permission, or its tenant is suspended",
        );
    }
    if path.starts_with("/api/v1/") {
        say(
            503,
            "A dependency the request needs (the database, or Redis) is down, or this node's copy \
             of revoked credentials is too old to trust (`dependency_unavailable`, see `Retry-After`)",
        );
    }
    if schemes.iter().any(|scheme| scheme == "api_key") {
        say(
            429,
            "The API key's per-minute limit is spent (`rate_limited`, see `Retry-After`)",
        );
    }
    if method == "POST" && path.starts_with("/api/v1/") && !path.starts_with("/api/v1/auth/") {
        say(
            409,
            "A request with the same `Idempotency-Key` is still running (`idempotency_key_in_use`)",
        );
        say(
            422,
            "The `Idempotency-Key` is invalid or was used with another body",
        );
    }
    implied
}

/// Adds a problem+json response for `status` unless the operation documents it already.
fn add_problem_response(operation: &mut Operation, status: u16, description: &str) {
    let key = status.to_string();
    if operation.responses.responses.contains_key(&key) {
        return;
    }
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content)
        .build();
    operation
        .responses
        .responses
        .insert(key, RefOr::T(response));
}

/// Marks the ticket criteria closed to unknown keys, as [`TicketCriteria::from_json`] reads them
/// in a bulk request's `filter`. Serde cannot say so on the type: the same type reads the ticket
/// list's query string, which holds the paging parameters beside it.
///
/// [`TicketCriteria::from_json`]: crate::tickets::criteria::TicketCriteria::from_json
struct ClosedCriteria;

impl Modify for ClosedCriteria {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let criteria = openapi
            .components
            .as_mut()
            .and_then(|components| components.schemas.get_mut("TicketCriteria"));
        if let Some(RefOr::T(Schema::Object(object))) = criteria {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The document describing every operation the server registers.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::startup::routes)
        .split_for_parts();
    // After the paths are collected: `modifiers` of the derive run before they exist.
    ImpliedResponses.modify(&mut api);
    ClosedCriteria.modify(&mut api);
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
