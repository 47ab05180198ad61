//! The zero-setup database: a private PostgreSQL cluster in the data dir, started from the
//! machine's PostgreSQL binaries when no `DATABASE_URL` is given. It listens only on a unix socket
//! inside `<data dir>/postgres` (mode 0700), and even a local user who reached the socket would
//! need the generated password (scram-sha-256) kept beside it, readable by its owner only.

use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};
use std::process::Output;

use tokio::process::Command;

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
    password: String,
    run_as: Option<(u32, u32)>,
    started_here: bool,
}

/// The only way in: the console's user, by password, over the socket.
const HBA: &str = "# Written by Lambdaport: the console's user, by password, over the unix socket only.\nlocal all all scram-sha-256\n";

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

/// Where the socket goes: `<root>/run`, inside the 0700 cluster directory. Unix socket paths are
/// limited to ~107 bytes and data dirs are not, so a long one falls back to a directory in /tmp,
/// made fresh with mode 0700 — or, if it is there already, accepted only when it is a real
/// directory (not a link) owned by the cluster's user with mode 0700, so nobody can squat it.
fn socket_dir_for(root: &Path, owner: u32) -> anyhow::Result<PathBuf> {
    let inside = root.join("run");
    let dir = if inside.join(".s.PGSQL.5432").as_os_str().len() < 100 {
        inside
    } else {
        let hash =
            root.as_os_str().as_encoded_bytes().iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
            });
        std::env::temp_dir().join(format!("lambdaport-pg-{hash:016x}"))
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let me = std::fs::metadata("/proc/self").context("reading /proc/self")?.uid();
    if me == 0 && owner != 0 {
        std::os::unix::fs::lchown(&dir, Some(owner), None)
            .with_context(|| format!("handing {} to uid {owner}", dir.display()))?;
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != owner || meta.mode() & 0o077 != 0 {
        bail!(
            "{} is not a private directory of uid {owner} (a link, another owner, or open to others): \
             remove it, or use a shorter --data-dir so the socket lives inside it",
            dir.display()
        );
    }
    Ok(dir)
}

/// The socket directory a running cluster uses (line 5 of `postmaster.pid`).
fn running_socket_dir(pgdata: &Path) -> Option<PathBuf> {
    let pid = std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let dir = pid.lines().nth(4)?.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// 32 random alphanumerics.
fn generate_password() -> String {
    use rand::distributions::{Alphanumeric, DistString as _};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
}

/// Writes `contents` to a fresh `path` (create_new: never through a link left there) readable
/// by its owner only, owned by `owner` when given.
fn write_private(path: &Path, contents: &str, owner: Option<(u32, u32)>) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, contents.as_bytes())?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
    }
    Ok(())
}

impl PrivateCluster {
    /// Initialises the cluster on first use (scram-sha-256, a generated password), starts it
    /// unless it is already running, and makes sure the console's database exists. A cluster made
    /// by an older Lambdaport (trust auth) gets a password and the scram rule on the way.
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
        let run_as = unprivileged_user()?;
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))
                .with_context(|| format!("handing {} to uid {uid}", root.display()))?;
        }
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        let owner = match run_as {
            Some((uid, _)) => uid,
            None => std::fs::metadata("/proc/self")?.uid(),
        };
        let socket_dir = socket_dir_for(&root, owner)?;
        let password_file = root.join("password");
        let mut cluster = Self {
            bin_dir,
            pgdata,
            socket_dir,
            password: std::fs::read_to_string(&password_file).unwrap_or_default(),
            run_as,
            started_here: false,
        };
        if !cluster.pgdata.join("PG_VERSION").is_file() {
            tracing::info!(pgdata = %cluster.pgdata.display(), "initialising a private PostgreSQL cluster");
            cluster.password = generate_password();
            let pwfile = root.join("initdb-password");
            write_private(&pwfile, &cluster.password, run_as)?;
            let pwfile_arg = format!("--pwfile={}", path_str(&pwfile)?);
            let made = cluster
                .run(
                    "initdb",
                    &[
                        "-D",
                        path_str(&cluster.pgdata)?,
                        "-U",
                        USER,
                        "--auth=scram-sha-256",
                        &pwfile_arg,
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ],
                )
                .await;
            let _ = std::fs::remove_file(&pwfile);
            made?;
            write_private(&password_file, &cluster.password, None)?;
        }
        let hba = cluster.pgdata.join("pg_hba.conf");
        let upgrading = cluster.password.is_empty();
        if !upgrading && std::fs::read_to_string(&hba).ok().as_deref() != Some(HBA) {
            write_private(&hba, HBA, run_as)?;
            if cluster.is_running().await? {
                cluster.run("pg_ctl", &["reload", "-D", path_str(&cluster.pgdata)?]).await?;
            }
        }
        if cluster.is_running().await? {
            if let Some(dir) = running_socket_dir(&cluster.pgdata) {
                cluster.socket_dir = dir;
            }
        } else {
            let log = root.join("postgres.log");
            let options = format!(
                "-c listen_addresses='' -c unix_socket_permissions=0700 -k {}",
                path_str(&cluster.socket_dir)?
            );
            cluster
                .run(
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
                )
                .await?;
            cluster.started_here = true;
        }
        if upgrading {
            cluster.set_password_and_require_it(&password_file, &hba).await?;
        }
        cluster.create_database().await?;
        Ok(cluster)
    }

    /// An older cluster trusted every local connection: give the console's user a password,
    /// keep it beside the cluster, and make the password the only way in.
    async fn set_password_and_require_it(
        &mut self,
        password_file: &Path,
        hba: &Path,
    ) -> anyhow::Result<()> {
        tracing::info!("the private cluster trusted local connections: giving it a password");
        let password = generate_password();
        let mut conn = self.options("postgres").connect().await.context(
            "connecting to the private cluster to set its password (it has no password file)",
        )?;
        sqlx::query(&format!("alter role {USER} password '{password}'")).execute(&mut conn).await?;
        conn.close().await?;
        write_private(password_file, &password, None)?;
        write_private(hba, HBA, self.run_as)?;
        self.run("pg_ctl", &["reload", "-D", path_str(&self.pgdata)?]).await?;
        self.password = password;
        Ok(())
    }

    fn command(&self, tool: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(tool));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        command.env("LC_ALL", "C").env_remove("PGDATA");
        command
    }

    /// Runs one of PostgreSQL's tools to the end, without holding an async thread meanwhile.
    async fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<Output> {
        let output = self
            .command(tool)
            .args(args)
            .output()
            .await
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

    async fn is_running(&self) -> anyhow::Result<bool> {
        // `pg_ctl status` exits 0 when running, 3 when not.
        let status =
            self.command("pg_ctl").args(["status", "-D"]).arg(&self.pgdata).output().await?;
        Ok(status.status.success())
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(USER)
            .password(&self.password)
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

    /// The directory holding the cluster's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// How to connect to the console's database in this cluster.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options(DATABASE)
    }

    /// Stops the cluster if this process started it.
    pub async fn stop(self) -> anyhow::Result<()> {
        if self.started_here {
            self.run("pg_ctl", &["stop", "-w", "-m", "fast", "-D", path_str(&self.pgdata)?])
                .await?;
        }
        Ok(())
    }
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().with_context(|| format!("{} is not valid UTF-8", path.display()))
}
