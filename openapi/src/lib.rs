//! The published OpenAPI document and the offline docs page.
//!
//! `openapi.json` beside this crate is generated from the code by `helpdesk openapi` and
//! checked in; an integration test fails when the two differ.

/// The checked-in document.
pub const PUBLISHED: &str = include_str!("../openapi.json");

/// The Swagger UI page at `/docs/`, served from assets built into the binary (no internet
/// needed), reading the live document from `/openapi.json`.
pub fn docs_ui(spec: utoipa::openapi::OpenApi) -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", spec)
}
