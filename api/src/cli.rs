//! The `helpdesk` command line: serve, migrate, print the OpenAPI document, and operator
//! commands that provision tenants, users and API keys without the HTTP API.
use crate::auth::principal::Principal;
use crate::config::Settings;
use crate::error::ApiError;
use crate::seed::Bootstrap;
use crate::startup::{Application, connect_database, prepare_state};
use anyhow::Context;
use clap::{Parser, Subcommand};
use migration::MigratorTrait;
use secrecy::SecretString;
use tenants::provisioning::{self, NewTenant};
use tenants::{Role, TenantKind};

/// Multi-tenant customer-support platform.
#[derive(Debug, Parser)]
#[command(name = "helpdesk", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, create the first tenants on an empty database, and serve the API.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage integrators' API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Manage JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// Tenant commands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a partner or a client below an existing tenant.
    Create {
        /// Slug of the parent tenant.
        #[arg(long)]
        parent: String,
        /// `partner` or `client`.
        #[arg(long)]
        kind: String,
        /// A client directly below the platform.
        #[arg(long)]
        dedicated: bool,
        /// Slug of the new tenant.
        #[arg(long)]
        slug: String,
        /// Name of the new tenant.
        #[arg(long)]
        name: String,
        /// Region label.
        #[arg(long)]
        region: Option<String>,
        /// Comma-separated locales.
        #[arg(long, default_value = "en", value_delimiter = ',')]
        locales: Vec<String>,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from `HELPDESK_NEW_PASSWORD` or standard input.
    Create {
        /// Slug of the user's tenant.
        #[arg(long)]
        tenant: String,
        /// E-mail.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role: platform_admin, tenant_admin, supervisor, agent or client_admin.
        #[arg(long)]
        role: String,
    },
}

/// API key commands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it once.
    Create {
        /// Slug of the key's tenant.
        #[arg(long)]
        tenant: String,
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
}

/// Signing key commands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Start signing with a new key; tokens signed with the old one stay valid until they expire.
    Rotate,
}

/// Runs a command.
///
/// # Errors
/// Whatever the command fails with, for the operator to read.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = connect_database(&settings).await?;
            migration::Migrator::up(&db, None).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", crate::openapi::spec_json()?);
            Ok(())
        }
        Command::Tenant(TenantCommand::Create {
            parent,
            kind,
            dedicated,
            slug,
            name,
            region,
            locales,
            time_zone,
        }) => {
            let state = prepare_state(settings).await?;
            let parent = tenants::tree::tenant_by_slug(&state.db, &parent)
                .await?
                .context("no tenant with that parent slug")?;
            let platform = platform_of(&state).await?;
            let kind: TenantKind = kind.parse().map_err(anyhow::Error::msg)?;
            let new = NewTenant {
                kind,
                dedicated,
                slug,
                name,
                region,
                locales,
                default_locale: None,
                time_zone,
            };
            let operator = Principal::operator(&platform);
            let now = state.clock.now();
            let created =
                provisioning::create_child(&state.db, &operator.scope, parent.id, new, now)
                    .await
                    .map_err(explain_tenancy)?;
            println!("created tenant {} ({})", created.slug, created.id);
            Ok(())
        }
        Command::User(UserCommand::Create {
            tenant,
            email,
            name,
            role,
        }) => {
            let state = prepare_state(settings).await?;
            let owner = tenants::tree::tenant_by_slug(&state.db, &tenant)
                .await?
                .context("no tenant with that slug")?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let kind: TenantKind = owner.kind.parse().map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                role.fits(kind),
                "role {role} does not exist in a {kind} tenant"
            );
            let password = read_password()?;
            let created =
                crate::users::service::insert_user(&state, owner.id, &email, &name, role, password)
                    .await
                    .map_err(explain)?;
            println!("created user {} ({})", created.email, created.id);
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create {
            tenant,
            name,
            scopes,
        }) => {
            let state = prepare_state(settings).await?;
            let owner = tenants::tree::tenant_by_slug(&state.db, &tenant)
                .await?
                .context("no tenant with that slug")?;
            let operator = Principal::operator(&platform_of(&state).await?);
            let body = crate::api_keys::dto::CreateApiKey {
                name,
                scopes,
                tenant_id: Some(owner.id),
                expires_at: None,
            };
            let (created, secret) = crate::api_keys::service::create(&state, &operator, body)
                .await
                .map_err(explain)?;
            println!(
                "created API key {} ({}); it is shown only now:\n{secret}",
                created.name, created.id
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let state = prepare_state(settings).await?;
            let kid = state.keys.rotate(&state.db).await?;
            println!("now signing with key {kid}");
            Ok(())
        }
    }
}

async fn platform_of(state: &crate::state::AppState) -> anyhow::Result<entity::tenant::Model> {
    tenants::tree::platform(&state.db)
        .await?
        .context("the database has no platform tenant yet; run `helpdesk serve` once")
}

fn explain(err: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", err.problem().detail)
}

fn explain_tenancy(err: tenants::TenancyError) -> anyhow::Error {
    explain(err.into())
}

fn read_password() -> anyhow::Result<SecretString> {
    if let Ok(password) = std::env::var("HELPDESK_NEW_PASSWORD") {
        return Ok(SecretString::from(password));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(SecretString::from(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let base = settings.base_url();
    // Listening (and answering /health) before the database is known to be there: a node
    // started during a database outage reports not ready and waits for it.
    let starting = Application::start(settings).await?;
    println!("helpdesk listening on {base}; waiting for the database");
    let (app, bootstrap) = starting.ready().await?;
    println!(
        "helpdesk serving on {base}  (API {base}/api/v1, docs {base}/docs/, spec {base}/openapi.json)"
    );
    match &bootstrap {
        Bootstrap::Demo(accounts) => {
            println!("empty database: created a demo tenant tree. Demo accounts (shown only now):");
            for account in accounts {
                println!("{}", account.line());
            }
            println!(
                "try: curl -s {base}/api/v1/auth/login -H 'content-type: application/json' \\\n       -d '{{\"email\":\"admin@platform.demo\",\"password\":\"<from above>\"}}'"
            );
        }
        Bootstrap::Admin { email } => {
            println!("empty database: created the platform tenant and admin {email}")
        }
        Bootstrap::Existing => {}
    }
    app.run_until_stopped().await?;
    Ok(())
}
