//! A small Lambda-compatible engine. Unmodified clients (the AWS CLI, boto3, the AWS SDKs) create
//! and invoke functions through Lambda's REST API; functions run as child processes speaking the
//! real Runtime API. It knows nothing of the console: the console reaches it only as an endpoint.
//!
//! Built so far: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
//! DeleteFunction, GetAccountSettings, Invoke (RequestResponse, DryRun, and Event: queued
//! durably, retried), code storage with zip checks, warm environments with deadlines, log lines and the
//! CloudWatch Logs API over them (in memory), and STS GetCallerIdentity.

pub mod api;
pub mod code;
pub mod egress;
pub mod error;
pub mod event_stream;
pub mod events;
pub mod filter_pattern;
pub mod function_url;
pub mod guard;
pub mod http;
pub mod iam;
pub mod invoke;
pub mod jail;
pub mod live_tail;
pub mod logs;
pub mod logs_api;
pub mod metrics;
pub mod model;
pub mod output;
pub mod policy;
pub mod role_policy;
pub mod runtime_api;
pub mod sandbox;
pub mod sigv4;
pub mod store;
pub mod testing;
pub mod urls;
pub mod versions;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::code::CodeStore;
use crate::logs::LogStore;
use crate::model::FunctionName;
use crate::store::Store;

/// The engine's settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The address clients use (for the code download URL).
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub region: String,
    pub account_id: String,
    /// How long an idle environment is kept warm.
    pub idle_timeout: Duration,
    /// The most environments alive at once (the account's concurrency); beyond it the one idle
    /// longest is stopped to make room. By default one per 64 MiB of the machine's memory.
    pub max_environments: usize,
    /// The most cold starts in their init at once; more wait their turn (see [`invoke::Pools`]).
    pub max_concurrent_inits: usize,
    /// Waits before the retries of a failed asynchronous invocation (Lambda: 1 and 2 minutes).
    pub event_retry_delays: Vec<Duration>,
    /// Asynchronous invocations older than this are dropped (Lambda's default: 6 hours).
    pub max_event_age: Duration,
    /// Run Python functions with AWS's `awslambdaric` from this directory (made with
    /// `pip install --target DIR awslambdaric`) instead of the bundled runtime client.
    pub awslambdaric: Option<PathBuf>,
    /// Run Node.js functions with AWS's `aws-lambda-ric` from this package directory (after
    /// `npm install aws-lambda-ric`, `node_modules/aws-lambda-ric`) instead of the bundled client.
    pub aws_lambda_ric: Option<PathBuf>,
    /// Access keys and their secrets, for SigV4 checks (`AWS_IAM` URLs, `require_signature`).
    pub credentials: Vec<(String, String)>,
    /// Refuse unsigned or wrongly signed API calls (Function URLs follow their auth type).
    pub require_signature: bool,
    /// Host names the engine also answers to (behind a proxy, in a container network), besides
    /// its loopback names and `*.lambda-url.<region>.localhost`.
    pub allowed_hosts: Vec<String>,
    /// Web origins whose pages may call the engine's API (none by default).
    pub allowed_origins: Vec<String>,
    /// Whether contained functions reach the internet (through the engine's proxy).
    pub function_network: egress::FunctionNetwork,
    /// `host:port` contained functions may connect to although it is local or private (a mock
    /// service on this machine, a database on the LAN).
    pub function_allow_connect: Vec<String>,
    /// Run functions uncontained, as the engine's user, where they cannot be contained (the
    /// operator's explicit choice; see `SECURITY.md`).
    pub insecure_no_sandbox: bool,
    /// Also serve Function URLs at `/lambda-url/<url-id>/` on the engine's own address. Off
    /// beside the console (`lambdaport serve`): that address shares the console's host, so the
    /// browser would send the console's cookies to a function's URL.
    pub path_urls: bool,
}

/// One environment alive per 64 MiB of the machine's memory, from 16 to Lambda's default account
/// concurrency (1,000). An idle environment of the lab's Python function holds about 10 MiB; a
/// class of a hundred keeps every learner's function warm on an 8 GiB machine, where a fixed 64
/// stopped and cold-started a third of them again between two calls.
pub fn default_max_environments() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| sandbox::kb_field(&meminfo, "MemTotal:"));
    total_kib.map_or(64, |kib| (kib / (64 * 1024)).clamp(16, 1000) as usize)
}

impl EngineConfig {
    /// The empty directory every environment builds its root on, in its own mount namespace.
    pub fn mount_point(&self) -> PathBuf {
        self.data_dir.join("sandbox")
    }

    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            data_dir,
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            idle_timeout: Duration::from_secs(600),
            max_environments: default_max_environments(),
            max_concurrent_inits: std::thread::available_parallelism()
                .map_or(2, |cores| 2 * cores.get())
                .max(2),
            event_retry_delays: vec![Duration::from_secs(60), Duration::from_secs(120)],
            max_event_age: Duration::from_secs(6 * 60 * 60),
            awslambdaric: None,
            aws_lambda_ric: None,
            credentials: vec![("test".to_owned(), "test".to_owned())],
            require_signature: false,
            insecure_no_sandbox: false,
            function_network: egress::FunctionNetwork::Internet,
            function_allow_connect: Vec::new(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            path_urls: true,
        }
    }
}

/// Shared by every handler.
#[derive(Debug)]
pub struct EngineState {
    pub config: EngineConfig,
    pub store: Store,
    pub code: CodeStore,
    pub logs: Arc<LogStore>,
    pub pools: invoke::Pools,
    pub events: events::EventQueue,
    /// What `AWS/Lambda` metrics CloudWatch would hold, recorded as things happen.
    pub metrics: metrics::Metrics,
    pub iam: iam::Iam,
    /// How execution environments are contained, as found at start.
    pub containment: jail::Containment,
    /// Where contained functions may connect, unless their network is `none`.
    pub egress: Option<Arc<egress::Policy>>,
}

impl EngineState {
    pub fn function_arn(&self, name: &FunctionName) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.config.region,
            self.config.account_id,
            name.as_str()
        )
    }

    pub fn code_root(&self) -> PathBuf {
        self.config.data_dir.join("code")
    }

    /// Where the bundled runtime clients are written.
    pub fn runtime_dir(&self) -> PathBuf {
        self.config.data_dir.join("runtime")
    }
}

/// The runtime clients, written to `<data dir>/runtime` at start.
const PYTHON_BOOTSTRAP: &str = include_str!("runtimes/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("runtimes/bootstrap.mjs");

/// How functions will be contained: checked once by starting a contained `true`. Says so loudly
/// when they cannot be, or when the operator chose to run them uncontained.
fn contain_functions(
    config: &EngineConfig,
    runtime_dir: &std::path::Path,
) -> anyhow::Result<jail::Containment> {
    use jail::Containment;
    if config.insecure_no_sandbox {
        tracing::warn!(
            "--insecure-no-sandbox: functions run uncontained, as this engine's user, with its files and network"
        );
        return Ok(Containment::Insecure);
    }
    let mount_point = config.mount_point();
    std::fs::create_dir_all(&mount_point)?;
    let identity = jail::Identity::current();
    Ok(match jail::probe(identity, &mount_point, runtime_dir) {
        Ok(()) => {
            tracing::info!(containment = %Containment::Contained(identity).describe(), "functions are contained");
            Containment::Contained(identity)
        }
        Err(reason) => {
            tracing::error!(
                %reason,
                "functions cannot be contained on this machine: the engine will run none (start it with --insecure-no-sandbox to run them uncontained)"
            );
            Containment::Unavailable(reason)
        }
    })
}

/// An engine ready to serve.
#[derive(Debug, Clone)]
pub struct Engine {
    state: Arc<EngineState>,
}

impl Engine {
    /// Opens (or creates) the engine's data dir and loads its functions.
    pub fn open(mut config: EngineConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the engine data dir {}", config.data_dir.display())
        })?;
        // Only the engine's user reads its functions, code, logs and state: functions see only
        // what their environment mounts for them.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", config.data_dir.display()))?;
        config.data_dir = std::fs::canonicalize(&config.data_dir)?;
        let data_dir = config.data_dir.clone();
        let runtime_dir = data_dir.join("runtime");
        std::fs::create_dir_all(&runtime_dir)?;
        std::fs::write(runtime_dir.join("bootstrap.py"), PYTHON_BOOTSTRAP)
            .context("writing the Python runtime client")?;
        std::fs::write(runtime_dir.join("bootstrap.mjs"), NODE_BOOTSTRAP)
            .context("writing the Node.js runtime client")?;
        // Mount points for AWS's runtime clients inside environments.
        for client in [sandbox::OFFICIAL_PYTHON_CLIENT, sandbox::OFFICIAL_NODE_CLIENT] {
            std::fs::create_dir_all(runtime_dir.join(client))?;
        }
        let containment = contain_functions(&config, &runtime_dir)?;
        let egress = (config.function_network == egress::FunctionNetwork::Internet)
            .then(|| Arc::new(egress::Policy::new(config.function_allow_connect.clone())));
        let store = Store::open(data_dir.join("functions"))?;
        let code = CodeStore::new(data_dir.join("code"));
        let events = events::EventQueue::open(data_dir.join("events"))?;
        let logs = Arc::new(LogStore::open(data_dir.join("logs"))?);
        let iam = iam::Iam::open(data_dir.join("iam/roles"), &config.account_id)?;
        let pools = invoke::Pools::new(config.max_concurrent_inits);
        let state = Arc::new(EngineState {
            config,
            store,
            code,
            logs,
            pools,
            events,
            metrics: metrics::Metrics::default(),
            iam,
            containment,
            egress,
        });
        Ok(Self { state })
    }

    pub fn state(&self) -> &Arc<EngineState> {
        &self.state
    }

    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// [`Engine::serve`] on a thread of its own, with a single-threaded runtime. An invoke hops
    /// from the caller's connection to the environment's Runtime API connection and back; on one
    /// thread those hops are task switches, where a multi-threaded runtime wakes another worker
    /// thread for each (measured on 2 cores: warm invoke p50 0.42 → 0.36 ms, REPORT Duration
    /// 0.19 → 0.15 ms). Blocking work (storing code, writing logs) still goes to the blocking pool.
    pub fn serve_on_own_thread(
        self,
        listener: std::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<std::thread::JoinHandle<anyhow::Result<()>>> {
        std::thread::Builder::new().name("lambdaport-engine".to_owned()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                listener.set_nonblocking(true)?;
                self.serve(TcpListener::from_std(listener)?, shutdown).await
            })
        })
    }

    /// Serves until `shutdown` resolves; expires idle environments meanwhile.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let reaper = tokio::spawn(async move {
            let period = (state.config.idle_timeout / 2)
                .clamp(Duration::from_millis(10), Duration::from_secs(5));
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                state.pools.expire(state.config.idle_timeout).await;
                state.logs.enforce_retention();
            }
        });
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let worker = tokio::spawn(events::run_worker(self.state.clone()));
        let logs = self.state.logs.clone();
        let flusher = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let logs = logs.clone();
                match tokio::task::spawn_blocking(move || logs.flush()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::error!(%error, "writing logs"),
                    Err(error) => tracing::error!(%error, "the log flush task failed"),
                }
            }
        });
        let service = self.router().into_make_service_with_connect_info::<std::net::SocketAddr>();
        let result = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
        reaper.abort();
        worker.abort();
        flusher.abort();
        let logs = self.state.logs.clone();
        let _ = tokio::task::spawn_blocking(move || logs.flush()).await;
        result.context("serving the engine")
    }
}
