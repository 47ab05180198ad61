//! The `lambdaport` binary as a library: `main.rs` parses the command line and calls [`run`];
//! tests call [`Console::build`] and [`Console::serve`] with a listener on port 0.

pub mod admission;
pub mod api_v1;
mod audit_export;
mod board_export;
pub mod client_addr;
pub mod config;
mod cost_export;
mod logs;
pub mod postgres;
pub mod state;
pub mod telemetry;
mod url_watch;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use app::ConsoleContext;
use backend::accounts::{EmailAddress, NewPassword, Role};
use backend::audit::Actor;
use backend::throttle::SignInThrottle;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion as _;
use tower_sessions_sqlx_store::PostgresStore;

use crate::config::{AdminCommand, Cli, Command, DatabaseArgs, DevCommand, EngineArgs, ServeArgs};
use crate::postgres::PrivateCluster;
use crate::state::{AppState, SessionSettings};

/// The email of the admin created on first start.
pub const FIRST_ADMIN_EMAIL: &str = "admin@lambdaport.local";

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Engine(args) => run_engine(args).await,
        Command::Admin(AdminCommand::Create { email, role, database }) => {
            with_database(&database, |pool| async move {
                create_account_from_shell(&pool, &email, &role).await
            })
            .await
        }
        Command::Dev(DevCommand::EvaluateRules { database }) => {
            with_database(&database, |pool| async move {
                use backend::governance::violations;
                let started = std::time::Instant::now();
                let evaluated = violations::evaluate_catalog(&pool, violations::Scope::All).await?;
                let elapsed = started.elapsed().as_secs_f64();
                let summary = violations::summary(&pool).await?;
                println!(
                    "Evaluated {evaluated} functions in {elapsed:.2} s; {} break at least one rule.",
                    summary.functions
                );
                Ok(())
            })
            .await
        }
        Command::Dev(DevCommand::Seed { functions, database }) => {
            with_database(&database, |pool| async move {
                let started = std::time::Instant::now();
                let total = backend::seed::seed(&pool, functions).await?;
                println!(
                    "Added {functions} sample functions in {:.1} s; the catalog now holds {total}.",
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            })
            .await
        }
    }
}

/// Opens the configured database, or starts the private cluster, runs `work`, and stops the
/// cluster again if this process started it.
async fn with_database<F, Fut>(args: &DatabaseArgs, work: F) -> anyhow::Result<()>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let (options, cluster) = match &args.database_url {
        Some(url) => (url.parse().context("DATABASE_URL is not a valid Postgres URL")?, None),
        None => {
            let cluster = PrivateCluster::start(&args.data_dir).await?;
            (cluster.connect_options(), Some(cluster))
        }
    };
    let result = async {
        let pool = backend::db::connect_and_migrate(options, args.database_pool).await?;
        work(pool).await
    }
    .await;
    if let Some(cluster) = cluster {
        cluster.stop().await.context("stopping the private PostgreSQL cluster")?;
    }
    result
}

async fn create_account_from_shell(pool: &PgPool, email: &str, role: &str) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email)?;
    let role: Role = role.parse()?;
    let password = NewPassword::generate();
    backend::accounts::create_account(pool, &Actor::system(), &email, &password, role).await?;
    println!("Created {email} ({role}). Password: {}", password.expose());
    println!("It is shown only this once.");
    Ok(())
}

/// Binds the engine's listener and opens its store under `data_dir`, with `configure` applied.
async fn open_engine(
    listen: SocketAddr,
    data_dir: &Path,
    configure: impl FnOnce(&mut engine::EngineConfig),
) -> anyhow::Result<(engine::Engine, TcpListener)> {
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!("the engine cannot listen on {listen} (in use? try --engine-listen or --no-engine)")
    })?;
    let addr = listener.local_addr()?;
    let mut config = engine::EngineConfig::new(addr, data_dir.to_path_buf());
    configure(&mut config);
    let engine = engine::Engine::open(config)?;
    Ok((engine, listener))
}

async fn run_engine(args: EngineArgs) -> anyhow::Result<()> {
    let (engine, listener) = open_engine(args.listen, &args.data_dir, |config| {
        config.awslambdaric = args.awslambdaric;
        config.aws_lambda_ric = args.aws_lambda_ric;
        args.security.apply(config);
    })
    .await?;
    println!("  Lambdaport engine: a Lambda endpoint at http://{}", listener.local_addr()?);
    println!("  e.g. aws --endpoint-url http://{} lambda list-functions", listener.local_addr()?);
    println!("  Function code: {}", engine.state().containment.describe());
    let served = engine.serve_on_own_thread(listener.into_std()?, shutdown_signal())?;
    join_engine(served).await
}

/// Waits for the engine's thread to end, without blocking the async threads.
async fn join_engine(served: std::thread::JoinHandle<anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || served.join())
        .await
        .context("waiting for the engine")?
        .map_err(|_| anyhow::anyhow!("the engine thread panicked"))?
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await.with_context(|| {
        format!("listening on {} (is another console running? use --listen)", args.listen)
    })?;
    let local = listener.local_addr().context("reading the listen address")?;
    let shown_addr = args.public_origin().unwrap_or_else(|| format!("http://{local}"));
    // One shutdown signal for the console and the engine.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let until_stopped = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let engine = if args.no_engine {
        None
    } else {
        let data_dir = args.database.data_dir.join("engine");
        let security = args.engine.clone();
        let (engine, listener) = open_engine(args.engine_listen, &data_dir, |config| {
            security.apply(config);
            // The console shares this host: only `<id>.lambda-url.<region>.localhost` names.
            config.path_urls = false;
        })
        .await?;
        let addr = listener.local_addr()?;
        let containment = engine.state().containment.clone();
        Some((
            addr,
            containment,
            engine.serve_on_own_thread(listener.into_std()?, until_stopped())?,
        ))
    };
    let engine_addr = engine.as_ref().map(|(addr, _, _)| *addr);
    let containment = engine.as_ref().map(|(_, containment, _)| containment.clone());
    with_database(&args.database.clone(), |pool| async move {
        if let Some(addr) = engine_addr {
            let (key, secret) = args
                .engine
                .access_keys
                .first()
                .map(|(k, s)| (k.as_str(), s.as_str()))
                .unwrap_or(("test", "test"));
            backend::connections::ensure_local_signed_by(
                &pool,
                &format!("http://{addr}"),
                "us-east-1",
                (key, secret),
            )
            .await
            .context("registering the embedded engine as the Local connection")?;
        }
        let me = backend::leases::process_id();
        backend::leases::heartbeat(&pool, me).await.context("registering this console process")?;
        tokio::spawn(keep_alive(pool.clone()));
        if args.sync_interval_secs > 0 {
            tokio::spawn(reconcile_continuously(
                pool.clone(),
                Duration::from_secs(args.sync_interval_secs),
            ));
        }
        tokio::spawn(tend_labs(pool.clone(), Duration::from_secs(args.sweep_interval_secs)));
        let stopped_pool = pool.clone();
        let mut console = Console::build(&args, pool).await?;
        if let Some(containment) = &containment {
            console = console.with_engine(containment);
        }
        if let Some(password) = console.ensure_first_admin().await? {
            println!();
            println!("  First start: created the admin account");
            println!("    email:    {FIRST_ADMIN_EMAIL}");
            println!("    password: {password}");
            println!("  It is shown only this once. Add more accounts on the Admin page.");
        }
        println!();
        println!("  Lambdaport is running at {shown_addr}  (Ctrl-C to stop)");
        if let Some(addr) = engine_addr {
            println!(
                "  Lambda engine at http://{addr}  (aws --endpoint-url http://{addr} lambda …)"
            );
        }
        if let Some(containment) = &containment {
            println!("  Function code: {}", containment.describe());
        }
        println!();
        let served = console.serve(listener, until_stopped()).await;
        // Our in-flight steps (none, after a graceful stop) and jobs are free for others now.
        if let Err(error) = backend::leases::stopped(&stopped_pool, me).await {
            tracing::warn!(%error, "releasing this process's leases");
        }
        served
    })
    .await?;
    if let Some((_, _, served)) = engine {
        join_engine(served).await?;
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Reconciles every connection with its cloud now and then every `period`, all at once; a failing
/// or hanging connection is logged and does not hold up the others.
/// Only the console process holding the `catalog.reconcile` lease does it.
async fn reconcile_continuously(pool: PgPool, period: Duration) {
    let me = backend::leases::process_id();
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        match backend::leases::take(&pool, "catalog.reconcile", me, period * 2).await {
            Ok(true) => {}
            Ok(false) => continue, // another console process reconciles
            Err(error) => {
                tracing::warn!(%error, "taking the reconciliation lease");
                continue;
            }
        }
        let connections = match backend::connections::list(&pool).await {
            Ok(connections) => connections,
            Err(error) => {
                tracing::warn!(%error, "listing connections to reconcile");
                continue;
            }
        };
        // Each on its own task, not awaited: a slow connection (each cloud call is bounded by
        // the SDK's timeouts) holds up nobody, and a sync still running is not started twice
        // (`catalog::sync` returns the run in progress).
        for connection in connections.into_iter().filter(|c| !c.archived) {
            let pool = pool.clone();
            tokio::spawn(async move {
                match backend::catalog::sync(&pool, &connection).await {
                    Ok(run) => tracing::info!(
                        connection = connection.name,
                        seen = run.seen,
                        shadows = run.shadows,
                        ghosts = run.ghosts,
                        "reconciled"
                    ),
                    Err(error) => {
                        tracing::warn!(connection = connection.name, %error, "reconciling");
                    }
                }
            });
        }
    }
}

/// Says every 20 s that this console process is alive, so other processes on the database leave
/// its in-flight lab steps alone.
async fn keep_alive(pool: PgPool) {
    let me = backend::leases::process_id();
    let mut tick = tokio::time::interval(backend::leases::PROCESS_TTL / 3);
    loop {
        tick.tick().await;
        if let Err(error) = backend::leases::heartbeat(&pool, me).await {
            tracing::warn!(%error, "renewing this process's lease");
        }
    }
}

/// Looks after lab runs: at startup and then every `period`, steps that no process is running
/// any more (their process stopped, or they hung) are rolled back; and the process holding the
/// `labs.sweep` lease cleans up expired runs and folds the catalog's facet counts.
async fn tend_labs(pool: PgPool, period: Duration) {
    let me = backend::leases::process_id();
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        match backend::labs::recover(&pool, me).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "rolled back interrupted lab steps"),
            Err(error) => tracing::warn!(%error, "recovering interrupted lab steps"),
        }
        match backend::leases::take(&pool, "labs.sweep", me, period * 2).await {
            Ok(true) => {}
            Ok(false) => continue, // another console process sweeps
            Err(error) => {
                tracing::warn!(%error, "taking the sweeper's lease");
                continue;
            }
        }
        match backend::labs::sweep(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "cleaned up expired lab runs"),
            Err(error) => tracing::warn!(%error, "sweeping expired lab runs"),
        }
        match backend::urls::expiry::expire_public_urls(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(urls = n, "switched off expired public URLs"),
            Err(error) => tracing::warn!(%error, "switching off expired public URLs"),
        }
        match backend::governance::exceptions::expire(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(exceptions = n, "expired governance exceptions"),
            Err(error) => tracing::warn!(%error, "expiring governance exceptions"),
        }
        // Today's point in the Violations view's trend.
        if let Err(error) = backend::governance::violations::record_day(&pool).await {
            tracing::warn!(%error, "recording today's violation counts");
        }
        // The catalog's facet counts arrive as deltas: one row per value again.
        if let Err(error) = backend::catalog::fold_facets(&pool).await {
            tracing::warn!(%error, "folding the catalog's facet counts");
        }
    }
}

#[derive(Debug)]
pub struct Console {
    state: AppState,
    store: PostgresStore,
    sessions: SessionSettings,
}

impl Console {
    /// Tells the console how its embedded engine contains function code (shown to admins;
    /// learners are offered the engine only when it does).
    pub fn with_engine(mut self, containment: &engine::jail::Containment) -> Self {
        self.state.console.engine = Some(app::types::EngineContainment {
            contained: matches!(containment, engine::jail::Containment::Contained(_)),
            description: containment.describe(),
        });
        self
    }

    /// Prepares the session store and starts the task that deletes expired sessions.
    pub async fn build(args: &ServeArgs, pool: PgPool) -> anyhow::Result<Self> {
        Self::build_with(args, pool, Duration::from_secs(60)).await
    }

    /// [`Console::build`] with the interval of the expired-session sweep (tests shorten it).
    pub async fn build_with(
        args: &ServeArgs,
        pool: PgPool,
        sweep_every: Duration,
    ) -> anyhow::Result<Self> {
        let store = PostgresStore::new(pool.clone());
        store.migrate().await.context("creating the session table")?;
        let sweeper = store.clone();
        tokio::spawn(async move {
            if let Err(error) = sweeper.continuously_delete_expired(sweep_every).await {
                tracing::error!(%error, "the expired-session sweep stopped");
            }
        });
        let leptos_options = LeptosOptions::builder()
            .output_name("lambdaport")
            .site_root(site_root(&args.site_root))
            .site_pkg_dir("pkg")
            .site_addr(args.listen)
            .build();
        let state = AppState {
            leptos_options,
            console: ConsoleContext {
                pool,
                throttle: Arc::new(
                    SignInThrottle::default()
                        .with_signups_per_address(args.signups_per_address)
                        .with_accounts_per_address(args.sign_in_accounts_per_address),
                ),
                allow_signup: args.allow_signup,
                engine: None,
                url_watches: Arc::default(),
            },
            public_origin: args.public_origin().map(Arc::from),
            trusted_proxies: Arc::new(client_addr::TrustedProxies(args.trusted_proxies.clone())),
            admission: Arc::new(admission::Admission::new(
                args.max_concurrent_actions,
                admission::Admission::PATIENCE,
            )),
        };
        let sessions = SessionSettings {
            idle: Duration::from_secs(args.session_idle_secs),
            secure: args.secure_cookies(),
        };
        Ok(Self { state, store, sessions })
    }

    /// Replaces the sign-in throttle (tests use small limits).
    pub fn with_throttle(mut self, throttle: SignInThrottle) -> Self {
        self.state.console.throttle = Arc::new(throttle);
        self
    }

    /// Creates the first admin when there are no accounts; returns its one-time password.
    pub async fn ensure_first_admin(&self) -> anyhow::Result<Option<String>> {
        let pool = &self.state.console.pool;
        if backend::accounts::count_accounts(pool).await? > 0 {
            return Ok(None);
        }
        let email = EmailAddress::parse(FIRST_ADMIN_EMAIL)?;
        let password = NewPassword::generate();
        match backend::accounts::create_account(
            pool,
            &Actor::system(),
            &email,
            &password,
            Role::Admin,
        )
        .await
        {
            Ok(_) => Ok(Some(password.expose().to_owned())),
            // Another console on the same database won the race; its output has the password.
            Err(backend::Error::Conflict(_)) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = web::router(self.state, self.store, self.sessions);
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    }
}

fn site_root(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
