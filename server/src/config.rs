//! Typed configuration: flags, each mirrored by a `LAMBDAPORT_*` environment variable (and
//! `DATABASE_URL`). Documented for people in `.env.sample`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Lambdaport: a console for serverless functions.
#[derive(Debug, Parser)]
#[command(name = "lambdaport", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web console.
    Serve(ServeArgs),
    /// Manage accounts from the shell.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Run the Lambda-compatible engine alone: a local Lambda endpoint for any client.
    Engine(EngineArgs),
    /// Development helpers.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Fill the catalog with realistic sample functions (under a connection named "Sample data").
    Seed {
        /// How many functions to add.
        #[arg(long, default_value_t = 1000)]
        functions: i64,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Evaluate every catalogued function against the governance rules now (the sync and every
    /// change do it on their own), printing how long it took.
    EvaluateRules {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Clone, Debug, Args)]
pub struct EngineArgs {
    /// Address the engine listens on.
    #[arg(long, env = "LAMBDAPORT_ENGINE_LISTEN", default_value = "127.0.0.1:4010")]
    pub listen: SocketAddr,
    /// Directory for the engine's functions, code and state.
    #[arg(long, env = "LAMBDAPORT_DATA_DIR", default_value = ".lambdaport")]
    pub data_dir: PathBuf,
    /// Run Python functions with AWS's awslambdaric from this directory
    /// (`pip install --target DIR awslambdaric`) instead of the bundled runtime client.
    #[arg(long, env = "LAMBDAPORT_AWSLAMBDARIC")]
    pub awslambdaric: Option<PathBuf>,
    /// Run Node.js functions with AWS's aws-lambda-ric from this package directory
    /// (`npm install aws-lambda-ric`, then `node_modules/aws-lambda-ric`).
    #[arg(long, env = "LAMBDAPORT_AWS_LAMBDA_RIC")]
    pub aws_lambda_ric: Option<PathBuf>,
    #[command(flatten)]
    pub security: EngineSecurityArgs,
}

/// Who may drive the engine and how functions run: the same flags for `engine` and `serve`.
#[derive(Clone, Debug, Args)]
pub struct EngineSecurityArgs {
    /// Access keys the engine accepts SigV4 signatures from (`AWS_IAM` Function URLs and, with
    /// --require-signature, every API call), as `KEY:SECRET`, comma-separated. The console's
    /// Local connection signs with the first.
    #[arg(long, env = "LAMBDAPORT_ACCESS_KEYS", default_value = "test:test", value_delimiter = ',', value_parser = parse_access_key)]
    pub access_keys: Vec<(String, String)>,
    /// Refuse unsigned or wrongly signed API calls, as AWS does.
    #[arg(long, env = "LAMBDAPORT_REQUIRE_SIGNATURE")]
    pub require_signature: bool,
    /// Also answer requests for this host name (behind a proxy or in a container network);
    /// loopback names and `*.lambda-url.<region>.localhost` are always served. Repeatable.
    #[arg(long = "allow-host", env = "LAMBDAPORT_ALLOW_HOSTS", value_delimiter = ',')]
    pub allow_hosts: Vec<String>,
    /// Let web pages from this origin (`http://localhost:5173`) call the engine's API; any other
    /// page is refused. Repeatable.
    #[arg(long = "allow-origin", env = "LAMBDAPORT_ALLOW_ORIGINS", value_delimiter = ',')]
    pub allow_origins: Vec<String>,
    /// Whether functions reach the internet: `internet` (public addresses, through the engine's
    /// proxy; never this host or a private network) or `none`.
    #[arg(long, env = "LAMBDAPORT_FUNCTION_NETWORK", default_value = "internet")]
    pub function_network: engine::egress::FunctionNetwork,
    /// Let functions connect to this `host:port` although it is on this machine or a private
    /// network (a local mock service, a LAN database). Repeatable.
    #[arg(
        long = "function-allow-connect",
        env = "LAMBDAPORT_FUNCTION_ALLOW_CONNECT",
        value_delimiter = ','
    )]
    pub function_allow_connect: Vec<String>,
    /// Run functions uncontained, as this process's user with its files and network, where this
    /// machine cannot contain them (see SECURITY.md). Without it such an engine runs no code.
    #[arg(long, env = "LAMBDAPORT_INSECURE_NO_SANDBOX")]
    pub insecure_no_sandbox: bool,
    /// Execution environments alive at once (the account's concurrency); beyond it the one idle
    /// longest is stopped. Default: one per 64 MiB of memory, 16 to 1,000.
    #[arg(long, env = "LAMBDAPORT_MAX_ENVIRONMENTS", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_environments: Option<u32>,
}

impl EngineSecurityArgs {
    /// Applies these settings to an engine's configuration.
    pub fn apply(self, config: &mut engine::EngineConfig) {
        config.credentials = self.access_keys;
        config.require_signature = self.require_signature;
        config.allowed_hosts = self.allow_hosts;
        config.allowed_origins = self.allow_origins;
        config.insecure_no_sandbox = self.insecure_no_sandbox;
        config.function_network = self.function_network;
        config.function_allow_connect = self.function_allow_connect;
        if let Some(max) = self.max_environments {
            config.max_environments = max as usize;
        }
    }
}

fn parse_access_key(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((key, secret)) if !key.is_empty() && !secret.is_empty() => {
            Ok((key.to_owned(), secret.to_owned()))
        }
        _ => Err(format!("expected KEY:SECRET, got {text:?}")),
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account and print its generated password.
    Create {
        /// The new account's email address.
        #[arg(long)]
        email: String,
        /// admin, developer or learner.
        #[arg(long, default_value = "developer")]
        role: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Where the console's data lives.
#[derive(Clone, Debug, Args)]
pub struct DatabaseArgs {
    /// Postgres to use. When unset, a private cluster is started in the data dir from the
    /// machine's PostgreSQL binaries (initdb/pg_ctl on PATH or under /usr/lib/postgresql).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the console's own files (the private database cluster among them).
    #[arg(long, env = "LAMBDAPORT_DATA_DIR", default_value = ".lambdaport")]
    pub data_dir: PathBuf,
    /// Connections to Postgres at most. Requests beyond them wait their turn (up to 20 s, then
    /// the console answers 503 with Retry-After).
    #[arg(long, env = "LAMBDAPORT_DATABASE_POOL", default_value_t = backend::db::DEFAULT_POOL)]
    pub database_pool: u32,
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address the console listens on.
    #[arg(long, env = "LAMBDAPORT_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The console's address as browsers see it, when it differs from the listen address (behind
    /// a proxy). An https URL marks the session cookie Secure; its origin is the only one allowed
    /// to send unsafe requests.
    #[arg(long, env = "LAMBDAPORT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Let anyone create a learner account from the sign-in page (for teaching labs).
    #[arg(long, env = "LAMBDAPORT_ALLOW_SIGNUP")]
    pub allow_signup: bool,
    /// Sign-ups allowed from one address an hour (a class behind one NAT needs its size).
    #[arg(long, env = "LAMBDAPORT_SIGNUPS_PER_ADDRESS", default_value_t = 20)]
    pub signups_per_address: u32,
    /// Distinct accounts that may fail to sign in from one address in 15 minutes (each account
    /// keeps its own limit of 6 failures): a class behind one NAT needs its size.
    #[arg(long, env = "LAMBDAPORT_SIGN_IN_ACCOUNTS_PER_ADDRESS", default_value_t = 50)]
    pub sign_in_accounts_per_address: u32,
    /// Proxies (addresses or CIDR networks, comma-separated) whose `X-Forwarded-For` or
    /// `Forwarded` header names the client; from anyone else those headers are ignored.
    #[arg(long, env = "LAMBDAPORT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::client_addr::ProxyNet>,
    /// Seconds of inactivity after which a session ends.
    #[arg(long, env = "LAMBDAPORT_SESSION_IDLE_SECS", default_value_t = 8 * 60 * 60)]
    pub session_idle_secs: u64,
    /// Actions posted by the pages (sign-ups, lab steps, creates…) that run at once; the rest wait
    /// their turn in arrival order, up to 20 s (then 503 with Retry-After). 0 = no limit. Default:
    /// 8 per core, for the embedded engine, whose work is this machine's CPU; raise it when the
    /// console's functions are on AWS, where an action mostly waits on the network.
    #[arg(long, env = "LAMBDAPORT_MAX_CONCURRENT_ACTIONS", default_value_t = crate::admission::default_limit())]
    pub max_concurrent_actions: usize,
    /// Address of the embedded Lambda engine, the console's default cloud.
    #[arg(long, env = "LAMBDAPORT_ENGINE_LISTEN", default_value = "127.0.0.1:4010")]
    pub engine_listen: SocketAddr,
    /// Do not start the embedded engine.
    #[arg(long, env = "LAMBDAPORT_NO_ENGINE")]
    pub no_engine: bool,
    #[command(flatten)]
    pub engine: EngineSecurityArgs,
    /// How often every connection is reconciled with its cloud, in seconds (0 = only on demand).
    #[arg(long, env = "LAMBDAPORT_SYNC_INTERVAL_SECS", default_value_t = 300)]
    pub sync_interval_secs: u64,
    /// How often the sweeper runs, in seconds: it cleans up expired lab runs, switches off
    /// public URLs past their expiry, expires governance exceptions and rolls back interrupted
    /// lab steps.
    #[arg(long, env = "LAMBDAPORT_SWEEP_INTERVAL_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub sweep_interval_secs: u64,
    /// Directory holding the built site (`pkg/` with the wasm, JS and CSS).
    #[arg(long, env = "LAMBDAPORT_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

impl ServeArgs {
    /// The origin browsers use for the console, if configured (scheme://host[:port], no path).
    pub fn public_origin(&self) -> Option<String> {
        self.public_url.as_deref().map(|url| {
            let url = url.trim_end_matches('/');
            match url.find("://").map(|i| i + 3) {
                Some(start) => match url[start..].find('/') {
                    Some(path) => url[..start + path].to_owned(),
                    None => url.to_owned(),
                },
                None => url.to_owned(),
            }
        })
    }

    /// Whether the session cookie must be Secure.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let cli =
            Cli::try_parse_from(["lambdaport", "serve"].iter().chain(args)).expect("valid args");
        match cli.command {
            Command::Serve(args) => args,
            _ => unreachable!("parsed serve"),
        }
    }

    #[test]
    fn defaults_match_the_readme() {
        let args = serve(&[]);
        assert_eq!(args.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(args.database.data_dir, PathBuf::from(".lambdaport"));
        assert!(!args.allow_signup);
        assert_eq!(args.engine_listen.to_string(), "127.0.0.1:4010");
        assert!(!args.no_engine);
        assert!(!args.secure_cookies());
    }

    #[test]
    fn public_url_gives_origin_and_secure_cookies() {
        let args = serve(&["--public-url", "https://console.example.com/base/"]);
        assert_eq!(args.public_origin().as_deref(), Some("https://console.example.com"));
        assert!(args.secure_cookies());
    }
}
