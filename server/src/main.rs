//! `lambdaport`: the console (`serve`) and its command-line tools (`admin`).

use clap::Parser as _;

/// Rendering a page allocates a great deal (strings, views, JSON); under load glibc's allocator
/// took a quarter of the server's CPU (perf, the catalog page at 150 req/s). mimalloc does the
/// same work for less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A local `.env` is for development; a missing one is the normal case.
    let _ = dotenvy::dotenv();
    let cli = server::config::Cli::parse();
    server::telemetry::init();
    match server::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lambdaport: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
