//! The first tenants of a fresh database: the operator's platform and first admin, or a demo
//! tree to try the product with.
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;
use crate::users::service::insert_user;
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};
use tenants::provisioning::{self, NewTenant};
use tenants::{Role, TenantKind};

/// What start-up did to an empty database.
#[derive(Debug)]
pub enum Bootstrap {
    /// The database already had tenants.
    Existing,
    /// Created the platform tenant and its first admin from the settings.
    Admin {
        /// The admin's e-mail.
        email: String,
    },
    /// Created the demo tree.
    Demo(Vec<DemoAccount>),
}

/// One demo account, printed once at first start.
#[derive(Debug)]
pub struct DemoAccount {
    /// What the account is for.
    pub label: &'static str,
    /// Tenant slug.
    pub tenant: String,
    /// E-mail.
    pub email: String,
    /// Generated password.
    pub password: SecretString,
}

fn tenant(
    kind: TenantKind,
    dedicated: bool,
    slug: &str,
    name: &str,
    region: Option<&str>,
    locales: &[&str],
    zone: &str,
) -> NewTenant {
    NewTenant {
        kind,
        dedicated,
        slug: slug.into(),
        name: name.into(),
        region: region.map(Into::into),
        locales: locales.iter().map(|l| (*l).to_owned()).collect(),
        default_locale: None,
        time_zone: zone.into(),
    }
}

/// A random 16-character password the strength rules accept (a random draw that happens to
/// look like a word or a sequence is drawn again).
fn generated_password(email: &str, name: &str) -> SecretString {
    let draw = || -> String {
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(16)
            .map(char::from)
            .collect()
    };
    let mut text = draw();
    for _ in 0..16 {
        if crate::auth::password::weakness(&text, &[email, name]).is_none() {
            break;
        }
        text = draw();
    }
    SecretString::from(text)
}

/// Creates the first tenants on an empty database.
///
/// # Errors
/// Fails when the database does or the configured admin is invalid.
pub async fn bootstrap(state: &AppState) -> Result<Bootstrap, ApiError> {
    if !tenants::tree::is_empty(&state.db).await? {
        return Ok(Bootstrap::Existing);
    }
    let settings = state.settings.clone();
    if let (Some(email), Some(password)) = (&settings.admin_email, &settings.admin_password) {
        // Checked before anything is written: a refused admin must not leave a platform behind
        // that the next start would take for an existing deployment.
        crate::users::service::normalise_email(email)
            .and_then(|email| {
                crate::auth::password::validate_password("password", password, &[&email])
            })
            .map_err(name_the_settings)?;
        let platform = provisioning::create_platform(
            &state.db,
            tenant(
                TenantKind::Platform,
                false,
                "platform",
                "Support platform",
                None,
                &["en", "ru"],
                "UTC",
            ),
            state.clock.now(),
        )
        .await?;
        let admin = insert_user(
            state,
            platform.id,
            email,
            "Platform admin",
            Role::PlatformAdmin,
            password.clone(),
        )
        .await
        .map_err(name_the_settings)?;
        tracing::info!(email = %admin.email, "created the platform tenant and its first admin");
        return Ok(Bootstrap::Admin { email: admin.email });
    }
    if !settings.demo {
        return Ok(Bootstrap::Existing);
    }
    let platform = provisioning::create_platform(
        &state.db,
        tenant(
            TenantKind::Platform,
            false,
            "platform",
            "Proctoring support",
            None,
            &["ru", "en", "es", "pt", "ar"],
            "Europe/Moscow",
        ),
        state.clock.now(),
    )
    .await?;
    // The operator's scope: the whole platform tree, partners' clients included.
    let scope = Principal::operator(&platform).scope;
    let partner = provisioning::create_child(
        &state.db,
        &scope,
        platform.id,
        tenant(
            TenantKind::Partner,
            false,
            "partner-europe",
            "Partner Europe",
            Some("europe"),
            &["en", "pt", "es"],
            "Europe/Lisbon",
        ),
        state.clock.now(),
    )
    .await?;
    provisioning::create_child(
        &state.db,
        &scope,
        partner.id,
        tenant(
            TenantKind::Client,
            false,
            "uni-lisboa",
            "Universidade de Lisboa",
            Some("europe"),
            &["pt", "en"],
            "Europe/Lisbon",
        ),
        state.clock.now(),
    )
    .await?;
    let dedicated = provisioning::create_child(
        &state.db,
        &scope,
        platform.id,
        tenant(
            TenantKind::Client,
            true,
            "hse-university",
            "HSE University",
            Some("cis"),
            &["ru", "en"],
            "Europe/Moscow",
        ),
        state.clock.now(),
    )
    .await?;
    let plan = [
        (
            "platform admin",
            &platform,
            "admin@platform.demo",
            "Platform Admin",
            Role::PlatformAdmin,
        ),
        (
            "partner admin",
            &partner,
            "admin@partner-europe.demo",
            "Partner Admin",
            Role::TenantAdmin,
        ),
        (
            "partner agent",
            &partner,
            "agent@partner-europe.demo",
            "Partner Agent",
            Role::Agent,
        ),
        (
            "dedicated client admin",
            &dedicated,
            "admin@hse-university.demo",
            "HSE Support Lead",
            Role::ClientAdmin,
        ),
    ];
    let mut accounts = Vec::new();
    for (label, owner, email, name, role) in plan {
        let password = generated_password(email, name);
        insert_user(state, owner.id, email, name, role, password.clone()).await?;
        accounts.push(DemoAccount {
            label,
            tenant: owner.slug.clone(),
            email: email.into(),
            password,
        });
    }
    // The platform's general address and the dedicated client's own address, as the users run
    // them (a dedicated client has a channel of its own).
    for (owner, name, address, from_name) in [
        (
            &platform,
            "General support",
            "support@platform.demo",
            "Proctoring support",
        ),
        (
            &dedicated,
            "HSE support",
            "support@hse-university.demo",
            "HSE University support",
        ),
    ] {
        let body = serde_json::from_value(serde_json::json!({
            "kind": "email",
            "name": name,
            "email": {"address": address, "from_name": from_name},
        }))
        .map_err(|e| ApiError::Internal(e.into()))?;
        crate::channels::service::insert(state, &scope, owner, body).await?;
    }
    tracing::info!("created the demo tenant tree");
    Ok(Bootstrap::Demo(accounts))
}

/// A refused configured admin names the settings to fix rather than API fields.
fn name_the_settings(err: ApiError) -> ApiError {
    match err {
        ApiError::Validation {
            code,
            detail,
            errors,
        } => ApiError::Validation {
            code,
            detail: format!(
                "the configured first admin (`admin_email`, `admin_password`) is refused: {detail}"
            ),
            errors: errors
                .into_iter()
                .map(|mut error| {
                    error.field = format!("admin_{}", error.field);
                    error
                })
                .collect(),
        },
        other => other,
    }
}

impl DemoAccount {
    /// One printable line, password included (printed once, on the operator's terminal).
    pub fn line(&self) -> String {
        format!(
            "  {:<24} {:<32} {}  (tenant {})",
            self.label,
            self.email,
            self.password.expose_secret(),
            self.tenant
        )
    }
}
