//! Settings: built-in defaults, then an optional TOML file, then `HELPDESK_*` environment
//! variables (`DATABASE_URL` and `REDIS_URL` are accepted under their usual names too).
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Everything the service can be told.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: String,
    /// `sqlite://file?mode=rwc` (default) or `postgres://…`.
    pub database_url: String,
    /// Largest database pool.
    pub database_max_connections: u32,
    /// Redis for shared counters, deny-lists and idempotency; in-process when absent.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or tests) can share one Redis.
    pub redis_prefix: String,
    /// Public base URL printed at start-up and used in `Link` headers.
    pub public_url: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// E-mail of the first platform admin of a real deployment (with `admin_password`).
    pub admin_email: Option<String>,
    /// Password of the first platform admin; never printed or logged.
    #[serde(skip_serializing)]
    pub admin_password: Option<SecretString>,
    /// Create the demo tenant tree on an empty database when no admin is configured.
    pub demo: bool,
    /// Token lifetimes and login limits.
    pub auth: AuthSettings,
    /// Request limits for integrators.
    pub rate_limit: RateLimitSettings,
    /// HTTP limits.
    pub http: HttpSettings,
    /// Where attachments are kept and what may be uploaded.
    pub attachments: AttachmentSettings,
    /// Bulk jobs (bulk update and mass reply).
    pub jobs: JobSettings,
    /// Delivery of the outbox (replies to requesters).
    pub delivery: DeliverySettings,
    /// The real-time event stream.
    pub events: EventSettings,
    /// Deadlines for the database and Redis, and how a node waits for them at start.
    pub dependencies: DependencySettings,
}

/// How long a request may wait for the database or Redis, and how a starting node waits for
/// the database. With a dependency down, a request that needs it answers 503
/// `dependency_unavailable` after at most its deadline.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct DependencySettings {
    /// Longest wait for a database connection (from the pool, or a new one) before a request
    /// answers 503; also bounds connecting.
    pub database_acquire_timeout_ms: u64,
    /// Longest one Redis call may take before it counts as failed.
    pub redis_timeout_ms: u64,
    /// A node started while the database is down serves `/health`, reports not ready, and
    /// retries with back-off; after this many seconds without a database it gives up and
    /// exits. Unset (the default): it keeps trying.
    pub database_start_limit_secs: Option<u64>,
}

impl Default for DependencySettings {
    fn default() -> Self {
        Self {
            database_acquire_timeout_ms: 800,
            redis_timeout_ms: 500,
            database_start_limit_secs: None,
        }
    }
}

impl DependencySettings {
    /// The pool's acquire (and connect) timeout.
    pub fn database_acquire_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.database_acquire_timeout_ms.max(1))
    }

    /// The deadline of one Redis call.
    pub fn redis_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.redis_timeout_ms.max(1))
    }
}

/// The real-time event stream (`GET /events`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct EventSettings {
    /// Streams one user or API key may hold open at once on one node (429 above).
    pub max_streams_per_principal: usize,
    /// Whether this node runs the durable readers of the event log (flow-back); one node at a
    /// time holds each of them, so turning it off on a node only takes that node out of the
    /// race.
    pub consumers: bool,
    /// Entries a reader handles in one transaction.
    pub consumer_batch: u64,
    /// How often an idle reader looks for new entries.
    pub consumer_poll_millis: u64,
    /// How long a node holds a reader before another may take it over.
    pub consumer_lease_secs: u64,
    /// Failed attempts at one batch before its entries are tried one by one and the one that
    /// still fails is skipped (its error kept on the reader's row).
    pub consumer_max_attempts: u32,
    /// Fault injection for tests: after this many committed batches a reader handles the next
    /// one, does not commit it and stops, holding its lease, as if the node had died.
    pub consumer_halt_after_batches: Option<u32>,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            max_streams_per_principal: 5,
            consumers: true,
            consumer_batch: 200,
            consumer_poll_millis: 100,
            consumer_lease_secs: 30,
            consumer_max_attempts: 10,
            consumer_halt_after_batches: None,
        }
    }
}

/// How the outbox's worker delivers messages.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct DeliverySettings {
    /// The SMTP relay e-mail leaves through, as `host:port` (plain SMTP, for a relay on the
    /// local network such as Postfix or a provider's agent). Unset: e-mail is written as
    /// `.eml` files into `mail_dir`.
    pub smtp_relay: Option<String>,
    /// Where e-mail is written as `.eml` files (one per message) when no `smtp_relay` is set,
    /// so a deployment without a relay shows what would have left; default `outgoing-mail/`
    /// beside a SQLite database file, else `./data/outgoing-mail`.
    pub mail_dir: Option<String>,
    /// The sender address of e-mail.
    pub from_address: String,
    /// Attempts before a row is dead-lettered (kept with its last error for an admin to retry).
    pub max_attempts: i32,
    /// The first retry waits this long; each next one twice as long (with jitter), up to
    /// `max_backoff_secs`.
    pub base_backoff_secs: u64,
    /// The longest wait between attempts.
    pub max_backoff_secs: u64,
    /// How long a worker holds the rows it took; another node may take them once it runs out.
    pub lease_secs: u64,
    /// How often an idle worker looks for due rows.
    pub poll_millis: u64,
    /// Rows taken at once.
    pub batch: u64,
    /// How long one delivery may take before it counts as failed.
    pub timeout_secs: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            smtp_relay: None,
            mail_dir: None,
            from_address: "support@localhost".to_owned(),
            max_attempts: 8,
            base_backoff_secs: 10,
            max_backoff_secs: 3600,
            lease_secs: 60,
            poll_millis: 500,
            batch: 50,
            timeout_secs: 20,
        }
    }
}

/// Bulk jobs: how big they may be and how the background runner works them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct JobSettings {
    /// Most tickets one bulk request may touch.
    pub max_tickets: usize,
    /// Items worked (and committed) together.
    pub chunk_size: u64,
    /// How long a node holds a job it works; renewed every chunk. A job whose node died is
    /// picked up by any node once this runs out.
    pub lease_secs: u64,
    /// How often the runner looks for jobs besides being woken by a new one on this node.
    pub poll_secs: u64,
    /// Attempts that may fail in a row (a chunk's database error, say) before a job is
    /// dead-lettered: `dead` with its remaining items pending and the last error kept, for an
    /// admin to retry. A committed chunk starts the count again.
    pub max_attempts: i32,
    /// The first retry of a failed attempt waits this long; each next one twice as long (with
    /// jitter), up to `max_backoff_secs`.
    pub base_backoff_secs: u64,
    /// The longest wait between attempts.
    pub max_backoff_secs: u64,
    /// For tests: the runner stops after this many chunks as if the process died, leaving its
    /// lease in place.
    pub halt_after_chunks: Option<u32>,
    /// For tests: the first this many chunk attempts of the node's runner fail with an internal
    /// error just before they would commit (their writes are rolled back).
    pub fail_chunks: Option<u32>,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            max_tickets: 10_000,
            chunk_size: 500,
            lease_secs: 30,
            poll_secs: 3,
            max_attempts: 5,
            base_backoff_secs: 10,
            max_backoff_secs: 600,
            halt_after_chunks: None,
            fail_chunks: None,
        }
    }
}

/// Token lifetimes and login limits.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct AuthSettings {
    /// Lifetime of an access token.
    pub access_ttl_secs: u64,
    /// Lifetime of a refresh token.
    pub refresh_ttl_secs: u64,
    /// Lifetime of a password-reset token.
    pub reset_ttl_secs: u64,
    /// Login, refresh and reset attempts allowed per client IP per minute.
    pub login_per_minute: u64,
    /// Password hashes computed at once; `0` means one less than the number of cores.
    pub hash_concurrency: usize,
    /// Argon2 memory cost in KiB (OWASP: 19456).
    pub argon2_memory_kib: u32,
    /// Argon2 iterations (OWASP: 2).
    pub argon2_iterations: u32,
    /// Key that seals the private JWT signing keys in the database: base64 of 32 bytes. When
    /// absent, one is generated on first start and kept in `key_file`. Never printed or logged.
    #[serde(skip_serializing)]
    pub key_encryption_key: Option<SecretString>,
    /// Where the generated key-encryption key is kept when none is configured; by default
    /// beside the SQLite file (`<file>.key`), or `./data/helpdesk.key` with PostgreSQL.
    pub key_file: Option<String>,
    /// Seconds between re-reads of the revocations of the last token lifetime from the
    /// database into this node's deny-list (revocations made on other nodes also arrive at
    /// once over the bus; this catches the ones the bus missed).
    pub revocation_sync_secs: u64,
    /// With Redis (several nodes): how old this node's deny-list may get (since its last
    /// complete read from the database) before authenticated requests fail closed with 503.
    pub revocation_max_age_secs: u64,
}

impl AuthSettings {
    /// The file holding the generated key-encryption key.
    pub fn resolved_key_file(&self, database_url: &str) -> std::path::PathBuf {
        match &self.key_file {
            Some(file) => file.into(),
            None => crate::auth::key_encryption::default_key_file(database_url),
        }
    }
}

/// Request limits for integrators.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Requests allowed per API key per minute.
    pub api_key_per_minute: u64,
}

/// HTTP limits.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// Worker threads; `0` means one per core.
    pub workers: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Browser origins (`https://portal.example.org`) allowed to call the API cross-origin;
    /// none by default.
    pub cors_allowed_origins: Vec<String>,
}

/// Where attachments are kept and what may be uploaded.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct AttachmentSettings {
    /// Directory of the local storage; by default `attachments/` beside the SQLite file, or
    /// `./data/attachments` with PostgreSQL.
    pub dir: Option<String>,
    /// Largest file accepted, in bytes.
    pub max_file_bytes: usize,
    /// Most files in one upload.
    pub max_files: usize,
    /// Largest total of the files in one upload, in bytes: an upload is held in memory until
    /// every file has been checked, so this bounds what one request may hold.
    pub max_upload_bytes: usize,
    /// Seconds an upload may wait for a reply or note to take it before it is removed.
    pub unsent_ttl_secs: u64,
    /// Media types accepted; each file's declared type must be listed and its first bytes must
    /// agree with it.
    pub allowed_types: Vec<String>,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        Self {
            dir: None,
            max_file_bytes: 20 * 1024 * 1024,
            max_files: 10,
            max_upload_bytes: 25 * 1024 * 1024,
            unsent_ttl_secs: 24 * 3600,
            allowed_types: [
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "image/bmp",
                "application/pdf",
                "text/plain",
                "text/csv",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/vnd.oasis.opendocument.text",
                "application/vnd.oasis.opendocument.spreadsheet",
                "application/vnd.oasis.opendocument.presentation",
                "application/zip",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// A directory called `name` beside a SQLite database file, else `./data/<name>` (PostgreSQL,
/// or SQLite in memory).
fn beside_database(database_url: &str, name: &str) -> std::path::PathBuf {
    let sqlite_file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match sqlite_file {
        Some(file) => std::path::Path::new(file)
            .parent()
            .map(|parent| parent.join(name))
            .unwrap_or_else(|| name.into()),
        None => std::path::Path::new("data").join(name),
    }
}

impl DeliverySettings {
    /// The directory `.eml` files are written to when no relay is set (see `mail_dir`).
    pub fn resolved_mail_dir(&self, database_url: &str) -> std::path::PathBuf {
        match &self.mail_dir {
            Some(dir) => dir.into(),
            None => beside_database(database_url, "outgoing-mail"),
        }
    }
}

impl AttachmentSettings {
    /// The storage directory: the configured one, else `attachments/` beside a SQLite database
    /// file, else `./data/attachments`.
    pub fn resolved_dir(&self, database_url: &str) -> std::path::PathBuf {
        if let Some(dir) = &self.dir {
            return dir.into();
        }
        beside_database(database_url, "attachments")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://helpdesk.db?mode=rwc".into(),
            database_max_connections: 16,
            redis_url: None,
            redis_prefix: "helpdesk:".into(),
            public_url: None,
            log_format: "text".into(),
            admin_email: None,
            admin_password: None,
            demo: true,
            auth: AuthSettings::default(),
            rate_limit: RateLimitSettings::default(),
            http: HttpSettings::default(),
            attachments: AttachmentSettings::default(),
            jobs: JobSettings::default(),
            delivery: DeliverySettings::default(),
            events: EventSettings::default(),
            dependencies: DependencySettings::default(),
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 900,
            refresh_ttl_secs: 30 * 24 * 3600,
            reset_ttl_secs: 24 * 3600,
            login_per_minute: 20,
            hash_concurrency: 0,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            key_encryption_key: None,
            key_file: None,
            revocation_sync_secs: 5,
            revocation_max_age_secs: 30,
        }
    }
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            api_key_per_minute: 600,
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            workers: 0,
            trust_forwarded_for: false,
            cors_allowed_origins: Vec::new(),
        }
    }
}

impl Settings {
    /// Loads settings from defaults, `HELPDESK_CONFIG` (or `./helpdesk.toml` when present) and
    /// the environment.
    ///
    /// # Errors
    /// Fails when the file or a variable cannot be parsed into the settings.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var("HELPDESK_CONFIG").unwrap_or_else(|_| "helpdesk.toml".into());
        let mut figment =
            Figment::from(Serialized::defaults(Settings::default())).merge(Toml::file(file));
        if let Ok(url) = std::env::var("DATABASE_URL") {
            figment = figment.merge(Serialized::default("database_url", url));
        }
        if let Ok(url) = std::env::var("REDIS_URL") {
            figment = figment.merge(Serialized::default("redis_url", url));
        }
        figment
            .merge(Env::prefixed("HELPDESK_").split("__"))
            .extract()
            .map_err(Box::new)
    }

    /// The base URL clients reach the service at.
    pub fn base_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// Whether the database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}
