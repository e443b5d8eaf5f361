//! Building the state and the server: database, migrations, cache, keys, routes, middleware.
use crate::auth::jwt::KeyRing;
use crate::auth::password::PasswordHasher;
use crate::auth::revocation::Revocations;
use crate::cache::Cache;
use crate::cache::per_tenant::PerTenant;
use crate::config::Settings;
use crate::error::{json_error, path_error, query_error};
use crate::events::limit::StreamSlots;
use crate::http::metrics::HttpMetrics;
use crate::http::request_log::RequestLog;
use crate::http::route_methods::RouteMethods;
use crate::state::AppState;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

/// The route table: every endpoint of the product, also the source of the OpenAPI document.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(crate::auth::routes::configure_well_known);
    cfg.configure(crate::health::routes::configure).service(
        utoipa_actix_web::scope("/api/v1")
            .configure(crate::auth::routes::configure)
            .configure(crate::tenancy::routes::configure)
            .configure(crate::users::routes::configure)
            .configure(crate::groups::routes::configure)
            .configure(crate::channels::routes::configure)
            .configure(crate::inbound::routes::configure)
            .configure(crate::calendars::routes::configure)
            .configure(crate::api_keys::routes::configure)
            .configure(crate::companies::routes::configure)
            .configure(crate::contacts::routes::configure)
            .configure(crate::tickets::routes::configure)
            .configure(crate::escalations::routes::configure)
            .configure(crate::reports::routes::configure)
            .configure(crate::agents::routes::configure)
            .configure(crate::ticket_fields::routes::configure)
            .configure(crate::events::routes::configure)
            .configure(crate::attachments::routes::configure)
            .configure(crate::views::routes::configure)
            .configure(crate::jobs::routes::configure)
            .configure(crate::outbox::routes::configure),
    );
}

/// Opens the database (SQLite in WAL mode with foreign keys, or PostgreSQL).
///
/// # Errors
/// Fails when the database cannot be reached.
pub async fn connect_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(settings.database_url.clone());
    // Short on purpose: with the database down a request answers 503 within this, instead of
    // waiting out a long pool timeout and answering 500.
    let deadline = settings.dependencies.database_acquire_timeout();
    options
        .max_connections(settings.database_max_connections)
        .min_connections(1)
        .connect_timeout(deadline)
        .acquire_timeout(deadline)
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .context("connecting to the database")?;
    if let Some(setup) = crate::backend::for_url(&settings.database_url).connection_setup() {
        db.execute_unprepared(setup)
            .await
            .context("configuring the database connection")?;
    }
    Ok(db)
}

/// Connects everything and applies pending migrations.
///
/// # Errors
/// Fails when the database, migrations, Redis or the key ring fail.
pub async fn prepare_state(settings: Settings) -> anyhow::Result<AppState> {
    let db = connect_database(&settings).await?;
    migration::Migrator::up(&db, None)
        .await
        .context("applying migrations")?;
    let redis_deadline = settings.dependencies.redis_timeout();
    let cache = Cache::connect(
        settings.redis_url.as_deref(),
        &settings.redis_prefix,
        redis_deadline,
    )?;
    let kek = Arc::new(crate::auth::key_encryption::KeyEncryptionKey::resolve(
        &settings,
    )?);
    let clock = crate::clock::Clock::system();
    let keys = Arc::new(
        KeyRing::load(
            &db,
            Duration::from_secs(settings.auth.access_ttl_secs),
            kek.clone(),
            clock.clone(),
        )
        .await?,
    );
    spawn_key_refresh(Arc::downgrade(&keys), db.clone());
    let concurrency = match settings.auth.hash_concurrency {
        0 => std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1).max(1))
            .unwrap_or(1),
        n => n,
    };
    let hasher = PasswordHasher::new(
        settings.auth.argon2_memory_kib,
        settings.auth.argon2_iterations,
        concurrency,
    )?;
    let events = match &settings.redis_url {
        Some(url) => {
            crate::events::bus::EventBus::over_redis(
                url,
                format!("{}events", settings.redis_prefix),
                redis_deadline,
            )
            .await?
        }
        None => crate::events::bus::EventBus::in_process(),
    };
    let revocations = Arc::new(Revocations::new(
        clock.clone(),
        events.clone(),
        Duration::from_secs(settings.auth.access_ttl_secs),
        // Several nodes share the deny-list through the bus and the database; a single node
        // makes every revocation itself.
        settings
            .redis_url
            .as_ref()
            .map(|_| Duration::from_secs(settings.auth.revocation_max_age_secs)),
    ));
    revocations.sync(&db).await?;
    revocations.follow(
        db.clone(),
        Duration::from_secs(settings.auth.revocation_sync_secs.max(1)),
    );
    let storage = Arc::new(crate::attachments::storage::LocalStorage::new(
        settings.attachments.resolved_dir(&settings.database_url),
    ));
    // Fields change only through the API, which announces it; a tenant may also be created by
    // the command-line tool, which cannot, so a partner's reach is re-read every minute.
    let field_definitions = Arc::new(PerTenant::new(Duration::from_secs(600)));
    let support_reach = Arc::new(PerTenant::new(Duration::from_secs(60)));
    crate::cache::per_tenant::follow(&field_definitions, &events);
    crate::cache::per_tenant::follow(&support_reach, &events);
    Ok(AppState {
        clock,
        events,
        field_definitions,
        support_reach,
        ticket_writer: Arc::new(crate::tickets::writer::TicketWriter::start(&settings, 4)?),
        db,
        cache,
        revocations,
        keys,
        secrets_key: kek,
        hasher: Arc::new(hasher),
        settings: Arc::new(settings),
        tenant_facts: Arc::default(),
        storage,
        job_wakeup: Arc::default(),
        word_sample: Arc::default(),
        work: Arc::new(
            crate::work::WorkMetrics::new().map_err(|e| anyhow::anyhow!("worker metrics: {e}"))?,
        ),
    })
}

/// Re-reads the signing keys every 30 s, so a node starts signing with a key another node
/// rotated in; verification does not wait for this (an unknown key id triggers a reload).
fn spawn_key_refresh(keys: std::sync::Weak<KeyRing>, db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(keys) = keys.upgrade() else { break };
            if let Err(err) = keys.reload(&db).await {
                tracing::warn!(error = ?err, "could not refresh signing keys");
            }
        }
    });
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Prepares the state, creates the first tenants when the database is empty, and binds.
    ///
    /// # Errors
    /// Fails when a dependency is unreachable or the address cannot be bound.
    pub async fn build(settings: Settings) -> anyhow::Result<(Self, crate::seed::Bootstrap)> {
        let state = prepare_state(settings).await?;
        let listener = TcpListener::bind(&state.settings.bind)
            .with_context(|| format!("binding {}", state.settings.bind))?;
        Self::on(state, listener).await
    }

    /// Binds and answers at once, whether or not the database is up: until it is, `/health`
    /// answers 200, `/ready` 503 naming the database, and everything else 503
    /// `dependency_unavailable`, while the state is built again with back-off (for at most
    /// `dependencies.database_start_limit_secs` when set). [`Starting::ready`] gives the
    /// application once it serves.
    ///
    /// # Errors
    /// Fails when the address cannot be bound.
    pub async fn start(settings: Settings) -> anyhow::Result<Starting> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let waiting = crate::health::waiting::serve(listener.try_clone()?)?;
        let stop_waiting = waiting.handle();
        tokio::spawn(waiting);
        let ready = tokio::spawn(async move {
            let built = match build_with_retries(settings).await {
                Ok(state) => Self::on(state, listener).await,
                Err(err) => Err(err),
            };
            // The application's server shares the listening socket: connections queue for it
            // once the waiting server stops taking them.
            stop_waiting.stop(true).await;
            built
        });
        Ok(Starting { port, ready })
    }

    /// Creates the first tenants when the database is empty, starts the background workers,
    /// and serves on `listener`.
    async fn on(
        state: AppState,
        listener: TcpListener,
    ) -> anyhow::Result<(Self, crate::seed::Bootstrap)> {
        let bootstrap = crate::seed::bootstrap(&state).await?;
        crate::jobs::runner::spawn(state.clone());
        crate::attachments::sweeper::spawn(state.clone());
        crate::events::relay::spawn(state.clone());
        crate::events::consumer::spawn(&state);
        crate::outbox::worker::spawn(state.clone())?;
        let port = listener.local_addr()?.port();
        let server = serve(state.clone(), listener)?;
        Ok((
            Self {
                port,
                server,
                state,
            },
            bootstrap,
        ))
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (database, cache, settings).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    ///
    /// # Errors
    /// Fails when the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// A node that already answers on its port and becomes an [`Application`] once the database
/// does.
pub struct Starting {
    port: u16,
    ready: tokio::task::JoinHandle<anyhow::Result<(Application, crate::seed::Bootstrap)>>,
}

impl Starting {
    /// The port the node answers on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits until the application serves.
    ///
    /// # Errors
    /// Fails when the state cannot be built (other than the database being unreachable), or
    /// the database stayed unreachable past the configured limit.
    pub async fn ready(self) -> anyhow::Result<(Application, crate::seed::Bootstrap)> {
        self.ready.await?
    }
}

/// First pause between attempts to reach the database at start, doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest pause between attempts to reach the database at start.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Builds the state, trying again with back-off while the database cannot be reached.
async fn build_with_retries(settings: Settings) -> anyhow::Result<AppState> {
    let started = tokio::time::Instant::now();
    let limit = settings
        .dependencies
        .database_start_limit_secs
        .map(Duration::from_secs);
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        match prepare_state(settings.clone()).await {
            Ok(state) => {
                if attempts > 1 {
                    tracing::info!(attempts, "database reached; serving");
                }
                return Ok(state);
            }
            Err(err) if database_unreachable(&err) => {
                if limit.is_some_and(|limit| started.elapsed() + backoff > limit) {
                    return Err(err.context(format!(
                        "the database stayed unreachable for {} s after {attempts} attempts",
                        started.elapsed().as_secs()
                    )));
                }
                tracing::warn!(error = %err, attempts, retry_in_ms = backoff.as_millis(), "database unreachable at start; not ready");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(err) => return Err(err),
        }
    }
}

/// Whether building the state failed because the database could not be reached.
fn database_unreachable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<sea_orm::DbErr>()
            .is_some_and(crate::error::is_connection_failure)
    })
}

/// Routes served outside the OpenAPI document, with their methods, for the 405 table.
const UNDOCUMENTED_ROUTES: [(&str, actix_web::http::Method); 4] = [
    ("/metrics", actix_web::http::Method::GET),
    ("/openapi.json", actix_web::http::Method::GET),
    ("/docs", actix_web::http::Method::GET),
    ("/docs/{_:.*}", actix_web::http::Method::GET),
];

fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<Server> {
    let spec = crate::openapi::spec();
    let route_methods = web::Data::new(RouteMethods::new(&spec, &UNDOCUMENTED_ROUTES));
    let metrics =
        web::Data::new(HttpMetrics::new("helpdesk").map_err(|e| anyhow::anyhow!("metrics: {e}"))?);
    let stream_slots = web::Data::new(StreamSlots::new(
        state.settings.events.max_streams_per_principal,
    ));
    let cors_origins = state.settings.http.cors_allowed_origins.clone();
    crate::http::cors::check_origins(&cors_origins)?;
    let max_body = state.settings.http.max_body_bytes;
    let workers = state.settings.http.workers;
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(data.clone())
            .app_data(metrics.clone())
            .app_data(route_methods.clone())
            .app_data(stream_slots.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(json_error),
            )
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .configure(routes)
            .split_for_parts();
        // Middleware runs outermost last: metrics see every answer, the log span covers the
        // rest, and the security headers reach even the CORS layer's preflight answers.
        app.service(openapi::docs_ui(spec.clone()))
            .route("/metrics", web::get().to(crate::http::metrics::exposition))
            .default_service(web::to(crate::http::route_methods::fallback))
            .wrap(from_fn(crate::http::input::refuse_nul))
            .wrap(from_fn(crate::http::route_methods::head_as_get))
            .wrap(from_fn(crate::http::idempotency::middleware))
            .wrap(from_fn(crate::http::rate_limit::headers))
            .wrap(crate::http::cors::policy(&cors_origins))
            .wrap(from_fn(crate::http::request_id::echo))
            .wrap(from_fn(crate::http::security_headers::add))
            .wrap(TracingLogger::<RequestLog>::new())
            .wrap(from_fn(crate::http::metrics::record))
    })
    // A client closing its connection ends its request at once instead of at the next write:
    // an event stream whose tab was closed gives its slot back within moments, not at the
    // next keep-alive comment.
    .h1_allow_half_closed(false)
    .listen(listener)?
    .shutdown_timeout(30);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}
