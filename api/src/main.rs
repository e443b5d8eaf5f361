//! The `helpdesk` binary.
use api::Settings;
use api::cli::{Cli, run};
use clap::Parser;
use tracing_subscriber::EnvFilter;

// glibc's allocator spent about a tenth of the server's CPU under ticket creation (malloc,
// free and consolidation across the worker threads' arenas); mimalloc keeps per-thread pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    init_tracing(&settings.log_format);
    run(cli, settings).await
}
