//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default: [`DEFAULT_FILTER`]).

use tracing_subscriber::EnvFilter;

/// Info and above from every crate of ours — the engine included, so its warnings (a record set
/// aside, a function that cannot be contained) reach the operator — and only warnings from the
/// libraries.
pub const DEFAULT_FILTER: &str =
    "server=info,backend=info,app=info,engine=info,tower_http=warn,sqlx=warn";

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
