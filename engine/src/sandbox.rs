//! Execution environments: one contained process tree per environment (see [`crate::jail`]), with
//! its own Runtime API listener, the code read-only at `/var/task`, its own `/tmp` and a clean
//! environment. Output is captured line by line into the function's log stream. Killing an
//! environment kills every process in it.
//!
//! Only with `--insecure-no-sandbox` do functions run uncontained, as plain child processes of the
//! engine's user; where the machine cannot contain them and that was not asked for, no
//! environment starts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::error::{LambdaError, Result};
use crate::jail::{Containment, Jail, Layout};
use crate::model::{RuntimeFamily, runtime_family};
use crate::output::Output;
use crate::runtime_api::{self, Invocation, Slot};
use crate::store::Function;

/// What an environment is started from.
#[derive(Debug)]
pub struct Spec<'a> {
    pub function: &'a Function,
    pub task_root: PathBuf,
    pub runtime_dir: PathBuf,
    /// A directory holding `awslambdaric`, to run Python functions with AWS's runtime client.
    pub awslambdaric: Option<&'a Path>,
    /// The `aws-lambda-ric` package directory, to run Node.js functions with AWS's runtime client.
    pub aws_lambda_ric: Option<&'a Path>,
    pub region: &'a str,
    pub function_arn: String,
    /// Where its log lines go (the group and stream are named there).
    pub output: Arc<Output>,
    pub containment: &'a Containment,
    /// The empty directory environments build their root on.
    pub mount_point: &'a Path,
    /// Where a contained function may connect through the engine's proxy; `None`: nowhere.
    pub egress: Option<&'a Arc<crate::egress::Policy>>,
    /// The one tenant a tenant-isolated function's environment serves.
    pub tenant: Option<&'a str>,
}

/// A running execution environment.
#[derive(Debug)]
pub struct Environment {
    /// The function revision it runs; a changed function gets fresh environments.
    pub revision_id: String,
    /// The tenant it serves, and no other (tenant isolation).
    pub tenant: Option<String>,
    pub output: Arc<Output>,
    /// When the runtime started (a contained one exec'd): its Init Duration counts from here.
    pub spawned_at: Instant,
    pub slot: Arc<Slot>,
    invocations: mpsc::Sender<Invocation>,
    exit: watch::Receiver<Option<String>>,
    pid: Option<u32>,
    /// `/proc/<pid>/status`, kept open: it is read after every invoke (for REPORT's Max Memory
    /// Used), and re-reading an open file skips the path lookup an open costs.
    status: Option<std::fs::File>,
    /// The host temp dir of an uncontained environment (a contained one has its own tmpfs).
    tmp_dir: Option<PathBuf>,
    server: tokio::task::JoinHandle<()>,
    /// The environment's pid namespace (`/proc/<pid>/ns/pid`'s link), when contained.
    pid_namespace: Option<PathBuf>,
    /// The egress proxy serving this environment, if it has network.
    proxy: Option<tokio::task::JoinHandle<()>>,
    /// Set once the environment has served an invoke (its init is then behind it).
    pub warmed: OnceLock<()>,
}

impl Environment {
    /// Starts the runtime process and its Runtime API.
    pub async fn start(spec: Spec<'_>) -> Result<Arc<Self>> {
        let function = spec.function;
        let family = runtime_family(&function.settings.runtime)
            .ok_or_else(|| LambdaError::invalid("unsupported runtime"))?;
        let identity = match spec.containment {
            Containment::Contained(identity) => Some(*identity),
            Containment::Insecure => None,
            Containment::Unavailable(reason) => {
                return Err(LambdaError::new(
                    crate::error::ErrorType::Service,
                    format!(
                        "This engine cannot contain function code on this machine ({reason}), so it runs none. Start it with --insecure-no-sandbox to run code uncontained."
                    ),
                ));
            }
        };
        // AWS's own runtime client for this runtime, when the engine was given one.
        let official_client = match family {
            RuntimeFamily::Python => spec.awslambdaric.map(|dir| (dir, OFFICIAL_PYTHON_CLIENT)),
            RuntimeFamily::Node => spec.aws_lambda_ric.map(|dir| (dir, OFFICIAL_NODE_CLIENT)),
            RuntimeFamily::Provided => None,
        };
        // The paths the function sees: Lambda's own when contained, the host's otherwise (with a
        // temp dir of its own).
        let host_tmp = match identity {
            Some(_) => None,
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("lambdaport-env-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).map_err(LambdaError::service)?;
                Some(dir)
            }
        };
        let (task_root, runtime_dir, tmp) = match &host_tmp {
            None => (Path::new(TASK_ROOT), Path::new(RUNTIME_DIR), Path::new("/tmp")),
            Some(dir) => (spec.task_root.as_path(), spec.runtime_dir.as_path(), dir.as_path()),
        };
        let official_client = official_client.map(|(dir, name)| {
            let seen = if identity.is_some() { runtime_dir.join(name) } else { dir.to_path_buf() };
            (dir, seen)
        });
        // Uncontained, the Runtime API listens on the host's loopback; contained, the jail makes
        // it inside the environment's own network namespace.
        let host_listener = match identity {
            Some(_) => None,
            None => Some(TcpListener::bind("127.0.0.1:0").await.map_err(LambdaError::service)?),
        };
        let api_addr = match &host_listener {
            Some(listener) => listener.local_addr().map_err(LambdaError::service)?.to_string(),
            None => crate::jail::RUNTIME_API.to_owned(),
        };
        let settings = &function.settings;
        let mut command = match (family, &official_client) {
            (RuntimeFamily::Python, Some(_)) => {
                let mut c = tokio::process::Command::new("python3");
                // Its directory goes on PYTHONPATH, set after `env_clear` below.
                c.arg("-m").arg("awslambdaric").arg(&settings.handler);
                c
            }
            (RuntimeFamily::Python, None) => {
                let mut c = tokio::process::Command::new("python3");
                // `-S`: the host's site customizations (its `.pth` files, `sitecustomize`) are
                // not the function's; the bootstrap puts the site-packages on the path itself.
                c.arg("-S").arg("-u").arg(runtime_dir.join("bootstrap.py"));
                c
            }
            (RuntimeFamily::Node, Some((_, package))) => {
                let mut c = tokio::process::Command::new("node");
                c.arg(package.join("bin/index.mjs")).arg(&settings.handler);
                c
            }
            (RuntimeFamily::Node, None) => {
                let mut c = tokio::process::Command::new("node");
                c.arg(runtime_dir.join("bootstrap.mjs"));
                c
            }
            (RuntimeFamily::Provided, _) => {
                tokio::process::Command::new(task_root.join("bootstrap"))
            }
        };
        command
            .env_clear()
            .envs(&settings.environment)
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("LANG", "en_US.UTF-8")
            .env("TZ", ":UTC")
            .env("TMPDIR", tmp)
            .env("HOME", tmp)
            .env("AWS_LAMBDA_RUNTIME_API", &api_addr)
            .env("_HANDLER", &settings.handler)
            .env("LAMBDA_TASK_ROOT", task_root)
            .env("LAMBDA_RUNTIME_DIR", runtime_dir)
            .env("AWS_LAMBDA_FUNCTION_NAME", function.name.as_str())
            .env("AWS_LAMBDA_FUNCTION_VERSION", function.version_label())
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", settings.memory_size.to_string())
            .env("AWS_LAMBDA_FUNCTION_TIMEOUT", settings.timeout.to_string())
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &spec.output.group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &spec.output.stream)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_LAMBDA_FUNCTION_ARN", &spec.function_arn)
            .env("AWS_REGION", spec.region)
            .env("AWS_DEFAULT_REGION", spec.region)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_SESSION_TOKEN", "test");
        if family != RuntimeFamily::Provided {
            command.env("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", settings.runtime));
        }
        if let (RuntimeFamily::Python, Some((_, site))) = (family, &official_client) {
            command.env("PYTHONPATH", site);
        }
        let egress = spec.egress.filter(|_| identity.is_some());
        if egress.is_some() {
            // The standard variables every HTTP client reads; loopback stays direct (the Runtime
            // API), and Node's fetch follows them when told to.
            let proxy = format!("http://{}", crate::egress::PROXY);
            for name in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
                command.env(name, &proxy);
            }
            command.env("NO_PROXY", "localhost,127.0.0.1").env("no_proxy", "localhost,127.0.0.1");
            command.env("NODE_USE_ENV_PROXY", "1");
        }
        let jail = match identity {
            Some(identity) => {
                let layout = Layout {
                    mount_point: spec.mount_point,
                    task_root: &spec.task_root,
                    runtime_dir: &spec.runtime_dir,
                    official_client: official_client
                        .as_ref()
                        .map(|(dir, seen)| (*dir, seen.as_path())),
                    tmp_mb: settings.ephemeral_storage,
                    uid: crate::jail::function_uid(&spec.function_arn),
                    egress: egress.is_some(),
                };
                let (helper, jail) = Jail::command(command.as_std(), identity, &layout)
                    .map_err(LambdaError::service)?;
                command = tokio::process::Command::from(helper);
                Some(jail)
            }
            None => {
                command.current_dir(&spec.task_root).stdin(Stdio::null());
                None
            }
        };
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).kill_on_drop(true);
        let spawned = command.spawn();
        // The command holds the helper's socket: the engine's copy must go, or the socket never
        // ends (see `Jail::started`).
        drop(command);
        let not_started = |e: std::io::Error| {
            LambdaError::new(
                crate::error::ErrorType::Service,
                format!(
                    "Runtime.InvalidEntrypoint: could not start the runtime for {}: {e}",
                    settings.runtime
                ),
            )
        };
        let mut child = spawned.map_err(not_started)?;
        let (listener, runtime_pid, proxy) = match (jail, host_listener) {
            (Some(jail), _) => {
                let started = jail.started().await.map_err(not_started)?;
                let listener =
                    TcpListener::from_std(started.runtime_api).map_err(LambdaError::service)?;
                let proxy = match (started.egress, egress) {
                    (Some(proxy), Some(policy)) => {
                        let proxy = TcpListener::from_std(proxy).map_err(LambdaError::service)?;
                        Some(tokio::spawn(crate::egress::serve(proxy, policy.clone())))
                    }
                    _ => None,
                };
                (listener, Some(started.runtime_pid), proxy)
            }
            (None, Some(listener)) => (listener, child.id(), None),
            (None, None) => unreachable!("an uncontained environment binds on the host"),
        };
        // The runtime starts now (a contained one has just exec'd): making the environment (the
        // helper, its namespaces and root) is not part of the init, as on Lambda, whose Init
        // Duration is the runtime's and the function's own init.
        let spawned_at = Instant::now();
        let (tx, rx) = mpsc::channel(1);
        let slot = Slot::new(rx);
        let router = runtime_api::router(slot.clone());
        let server = tokio::spawn(async move {
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                // Without it, a response split over two writes waits ~40 ms for a delayed ACK.
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, router).await;
        });
        let pid = child.id();
        // Lambda's first line in a new environment's stream.
        let runtime = &settings.runtime;
        let version = runtime
            .replace("nodejs", "nodejs:")
            .replace("python", "python:")
            .replace("provided.", "provided:");
        spec.output.line(format!(
            "INIT_START Runtime Version: {version}.lambdaport\tRuntime Version ARN: arn:aws:lambda:{}::runtime:lambdaport-{runtime}",
            spec.region
        ));
        for output in
            [child.stdout.take().map(boxed), child.stderr.take().map(boxed)].into_iter().flatten()
        {
            let sink = spec.output.clone();
            tokio::spawn(async move {
                read_log_lines(output, |line| sink.line(line)).await;
            });
        }
        let (exit_tx, exit) = watch::channel(None);
        tokio::spawn(async move {
            let status = child.wait().await.map_or_else(|e| e.to_string(), |s| describe_exit(&s));
            let _ = exit_tx.send(Some(status));
        });
        Ok(Arc::new(Self {
            revision_id: function.runtime_revision.clone(),
            tenant: spec.tenant.map(str::to_owned),
            output: spec.output.clone(),
            spawned_at,
            slot,
            invocations: tx,
            exit,
            pid,
            status: runtime_pid
                .and_then(|pid| std::fs::File::open(format!("/proc/{pid}/status")).ok()),
            pid_namespace: identity
                .and(runtime_pid)
                .and_then(|pid| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()),
            tmp_dir: host_tmp,
            server,
            proxy,
            warmed: OnceLock::new(),
        }))
    }

    /// Whether the runtime process has exited.
    pub fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Hands an invocation to the runtime.
    pub async fn send(&self, invocation: Invocation) -> bool {
        self.invocations.send(invocation).await.is_ok()
    }

    /// Resolves with a description of the exit when the runtime process ends.
    pub async fn exited(&self) -> String {
        let mut exit = self.exit.clone();
        loop {
            if let Some(status) = exit.borrow().clone() {
                return status;
            }
            if exit.changed().await.is_err() {
                return "exit status unknown".to_owned();
            }
        }
    }

    /// The peak resident memory of the runtime process in MB (`VmHWM`), 0 once it is gone.
    pub fn max_memory_mb(&self) -> u64 {
        self.status_kb("VmHWM:").map_or(0, |kb| kb.div_ceil(1024))
    }

    /// The resident memory of the runtime process in MB now (`VmRSS`).
    pub fn memory_mb(&self) -> u64 {
        self.status_kb("VmRSS:").map_or(0, |kb| kb / 1024)
    }

    /// The memory of every process in the environment together, in MB: the proportional set
    /// size (`Pss`: a page shared by forks counts once in all) of the function's processes —
    /// the runtime and whatever it started, every process under the environment's init — when
    /// contained, else the runtime's resident memory. The engine's own copies that contain
    /// them (`outer`, `init`) are not the function's and are not counted. Reads a few `/proc`
    /// files per process of the environment, so it is for a coarser period than
    /// [`Environment::memory_mb`].
    pub fn tree_memory_mb(&self) -> u64 {
        if self.pid_namespace.is_none() {
            return self.memory_mb();
        }
        let init = self.pid.and_then(|outer| children(outer)?.first().copied());
        let Some(function) = init.and_then(descendants) else {
            return self.namespace_memory_mb();
        };
        let kb: u64 = function
            .iter()
            .filter_map(|pid| {
                let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
                kb_field(&rollup, "Pss:")
            })
            .sum();
        kb / 1024
    }

    /// [`Environment::tree_memory_mb`] for a kernel without `/proc/<pid>/task/<tid>/children`:
    /// every process of the host whose pid namespace is the environment's (its init too).
    fn namespace_memory_mb(&self) -> u64 {
        let Some(namespace) = &self.pid_namespace else { return self.memory_mb() };
        let Ok(entries) = std::fs::read_dir("/proc") else { return self.memory_mb() };
        let kb: u64 = entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                let pid = name.to_str()?;
                pid.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
                let link = std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()?;
                (link.as_os_str() == namespace.as_os_str()).then_some(())?;
                let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
                kb_field(&rollup, "Pss:")
            })
            .sum();
        kb / 1024
    }

    fn status_kb(&self, field: &str) -> Option<u64> {
        use std::os::unix::fs::FileExt as _;
        let mut buf = [0u8; 4096];
        let len = self.status.as_ref()?.read_at(&mut buf, 0).ok()?;
        kb_field(std::str::from_utf8(&buf[..len]).ok()?, field)
    }

    /// Kills the environment's processes and frees its resources. Contained, killing the
    /// process the engine spawned ends the namespace's init, and with it every process inside.
    pub fn kill(&self) {
        if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        self.server.abort();
        if let Some(proxy) = &self.proxy {
            proxy.abort();
        }
        // (Uncontained only: a contained /tmp is a tmpfs that goes with its namespace.) A big
        // /tmp takes a while to delete: off the async threads, which serve every invoke.
        if let Some(dir) = self.tmp_dir.clone() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn_blocking(move || std::fs::remove_dir_all(dir))),
                Err(_) => drop(std::fs::remove_dir_all(dir)),
            }
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The children of a process (of each of its threads), as this process's `/proc` numbers them;
/// `None` when the kernel does not say (`CONFIG_PROC_CHILDREN`) or the process is gone.
fn children(pid: u32) -> Option<Vec<u32>> {
    let mut found = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let list = std::fs::read_to_string(task.ok()?.path().join("children")).ok()?;
        found.extend(list.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
    }
    Some(found)
}

/// Every process under `root` (not `root` itself), however deep. Orphans in a pid namespace are
/// adopted by its init, so under an environment's init this is every other process inside it.
fn descendants(root: u32) -> Option<Vec<u32>> {
    let mut found = Vec::new();
    let mut next = children(root)?;
    while let Some(pid) = next.pop() {
        if found.len() >= 4096 {
            break;
        }
        found.push(pid);
        next.extend(children(pid).unwrap_or_default());
    }
    Some(found)
}

/// The value of a `Field:   123 kB` line of a `/proc` status, smaps or meminfo file, in kB.
pub(crate) fn kb_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CloudWatch's cap on one log event (256 KB): a longer line becomes several events, so what a
/// function prints never makes the engine hold more than this per output stream.
pub const MAX_LOG_EVENT: usize = 256 * 1024;

/// Reads `output` line by line (without the `\n` or `\r\n`), cutting lines longer than
/// [`MAX_LOG_EVENT`], until it ends.
async fn read_log_lines(output: impl AsyncRead + Unpin, mut each: impl FnMut(String)) {
    let mut reader = BufReader::with_capacity(64 * 1024, output);
    let mut line = Vec::new();
    let mut emit = |line: &mut Vec<u8>| {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        each(String::from_utf8_lossy(line).into_owned());
        line.clear();
    };
    loop {
        let buf = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buf) => buf,
        };
        let room = MAX_LOG_EVENT - line.len();
        let newline = buf.iter().take(room).position(|b| *b == b'\n');
        let take = newline.unwrap_or_else(|| buf.len().min(room));
        line.extend_from_slice(&buf[..take]);
        reader.consume(take + usize::from(newline.is_some()));
        if newline.is_some() || line.len() == MAX_LOG_EVENT {
            emit(&mut line);
        }
    }
    if !line.is_empty() {
        emit(&mut line);
    }
}

fn boxed(r: impl AsyncRead + Unpin + Send + 'static) -> Box<dyn AsyncRead + Unpin + Send> {
    Box::new(r)
}

fn describe_exit(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("signal: {signal}"),
        (None, None) => "exit status unknown".to_owned(),
    }
}

/// Where the code and the runtime clients are mounted inside an environment, as on Lambda.
const TASK_ROOT: &str = "/var/task";
const RUNTIME_DIR: &str = "/var/runtime";
/// Under the runtime dir: where AWS's runtime clients are mounted when the engine uses them.
pub const OFFICIAL_PYTHON_CLIENT: &str = "awslambdaric";
pub const OFFICIAL_NODE_CLIENT: &str = "aws-lambda-ric";

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines_of(bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        read_log_lines(bytes, |line| lines.push(line)).await;
        lines
    }

    #[test]
    fn descendants_are_found_however_deep() {
        // A shell that starts a sleep: both are under this process, the sleep a level deeper.
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .expect("sh starts");
        let shell_pid = shell.id();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        let found = loop {
            let found = descendants(std::process::id()).expect("this kernel lists children");
            if found.len() >= 2 || Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let sleep = children(shell_pid).expect("the shell's children");
        let _ = shell.kill();
        let _ = shell.wait();
        for pid in &sleep {
            if let Ok(pid) = i32::try_from(*pid) {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        assert!(found.contains(&shell_pid), "{found:?}");
        assert!(sleep.len() == 1 && found.contains(&sleep[0]), "{found:?} {sleep:?}");
    }

    #[tokio::test]
    async fn log_lines_are_split_and_capped_at_cloudwatchs_event_size() {
        assert_eq!(lines_of(b"one\ntwo\r\n\nlast").await, ["one", "two", "", "last"]);
        let long = vec![b'A'; MAX_LOG_EVENT * 2 + 10];
        let lines = lines_of(&[long.as_slice(), b"\nnext\n"].concat()).await;
        let sizes: Vec<usize> = lines.iter().map(String::len).collect();
        assert_eq!(sizes, [MAX_LOG_EVENT, MAX_LOG_EVENT, 10, 4]);
    }
}
