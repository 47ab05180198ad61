//! The zero-setup database: a private PostgreSQL cluster in the data dir, started from the
//! machine's PostgreSQL binaries when no `DATABASE_URL` is given, listening only on a unix socket.

use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context as _, bail};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

const USER: &str = "lambdaport";
const DATABASE: &str = "lambdaport";

/// A cluster under `<data dir>/postgres`. Stopped by [`PrivateCluster::stop`] if this process
/// started it; one already running (another console on the same data dir) is shared.
#[derive(Debug)]
pub struct PrivateCluster {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<(u32, u32)>,
    started_here: bool,
}

/// Finds `initdb` and `pg_ctl`: on PATH, else the newest `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_tools(&dir) {
                // Follow a symlinked initdb to its real bin dir, where `postgres` lives too.
                let real = std::fs::canonicalize(dir.join("initdb")).ok();
                return Some(real.and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or(dir));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// PostgreSQL refuses to run as root. When we are root, run it as the `postgres` account (or
/// `nobody`), read from /etc/passwd.
fn unprivileged_user() -> anyhow::Result<Option<(u32, u32)>> {
    let uid = std::fs::metadata("/proc/self").context("reading /proc/self")?.uid();
    if uid != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let ids = |name: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&name) && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
    };
    ids("postgres")
        .or_else(|| ids("nobody"))
        .map(Some)
        .context("running as root, and neither a `postgres` nor a `nobody` account exists to run PostgreSQL as")
}

/// A short socket directory: unix socket paths are limited to ~107 bytes, data dirs are not.
fn socket_dir_for(pgdata: &Path) -> PathBuf {
    let hash =
        pgdata.as_os_str().as_encoded_bytes().iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        });
    std::env::temp_dir().join(format!("lambdaport-pg-{hash:016x}"))
}

impl PrivateCluster {
    /// Initialises the cluster on first use, starts it unless it is already running, and makes
    /// sure the console's database exists.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().context(
            "DATABASE_URL is not set and no PostgreSQL binaries were found (initdb and pg_ctl, on \
             PATH or under /usr/lib/postgresql/*/bin). Install PostgreSQL (Debian: apt-get install \
             postgresql) or set DATABASE_URL to a database you have.",
        )?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data dir {}", data_dir.display()))?;
        let root = std::fs::canonicalize(data_dir)?.join("postgres");
        let pgdata = root.join("data");
        let socket_dir = socket_dir_for(&pgdata);
        let run_as = unprivileged_user()?;
        for dir in [&root, &socket_dir] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                    .with_context(|| format!("handing {} to uid {uid}", dir.display()))?;
            }
        }
        let mut cluster = Self { bin_dir, pgdata, socket_dir, run_as, started_here: false };
        if !cluster.pgdata.join("PG_VERSION").is_file() {
            tracing::info!(pgdata = %cluster.pgdata.display(), "initialising a private PostgreSQL cluster");
            cluster.run(
                "initdb",
                &[
                    "-D",
                    path_str(&cluster.pgdata)?,
                    "-U",
                    USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
            )?;
        }
        if !cluster.is_running()? {
            let log = root.join("postgres.log");
            let options = format!("-c listen_addresses='' -k {}", path_str(&cluster.socket_dir)?);
            cluster.run(
                "pg_ctl",
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    path_str(&cluster.pgdata)?,
                    "-l",
                    path_str(&log)?,
                    "-o",
                    &options,
                ],
            )?;
            cluster.started_here = true;
        }
        cluster.create_database().await?;
        Ok(cluster)
    }

    fn command(&self, tool: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(tool));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        command.env("LC_ALL", "C").env_remove("PGDATA");
        command
    }

    fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<Output> {
        let output = self
            .command(tool)
            .args(args)
            .output()
            .with_context(|| format!("running {}", self.bin_dir.join(tool).display()))?;
        if !output.status.success() {
            bail!(
                "{tool} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }

    fn is_running(&self) -> anyhow::Result<bool> {
        // `pg_ctl status` exits 0 when running, 3 when not.
        let status = self.command("pg_ctl").args(["status", "-D"]).arg(&self.pgdata).output()?;
        Ok(status.status.success())
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(USER)
            .database(database)
            .application_name("lambdaport")
    }

    async fn create_database(&self) -> anyhow::Result<()> {
        let mut conn = self
            .options("postgres")
            .connect()
            .await
            .context("connecting to the private cluster")?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("create database {DATABASE}")).execute(&mut conn).await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// How to connect to the console's database in this cluster.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options(DATABASE)
    }

    /// Stops the cluster if this process started it.
    pub fn stop(self) -> anyhow::Result<()> {
        if self.started_here {
            self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", path_str(&self.pgdata)?])?;
        }
        Ok(())
    }
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().with_context(|| format!("{} is not valid UTF-8", path.display()))
}
