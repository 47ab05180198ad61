//! Containment of a function's processes, whoever started the engine.
//!
//! Each execution environment gets its own mount, pid, network, IPC and UTS namespaces (and, when
//! the engine is not root, its own user namespace, so no privilege is needed):
//! - its root is a fresh tmpfs holding only the system's `/usr` and a few files of `/etc`, all
//!   read-only, its code read-only at `/var/task`, the runtime clients at `/var/runtime`, a `/tmp`
//!   of its own capped at the function's `EphemeralStorage`, its own `/proc` and a minimal `/dev`:
//!   the data dir, other functions, home directories and the engine's `/proc` are not there;
//! - its network namespace has only a loopback with its own Runtime API on `127.0.0.1:9001`, as on
//!   Lambda: the host's loopback services (console, engine API, Postgres) and the cloud metadata
//!   service cannot be reached;
//! - it runs as an unprivileged user: a uid of its own per function when the engine is root, else
//!   the engine's uid seen through a user namespace (uid 993 inside, as Lambda's `sbx_user1051`),
//!   with no capabilities, `no_new_privs`, and limits on processes, open files and file sizes;
//! - the runtime is pid 2 under an init (pid 1) that lives only to reap; killing the environment
//!   kills that init, and with it every process of the namespace, `setsid` or not.
//!
//! The process tree: the engine spawns `outer` (in the engine's namespaces: the pid the engine
//! waits on and kills), which unshares and forks `init` (pid 1 of the new pid namespace, which
//! builds the root and reaps), which forks the runtime. `outer` is a fresh start of the engine's
//! own program as the helper (`/proc/self/exe` with [`HELPER_ARG`]), spawned without a fork of
//! the engine (`posix_spawn`): a fork of a large, busy process copies its page tables, and until
//! the child execs every page the engine writes is copied again — for a class of learners
//! starting environments together, a tenth of the machine's time. The helper takes what to do
//! over a socket (a [`Request`]), never runs `main`, and it and `init` never exec: they close
//! every inherited descriptor, refuse to be read through `/proc` (not dumpable) and die with
//! their parent. The runtime's Runtime API listener is created inside the new network namespace
//! and passed back to the engine over the same socket, together with the runtime's pid as the
//! engine sees it; a step that fails says which, with its errno, and the socket's end (closed at
//! the runtime's exec) tells the engine the exec succeeded.
//!
//! Kept in one file (about 620 lines): the plan made before the fork and the steps the children
//! take after it are one protocol, best read top to bottom; the seccomp filter and the raw system
//! calls are apart (`seccomp`, `sys`).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd as _, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use nix::libc::{self, c_int, c_ulong};

/// Where a contained runtime finds its Runtime API, as on Lambda.
pub const RUNTIME_API: &str = "127.0.0.1:9001";
const RUNTIME_API_PORT: u16 = 9001;
/// The function's uid and gid inside a user namespace: Lambda's `sbx_user1051`.
const SANDBOX_UID: u32 = 993;
const SANDBOX_GID: u32 = 990;
/// Uids given to functions when the engine is root: one per function, far above real accounts
/// and subordinate-uid ranges.
const FUNCTION_UID_BASE: u32 = 1_500_000_000;
const FUNCTION_UID_RANGE: u32 = 500_000_000;
/// Lambda's limits on processes and open files.
const MAX_PROCESSES: u64 = 1024;
const MAX_OPEN_FILES: u64 = 1024;

/// How this engine contains functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containment {
    /// Functions run contained (see the module's documentation).
    Contained(Identity),
    /// The operator chose `--insecure-no-sandbox`: functions run as child processes of the
    /// engine's user, with the host's filesystem and network.
    Insecure,
    /// This machine cannot contain functions, and the engine was not told to run them anyway: it
    /// refuses to run code, saying why.
    Unavailable(String),
}

impl Containment {
    /// One line for logs and the console's Admin page.
    pub fn describe(&self) -> String {
        match self {
            Self::Contained(Identity::Root) => "contained: namespaces, a uid per function".into(),
            Self::Contained(Identity::UserNamespace { .. }) => {
                "contained: namespaces, in a user namespace of the engine's user".into()
            }
            Self::Insecure => {
                "NOT contained (--insecure-no-sandbox): functions run as the engine's user".into()
            }
            Self::Unavailable(reason) => format!("unavailable: {reason}"),
        }
    }
}

/// Who the contained process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Identity {
    /// The engine is root: each function runs as a uid of its own.
    Root,
    /// The engine is an ordinary user: a user namespace maps the function's uid (993) to the
    /// engine's, without privilege. The namespaces, not the uid, keep it from the engine's files.
    UserNamespace { uid: u32, gid: u32 },
}

impl Identity {
    /// This process's.
    pub fn current() -> Self {
        let (uid, gid) = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
        if uid == 0 { Self::Root } else { Self::UserNamespace { uid, gid } }
    }
}

/// The uid a function runs as when the engine is root: stable per function name.
pub fn function_uid(function_arn: &str) -> u32 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = function_arn
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    FUNCTION_UID_BASE + u32::try_from(hash % u64::from(FUNCTION_UID_RANGE)).expect("in range")
}

/// What an environment's root holds.
#[derive(Debug)]
pub struct Layout<'a> {
    /// An empty directory of the engine's to build the new root on (in a private mount
    /// namespace: every environment mounts over the same one).
    pub mount_point: &'a Path,
    pub task_root: &'a Path,
    pub runtime_dir: &'a Path,
    /// AWS's runtime client, when used: (its directory, where it appears inside).
    pub official_client: Option<(&'a Path, &'a Path)>,
    /// The size of `/tmp`, in MB (the function's `EphemeralStorage`).
    pub tmp_mb: u32,
    /// The function's uid when the engine is root (see [`function_uid`]).
    pub uid: u32,
    /// Also make a listener for the engine's egress proxy (`crate::egress`).
    pub egress: bool,
}

/// A prepared containment: applied to a command before it is spawned, then asked for what the
/// contained runtime handed back.
#[derive(Debug)]
pub struct Jail {
    engine_end: OwnedFd,
}

/// What a contained runtime handed back once it was started.
#[derive(Debug)]
pub struct Started {
    /// Listening on `127.0.0.1:9001` inside the environment's network namespace.
    pub runtime_api: std::net::TcpListener,
    /// Listening on `127.0.0.1:9002` inside the namespace, for the egress proxy, when asked.
    pub egress: Option<std::net::TcpListener>,
    /// The runtime's pid as the engine sees it.
    pub runtime_pid: u32,
}

impl Jail {
    /// The command that starts `runtime` contained by `identity` with `layout`: the helper, told
    /// to exec `runtime`'s program with its arguments and environment — only the variables set on
    /// it (the engine's own are never passed); its program and current dir are looked up inside
    /// the new root. The caller sets the command's stdout, stderr and process group (its stdin
    /// is the helper's socket; the runtime's is `/dev/null`), spawns it, drops it (it holds the
    /// socket's other end) and awaits [`Jail::started`].
    pub fn command(
        runtime: &std::process::Command,
        identity: Identity,
        layout: &Layout<'_>,
    ) -> io::Result<(std::process::Command, Self)> {
        use std::os::unix::process::CommandExt as _;
        let text = |s: &std::ffi::OsStr| {
            s.to_str().map(str::to_owned).ok_or_else(|| io::Error::other("not UTF-8"))
        };
        let path = |p: &Path| text(p.as_os_str()).map(PathBuf::from);
        let request = Request {
            identity,
            engine_pid: nix::unistd::getpid().as_raw(),
            mount_point: path(layout.mount_point)?,
            task_root: path(layout.task_root)?,
            runtime_dir: path(layout.runtime_dir)?,
            official_client: match layout.official_client {
                Some((dir, seen)) => Some((path(dir)?, path(seen)?)),
                None => None,
            },
            tmp_mb: layout.tmp_mb,
            uid: layout.uid,
            egress: layout.egress,
            program: text(runtime.get_program())?,
            args: runtime.get_args().map(text).collect::<io::Result<_>>()?,
            env: runtime
                .get_envs()
                .filter_map(|(name, value)| Some((name, value?)))
                .map(|(name, value)| Ok((text(name)?, text(value)?)))
                .collect::<io::Result<_>>()?,
        };
        let (engine_end, child_end) = seqpacket_pair()?;
        set_int_option(engine_end.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PASSCRED, 1)?;
        let bytes = serde_json::to_vec(&request).map_err(io::Error::other)?;
        if usize::try_from(check(sys::send(engine_end.as_raw_fd(), &bytes))?) != Ok(bytes.len()) {
            return Err(io::Error::other("the environment's request was cut short"));
        }
        let mut helper = std::process::Command::new("/proc/self/exe");
        helper
            .arg0("lambdaport-environment")
            .arg(HELPER_ARG.to_str().map_err(io::Error::other)?)
            .env_clear()
            .stdin(std::process::Stdio::from(child_end));
        // The constructor must be linked into whichever program uses this: referring to it here
        // keeps the object that holds it.
        #[cfg(target_env = "gnu")]
        std::hint::black_box(&sys::HELPER_ENTRY);
        Ok((helper, Self { engine_end }))
    }

    /// After the spawn: the Runtime API listener and the runtime's pid, which the runtime sent
    /// before it exec'd; an error when a step of the start failed (or the exec), saying which.
    pub async fn started(self) -> io::Result<Started> {
        let socket = sys::registered(self.engine_end)?;
        let start = async {
            let mut listeners = None;
            loop {
                let mut ready = socket.readable().await?;
                match ready.try_io(|socket| sys::receive_message(socket.as_raw_fd())) {
                    Ok(message) => {
                        if let Some(done) = Self::take(message?, &mut listeners) {
                            return done;
                        }
                    }
                    Err(_would_block) => {}
                }
            }
        };
        // Lambda's limit on an init (the runtime's own init is timed after this).
        tokio::time::timeout(std::time::Duration::from_secs(10), start)
            .await
            .map_err(|_| io::Error::other("the environment did not start within 10 s"))?
    }

    /// [`Jail::started`] once the helper has ended (the probe, which waits for it).
    fn ended(self) -> io::Result<Started> {
        let mut listeners = None;
        loop {
            if let Some(done) =
                Self::take(sys::receive_message(self.engine_end.as_raw_fd())?, &mut listeners)
            {
                return done;
            }
        }
    }

    /// Takes one message in; the outcome once there is one.
    fn take(message: sys::Message, listeners: &mut Option<Started>) -> Option<io::Result<Started>> {
        match message {
            sys::Message::Listeners(fds, pid) => match Self::listeners(fds, pid) {
                Ok(started) => *listeners = Some(started),
                Err(error) => return Some(Err(error)),
            },
            sys::Message::Failed(errno, what) => {
                let error = io::Error::from_raw_os_error(errno);
                return Some(Err(io::Error::new(error.kind(), format!("{what}: {error}"))));
            }
            sys::Message::End => {
                return Some(listeners.take().ok_or_else(|| {
                    io::Error::other("the environment ended before its runtime started")
                }));
            }
        }
        None
    }

    fn listeners(fds: Vec<OwnedFd>, pid: libc::pid_t) -> io::Result<Started> {
        let runtime_pid = u32::try_from(pid).map_err(io::Error::other)?;
        let mut listeners = fds.into_iter().map(|fd| {
            let listener = std::net::TcpListener::from(fd);
            listener.set_nonblocking(true).map(|()| listener)
        });
        let runtime_api = listeners
            .next()
            .ok_or_else(|| io::Error::other("the runtime sent no Runtime API listener"))??;
        let egress = listeners.next().transpose()?;
        Ok(Started { runtime_api, egress, runtime_pid })
    }
}

/// Checks that this machine can contain functions by starting `true` the way environments are
/// started.
pub fn probe(identity: Identity, mount_point: &Path, runtime_dir: &Path) -> Result<(), String> {
    let layout = Layout {
        mount_point,
        task_root: runtime_dir,
        runtime_dir,
        official_client: None,
        tmp_mb: 1,
        uid: function_uid("probe"),
        egress: false,
    };
    let mut runtime = std::process::Command::new("/usr/bin/true");
    runtime.env_clear();
    let (mut command, jail) =
        Jail::command(&runtime, identity, &layout).map_err(|e| e.to_string())?;
    let status = command.status().map_err(|e| format!("starting a contained process: {e}"))?;
    drop(command);
    jail.ended().map_err(|e| format!("the contained process's start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("a contained `true` ended with {status}")) }
}

// ---- The plan: everything the children need, prepared before the fork ----

#[derive(Debug)]
enum Step {
    Mkdir(CString),
    /// An empty file to mount a file on.
    Touch(CString),
    Symlink {
        target: CString,
        link: CString,
    },
    Write {
        path: CString,
        contents: Vec<u8>,
    },
    /// A bind mount; `remount` is the flags it is made read-only with (the source's own
    /// nosuid/nodev/noexec/atime flags kept, since a user namespace may not clear them).
    Bind {
        source: CString,
        target: CString,
        remount: Option<c_ulong>,
    },
    Mount {
        fstype: &'static CStr,
        target: CString,
        flags: c_ulong,
        data: CString,
    },
    /// Makes the root itself read-only once built.
    RemountReadOnly {
        target: CString,
        flags: c_ulong,
    },
}

#[derive(Debug)]
struct Plan {
    identity: Identity,
    /// Written to `/proc/self/{setgroups,uid_map,gid_map}` in a user namespace.
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    mount_point: CString,
    steps: Vec<Step>,
    uid: u32,
    gid: u32,
    file_size_limit: u64,
    egress: bool,
    /// The seccomp filter the runtime runs under ([`syscall_filter`]).
    filter: Vec<libc::sock_filter>,
    child_end: OwnedFd,
    engine_pid: libc::pid_t,
}

impl Plan {
    fn new(
        identity: Identity,
        layout: &Layout<'_>,
        child_end: OwnedFd,
        engine_pid: libc::pid_t,
    ) -> io::Result<Self> {
        let root = layout.mount_point;
        let inside = |path: &str| c(&root.join(path.trim_start_matches('/')));
        let mut steps = vec![Step::Mount {
            fstype: c"tmpfs",
            target: c(root)?,
            flags: libc::MS_NOSUID | libc::MS_NODEV,
            data: CString::from(c"mode=0755,size=1m"),
        }];
        for dir in ["etc", "var", "var/task", "var/runtime", "tmp", "proc", "dev", "usr"] {
            steps.push(Step::Mkdir(inside(dir)?));
        }
        steps.push(bind_read_only(Path::new("/usr"), inside("usr")?)?);
        // Merged-/usr systems link these into /usr; others have them as directories.
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let host = Path::new("/").join(top);
            match std::fs::symlink_metadata(&host) {
                Ok(meta) if meta.file_type().is_symlink() => steps.push(Step::Symlink {
                    target: c(&std::fs::read_link(&host)?)?,
                    link: inside(top)?,
                }),
                Ok(meta) if meta.is_dir() => {
                    steps.push(Step::Mkdir(inside(top)?));
                    steps.push(bind_read_only(&host, inside(top)?)?);
                }
                _ => {}
            }
        }
        // From the host's /etc only what programs need to resolve names, verify TLS and load
        // libraries: no configuration of the host's services, no accounts.
        for name in ETC_SHARED {
            let host = Path::new("/etc").join(name);
            let Ok(meta) = std::fs::metadata(&host) else { continue };
            let target = inside(&format!("etc/{name}"))?;
            steps.push(if meta.is_dir() {
                Step::Mkdir(target.clone())
            } else {
                Step::Touch(target.clone())
            });
            steps.push(bind_read_only(&host, target)?);
        }
        let (uid, gid) = match identity {
            Identity::Root => (layout.uid, layout.uid),
            Identity::UserNamespace { .. } => (SANDBOX_UID, SANDBOX_GID),
        };
        steps.push(Step::Write {
            path: inside("etc/passwd")?,
            contents: format!(
                "root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:{uid}:{gid}::/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
            )
            .into_bytes(),
        });
        steps.push(Step::Write {
            path: inside("etc/group")?,
            contents: format!("root:x:0:\nsbx_user1051:x:{gid}:\nnogroup:x:65534:\n").into_bytes(),
        });
        steps.push(bind_read_only(layout.task_root, inside("var/task")?)?);
        steps.push(bind_read_only(layout.runtime_dir, inside("var/runtime")?)?);
        if let Some((source, seen)) = layout.official_client {
            let target = c(&root.join(seen.strip_prefix("/").unwrap_or(seen)))?;
            steps.push(bind_read_only(source, target)?);
        }
        steps.push(Step::Mount {
            fstype: c"tmpfs",
            target: inside("tmp")?,
            flags: libc::MS_NOSUID | libc::MS_NODEV,
            data: CString::new(format!("mode=1777,size={}m", layout.tmp_mb.max(1)))?,
        });
        steps.push(Step::Mount {
            fstype: c"proc",
            target: inside("proc")?,
            flags: libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data: CString::default(),
        });
        steps.push(Step::Mount {
            fstype: c"tmpfs",
            target: inside("dev")?,
            flags: libc::MS_NOSUID | libc::MS_NOEXEC,
            data: CString::from(c"mode=0755,size=64k"),
        });
        for device in ["null", "zero", "full", "random", "urandom", "tty"] {
            let host = Path::new("/dev").join(device);
            if host.exists() {
                steps.push(Step::Touch(inside(&format!("dev/{device}"))?));
                steps.push(Step::Bind {
                    source: c(&host)?,
                    target: inside(&format!("dev/{device}"))?,
                    remount: None,
                });
            }
        }
        for (name, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            steps.push(Step::Symlink {
                target: c(Path::new(target))?,
                link: inside(&format!("dev/{name}"))?,
            });
        }
        steps.push(Step::RemountReadOnly {
            target: c(root)?,
            flags: libc::MS_NOSUID | libc::MS_NODEV,
        });
        let (uid_map, gid_map) = match identity {
            Identity::Root => (Vec::new(), Vec::new()),
            Identity::UserNamespace { uid: outer_uid, gid: outer_gid } => (
                format!("{SANDBOX_UID} {outer_uid} 1\n").into_bytes(),
                format!("{SANDBOX_GID} {outer_gid} 1\n").into_bytes(),
            ),
        };
        Ok(Self {
            identity,
            uid_map,
            gid_map,
            mount_point: c(root)?,
            steps,
            uid,
            gid,
            // Above `/tmp`'s size, so filling `/tmp` is "no space left" (what a program
            // expects), and no file anywhere grows past it.
            file_size_limit: (u64::from(layout.tmp_mb.max(1)) + 16) * 1024 * 1024,
            egress: layout.egress,
            filter: syscall_filter(),
            child_end,
            engine_pid,
        })
    }

    /// Runs in `outer`, just forked from the engine. Returns only in the runtime's process, to
    /// exec; `outer` and `init` end in their wait loops.
    fn contain(&self) -> io::Result<()> {
        die_with_parent(self.engine_pid)?;
        let mut flags = libc::CLONE_NEWNS
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS;
        if matches!(self.identity, Identity::UserNamespace { .. }) {
            flags |= libc::CLONE_NEWUSER;
        }
        check(sys::unshare(flags))?;
        if matches!(self.identity, Identity::UserNamespace { .. }) {
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", &self.uid_map)?;
            write_file(c"/proc/self/gid_map", &self.gid_map)?;
        }
        // Nothing of the engine's memory may be read through /proc by what runs in here (only
        // now: a process that is not dumpable cannot write its own id maps).
        check(sys::prctl(libc::PR_SET_DUMPABLE, 0))?;
        let outer = nix::unistd::getpid().as_raw();
        match check(sys::fork())? {
            0 => {}
            init => wait_and_mirror(init, false),
        }
        // `init`: pid 1 of the new namespace.
        die_with_parent(outer)?;
        check(sys::prctl(libc::PR_SET_DUMPABLE, 0))?;
        self.build_root()?;
        loopback_up()?;
        match check(sys::fork())? {
            0 => {}
            runtime => wait_and_mirror(runtime, true),
        }
        // The runtime's process, before exec.
        check(sys::setsid())?;
        let listener = listen_on(RUNTIME_API_PORT)?;
        let proxy = if self.egress { listen_on(crate::egress::PROXY_PORT)? } else { -1 };
        let fds = [listener, proxy];
        check(sys::send_fds(self.child_end.as_raw_fd(), &fds[..if self.egress { 2 } else { 1 }]))?;
        sys::close(listener);
        if self.egress {
            sys::close(proxy);
        }
        // The socket stays open until the exec closes it (close-on-exec): its end tells the
        // engine the exec succeeded.
        set_limit(libc::RLIMIT_NPROC, MAX_PROCESSES)?;
        set_limit(libc::RLIMIT_NOFILE, MAX_OPEN_FILES)?;
        set_limit(libc::RLIMIT_FSIZE, self.file_size_limit)?;
        set_limit(libc::RLIMIT_CORE, 0)?;
        if self.identity == Identity::Root {
            check(sys::setgroups_none())?;
            check(sys::setresgid(self.gid))?;
            check(sys::setresuid(self.uid))?;
        }
        check(sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1))?;
        check(sys::chdir(c"/var/task"))?;
        // Last: from here on the filter applies, to the exec too.
        check(sys::install_filter(&self.filter))?;
        Ok(())
    }

    /// Builds the root on the mount point and makes it `/`.
    fn build_root(&self) -> io::Result<()> {
        // Nothing mounted here may propagate back to the host.
        check(sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None))?;
        for step in &self.steps {
            match step {
                Step::Mkdir(path) => match check(sys::mkdir(path)) {
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                    other => other.map(drop)?,
                },
                Step::Touch(path) => sys::close(check(sys::create(path))?),
                Step::Symlink { target, link } => check(sys::symlink(target, link)).map(drop)?,
                Step::Write { path, contents } => {
                    let fd = check(sys::create(path))?;
                    let written = sys::write_all(fd, contents);
                    sys::close(fd);
                    written?;
                }
                Step::Bind { source, target, remount } => {
                    let flags = libc::MS_BIND | libc::MS_REC;
                    check(sys::mount(Some(source), target, None, flags, None))?;
                    if let Some(flags) = remount {
                        check(sys::mount(None, target, None, *flags, None))?;
                    }
                }
                Step::Mount { fstype, target, flags, data } => {
                    check(sys::mount(Some(fstype), target, Some(fstype), *flags, Some(data)))?;
                }
                Step::RemountReadOnly { target, flags } => {
                    let flags = libc::MS_REMOUNT | libc::MS_RDONLY | *flags;
                    check(sys::mount(None, target, None, flags, None))?;
                }
            }
        }
        // The new root becomes `/`, and the old one is detached: nothing of it stays reachable.
        check(sys::chdir(&self.mount_point))?;
        check(sys::pivot_root(c".", c"."))?;
        check(sys::umount_detach(c"."))?;
        check(sys::chdir(c"/"))?;
        Ok(())
    }
}

/// Files and directories of the host's `/etc` an environment sees (read-only).
const ETC_SHARED: &[&str] = &[
    "resolv.conf",
    "hosts",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "localtime",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "alternatives",
    "mime.types",
];

fn c(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)
}

/// A read-only bind of `source`, keeping the flags of the mount it lives on.
fn bind_read_only(source: &Path, target: CString) -> io::Result<Step> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    let fs = statvfs(source).map_err(io::Error::from)?.flags();
    let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID;
    for (has, flag) in [
        (FsFlags::ST_NODEV, libc::MS_NODEV),
        (FsFlags::ST_NOEXEC, libc::MS_NOEXEC),
        (FsFlags::ST_NOATIME, libc::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, libc::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if fs.contains(has) {
            flags |= flag;
        }
    }
    Ok(Step::Bind { source: c(source)?, target, remount: Some(flags) })
}

fn check<T: Copy + PartialOrd + Default>(result: T) -> io::Result<T> {
    if result < T::default() { Err(io::Error::last_os_error()) } else { Ok(result) }
}

/// Dies with SIGKILL when the parent does; gives up at once if it already has. For `outer` the
/// "parent" is the engine *thread* that spawned it: environments must be started from a thread
/// that lives as long as they do (the engine's own, a runtime worker), never from a blocking-pool
/// thread, which exits when idle.
fn die_with_parent(parent: libc::pid_t) -> io::Result<()> {
    check(sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong))?;
    let now = nix::unistd::getppid().as_raw();
    // In a new pid namespace the parent lives outside it and reads as 0.
    if now != parent && now != 0 {
        sys::exit(1);
    }
    Ok(())
}

/// `outer` and `init`: close everything inherited (the engine's descriptors, the write end of
/// the spawn's error pipe), wait for `child`, and end as it ended. `init` also reaps every orphan
/// of its namespace, and being pid 1 cannot die of its own signal, so it reports one as 128 + n;
/// `outer` turns that back into the signal.
fn wait_and_mirror(child: libc::pid_t, reaper: bool) -> ! {
    sys::close_from(0);
    loop {
        let mut status: c_int = 0;
        let waited = sys::waitpid(if reaper { -1 } else { child }, &mut status);
        if waited == child {
            if libc::WIFSIGNALED(status) {
                let signal = libc::WTERMSIG(status);
                if reaper {
                    sys::exit(128 + signal);
                }
                sys::die_of(signal);
            }
            let code = libc::WEXITSTATUS(status);
            if !reaper && (129..=128 + 64).contains(&code) {
                sys::die_of(code - 128);
            }
            sys::exit(code);
        }
        if waited < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            sys::exit(127);
        }
    }
}

fn loopback_up() -> io::Result<()> {
    let fd = check(sys::socket(libc::AF_INET, libc::SOCK_DGRAM))?;
    let result = sys::set_interface_up(fd, c"lo");
    sys::close(fd);
    check(result).map(drop)
}

/// A TCP listener on the namespace's `127.0.0.1:port`.
fn listen_on(port: u16) -> io::Result<RawFd> {
    let fd = check(sys::socket(libc::AF_INET, libc::SOCK_STREAM))?;
    let bound = set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
        .and_then(|()| check(sys::bind_loopback(fd, port)).map(drop))
        .and_then(|()| check(sys::listen(fd, 128)).map(drop));
    match bound {
        Ok(()) => Ok(fd),
        Err(e) => {
            sys::close(fd);
            Err(e)
        }
    }
}

fn set_int_option(fd: RawFd, level: c_int, name: c_int, value: c_int) -> io::Result<()> {
    check(sys::setsockopt_int(fd, level, name, value)).map(drop)
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    check(sys::setrlimit(resource, value)).map(drop)
}

fn write_file(path: &CStr, contents: &[u8]) -> io::Result<()> {
    let fd = check(sys::open_write(path))?;
    let written = sys::write_all(fd, contents);
    sys::close(fd);
    written
}

fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    check(sys::socketpair_seqpacket(&mut fds))?;
    Ok(sys::own_pair(fds))
}

// ---- The helper: a fresh process that becomes `outer` ----

/// The argument that starts the engine's program as the helper.
const HELPER_ARG: &CStr = c"--lambdaport-environment-helper";

/// What the engine asks of the helper: the layout, and the runtime to exec inside.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Request {
    identity: Identity,
    /// The engine's pid: `outer` dies with it.
    engine_pid: libc::pid_t,
    mount_point: PathBuf,
    task_root: PathBuf,
    runtime_dir: PathBuf,
    official_client: Option<(PathBuf, PathBuf)>,
    tmp_mb: u32,
    uid: u32,
    egress: bool,
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// The helper's life (see the module's documentation): read the request from the socket on
/// stdin, become `outer`, and in the runtime's process exec the runtime. Whatever fails is sent
/// to the engine (errno and what it was) before the process ends with 127.
fn helper_main() -> ! {
    let Ok(channel) = check(sys::dup_cloexec(0)) else { sys::exit(127) };
    let fail = |what: &str, error: &io::Error| -> ! {
        let mut message = vec![b'E'];
        message.extend(error.raw_os_error().unwrap_or(libc::EIO).to_le_bytes());
        message.extend(what.bytes().take(400));
        sys::send(channel, &message);
        sys::exit(127)
    };
    if let Err(error) = check(sys::null_stdin()) {
        fail("opening /dev/null", &error);
    }
    sys::set_name(c"lp-environment");
    let mut buffer = vec![0u8; 1 << 20];
    let received = match check(sys::receive(channel, &mut buffer)) {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(error) => fail("reading the request", &error),
    };
    if received > buffer.len() {
        fail("reading the request", &io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    let request: Request = match serde_json::from_slice(&buffer[..received]) {
        Ok(request) => request,
        Err(error) => fail("reading the request", &io::Error::other(error)),
    };
    drop(buffer);
    let strings = |items: &mut dyn Iterator<Item = String>| -> io::Result<Vec<CString>> {
        items.map(|s| CString::new(s).map_err(io::Error::other)).collect()
    };
    let prepared = (|| {
        let argv =
            strings(&mut std::iter::once(request.program.clone()).chain(request.args.clone()))?;
        let envp = strings(&mut request.env.iter().map(|(name, value)| format!("{name}={value}")))?;
        let path = request
            .env
            .iter()
            .find(|(name, _)| name == "PATH")
            .map_or("/usr/local/bin:/usr/bin:/bin", |(_, value)| value.as_str());
        // Where the program is looked for inside the new root, as `execvp` would.
        let candidates = if request.program.contains('/') {
            vec![CString::new(request.program.clone())?]
        } else {
            strings(
                &mut path
                    .split(':')
                    .filter(|d| !d.is_empty())
                    .map(|dir| format!("{}/{}", dir.trim_end_matches('/'), request.program)),
            )?
        };
        // SAFETY of the descriptor: it was just duplicated here and is owned by this plan.
        let channel = sys::own(channel);
        let layout = Layout {
            mount_point: &request.mount_point,
            task_root: &request.task_root,
            runtime_dir: &request.runtime_dir,
            official_client: request
                .official_client
                .as_ref()
                .map(|(dir, seen)| (dir.as_path(), seen.as_path())),
            tmp_mb: request.tmp_mb,
            uid: request.uid,
            egress: request.egress,
        };
        let plan = Plan::new(request.identity, &layout, channel, request.engine_pid)?;
        io::Result::Ok((plan, argv, envp, candidates))
    })();
    let (plan, argv, envp, candidates) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => fail("preparing the environment", &error),
    };
    if let Err(error) = plan.contain() {
        fail("containing the runtime", &error);
    }
    // The runtime's process, contained: exec it.
    let (argv, envp) = (sys::pointers(&argv), sys::pointers(&envp));
    let mut first_error = None;
    for program in &candidates {
        sys::execve(program, &argv, &envp);
        let error = io::Error::last_os_error();
        // As `execvp`: a missing file means the next directory; anything else is kept.
        if error.raw_os_error() != Some(libc::ENOENT) && first_error.is_none() {
            first_error = Some(error);
        }
    }
    let error = first_error.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOENT));
    fail(&format!("starting {}", request.program), &error)
}

mod seccomp;
/// The raw system calls, each a thin wrapper over `libc` that neither allocates nor locks.
#[expect(
    unsafe_code,
    reason = "the system calls of the contained children, with no safe wrapper that avoids allocating"
)]
mod sys;

use seccomp::syscall_filter;
