//! Thin wrappers over the system calls of the environment's helper and its children, and the
//! helper's entry point.

use std::ffi::{CStr, CString};
use std::os::fd::{FromRawFd as _, OwnedFd, RawFd};

use nix::libc::{self, c_char, c_int, c_ulong};

/// The helper's entry: run by the C runtime before `main` in every program that links the
/// engine (the console, the engine, their tests), with `main`'s arguments. Only a process started
/// as the helper (`/proc/self/exe` with [`super::HELPER_ARG`]) goes on, into
/// [`super::helper_main`], and never returns; any other returns at once. glibc passes
/// constructors `main`'s arguments; musl passes none, so there is no helper (and no containment)
/// on musl.
#[cfg(target_env = "gnu")]
#[used]
#[unsafe(link_section = ".init_array")]
pub(super) static HELPER_ENTRY: extern "C" fn(c_int, *const *const c_char, *const *const c_char) =
    helper_entry;

#[cfg(target_env = "gnu")]
extern "C" fn helper_entry(argc: c_int, argv: *const *const c_char, _env: *const *const c_char) {
    if argc != 2 || argv.is_null() {
        return;
    }
    // SAFETY: glibc hands constructors `main`'s argc and argv: `argc` valid NUL-terminated
    // strings.
    let first = unsafe { *argv.add(1) };
    if !first.is_null() && unsafe { CStr::from_ptr(first) } == super::HELPER_ARG {
        super::helper_main();
    }
}

/// A copy of `fd` at 3 or above, closed at exec.
pub fn dup_cloexec(fd: RawFd) -> c_int {
    // SAFETY: a plain system call.
    unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) }
}
/// Makes `/dev/null` this process's standard input.
pub fn null_stdin() -> c_int {
    // SAFETY: a NUL-terminated string; plain system calls.
    unsafe {
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if fd < 0 {
            return fd;
        }
        let result = libc::dup2(fd, 0);
        libc::close(fd);
        result
    }
}
/// Names this process (what `ps` and `perf` show).
pub fn set_name(name: &CStr) -> c_int {
    // SAFETY: a NUL-terminated string valid for the call; the kernel copies at most 16 bytes.
    unsafe {
        libc::prctl(
            libc::PR_SET_NAME,
            name.as_ptr() as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
        )
    }
}
/// Receives one message into `buffer` (blocking); its length, or -1.
pub fn receive(socket: RawFd, buffer: &mut [u8]) -> isize {
    // SAFETY: the buffer is valid for its length.
    unsafe { libc::recv(socket, buffer.as_mut_ptr().cast(), buffer.len(), libc::MSG_TRUNC) }
}
/// Sends one message.
pub fn send(socket: RawFd, bytes: &[u8]) -> isize {
    // SAFETY: the buffer is valid for its length.
    unsafe { libc::send(socket, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL) }
}
/// `execve`; returns only when it failed.
pub fn execve(program: &CStr, argv: &[*const c_char], envp: &[*const c_char]) -> c_int {
    // SAFETY: both arrays are NULL-terminated (checked by the caller) and point at strings that
    // outlive the call.
    unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) }
}
/// A NULL-terminated array of pointers to `strings`, for `execve`.
pub fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}
/// `socket` registered with the runtime, to await its messages.
pub fn registered(socket: OwnedFd) -> std::io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: the AsyncFd owns the descriptor, which stays open as long as it lives.
    Ok(unsafe { tokio::io::unix::AsyncFd::register(socket) }?)
}
/// Owns `fd`, which this process alone holds.
pub fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller just made `fd` and hands it over.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
/// Owns the two descriptors `socketpair` just returned.
pub fn own_pair(fds: [RawFd; 2]) -> (OwnedFd, OwnedFd) {
    // SAFETY: both descriptors were just created and are owned here alone.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}
pub fn unshare(flags: c_int) -> c_int {
    // SAFETY: a plain system call.
    unsafe { libc::unshare(flags) }
}
pub fn fork() -> libc::pid_t {
    // SAFETY: the child only makes system calls on memory prepared before the fork.
    unsafe { libc::fork() }
}
pub fn setsid() -> libc::pid_t {
    // SAFETY: a plain system call.
    unsafe { libc::setsid() }
}
pub fn exit(code: c_int) -> ! {
    // SAFETY: ends the process without running the engine's exit handlers or destructors.
    unsafe { libc::_exit(code) }
}
/// Ends the process by `signal`'s default action.
pub fn die_of(signal: c_int) -> ! {
    // SAFETY: plain system calls on stack memory.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &raw const set, std::ptr::null_mut());
        libc::raise(signal);
        libc::_exit(128 + signal)
    }
}
pub fn close(fd: RawFd) {
    // SAFETY: the descriptor is owned by this (forked) process and not used again.
    unsafe { libc::close(fd) };
}
/// Closes every descriptor from `first` on.
pub fn close_from(first: u32) {
    // SAFETY: a plain system call; nothing in this process uses those descriptors after.
    unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0) };
}
pub fn waitpid(pid: libc::pid_t, status: &mut c_int) -> libc::pid_t {
    // SAFETY: `status` is a valid pointer for the call's duration.
    unsafe { libc::waitpid(pid, status, 0) }
}
pub fn prctl(option: c_int, arg: c_ulong) -> c_int {
    // SAFETY: the options used take one integer argument.
    unsafe { libc::prctl(option, arg, 0 as c_ulong, 0 as c_ulong, 0 as c_ulong) }
}
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: c_ulong,
    data: Option<&CStr>,
) -> c_int {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: NUL-terminated strings or null, valid for the call.
    unsafe { libc::mount(ptr(source), target.as_ptr(), ptr(fstype), flags, ptr(data).cast()) }
}
pub fn umount_detach(target: &CStr) -> c_int {
    // SAFETY: a NUL-terminated string valid for the call.
    unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) }
}
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> c_int {
    // SAFETY: NUL-terminated strings valid for the call.
    let result =
        unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
    c_int::try_from(result).unwrap_or(-1)
}
pub fn chdir(path: &CStr) -> c_int {
    // SAFETY: a NUL-terminated string valid for the call.
    unsafe { libc::chdir(path.as_ptr()) }
}
pub fn mkdir(path: &CStr) -> c_int {
    // SAFETY: a NUL-terminated string valid for the call.
    unsafe { libc::mkdir(path.as_ptr(), 0o755) }
}
pub fn symlink(target: &CStr, link: &CStr) -> c_int {
    // SAFETY: NUL-terminated strings valid for the call.
    unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) }
}
/// Creates (or truncates) a file, never through a link.
pub fn create(path: &CStr) -> c_int {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated string valid for the call.
    unsafe { libc::open(path.as_ptr(), flags, 0o644) }
}
pub fn open_write(path: &CStr) -> c_int {
    // SAFETY: a NUL-terminated string valid for the call.
    unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) }
}
pub fn write_all(fd: RawFd, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(error);
        }
        bytes = &bytes[usize::try_from(n).unwrap_or(0)..];
    }
    Ok(())
}
/// Installs a seccomp filter on this process (and what it execs).
pub fn install_filter(filter: &[libc::sock_filter]) -> c_int {
    let program = libc::sock_fprog {
        len: u16::try_from(filter.len()).unwrap_or(u16::MAX),
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `program` points at `filter`, valid for the call; the kernel copies it.
    unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as c_ulong,
            &raw const program,
            0 as c_ulong,
            0 as c_ulong,
        )
    }
}
pub fn setgroups_none() -> c_int {
    // SAFETY: an empty list.
    unsafe { libc::setgroups(0, std::ptr::null()) }
}
pub fn setresgid(gid: u32) -> c_int {
    // SAFETY: a plain system call.
    unsafe { libc::setresgid(gid, gid, gid) }
}
pub fn setresuid(uid: u32) -> c_int {
    // SAFETY: a plain system call.
    unsafe { libc::setresuid(uid, uid, uid) }
}
pub fn setrlimit(resource: libc::__rlimit_resource_t, value: u64) -> c_int {
    let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: `limit` is valid for the call.
    unsafe { libc::setrlimit(resource, &raw const limit) }
}
pub fn socket(domain: c_int, kind: c_int) -> c_int {
    // SAFETY: a plain system call.
    unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, 0) }
}
pub fn setsockopt_int(fd: RawFd, level: c_int, name: c_int, value: c_int) -> c_int {
    let size = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: `value` is valid for the call and `size` is its size.
    unsafe { libc::setsockopt(fd, level, name, (&raw const value).cast(), size) }
}
pub fn bind_loopback(fd: RawFd, port: u16) -> c_int {
    // SAFETY: a zeroed sockaddr_in is valid; the fields are then set.
    let mut address: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    address.sin_family = libc::AF_INET as libc::sa_family_t;
    address.sin_port = port.to_be();
    address.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: `address` is a valid sockaddr_in of `size` bytes.
    unsafe { libc::bind(fd, (&raw const address).cast(), size) }
}
pub fn listen(fd: RawFd, backlog: c_int) -> c_int {
    // SAFETY: a plain system call.
    unsafe { libc::listen(fd, backlog) }
}
/// `ioctl(SIOCSIFFLAGS)`: brings the interface up.
pub fn set_interface_up(fd: RawFd, name: &CStr) -> c_int {
    // SAFETY: a zeroed ifreq is valid; the name fits (checked), the flags are then set.
    unsafe {
        let mut request: libc::ifreq = std::mem::zeroed();
        let bytes = name.to_bytes();
        if bytes.len() >= request.ifr_name.len() {
            return -1;
        }
        for (slot, byte) in request.ifr_name.iter_mut().zip(bytes) {
            *slot = *byte as libc::c_char;
        }
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &raw mut request) < 0 {
            return -1;
        }
        request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        libc::ioctl(fd, libc::SIOCSIFFLAGS, &raw mut request)
    }
}
pub fn socketpair_seqpacket(fds: &mut [RawFd; 2]) -> c_int {
    let kind = libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` has room for the two descriptors.
    unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) }
}
/// Sends `fds` (one or two) over a unix socket: one byte of data, the descriptors as
/// SCM_RIGHTS.
pub fn send_fds(socket: RawFd, fds: &[RawFd]) -> isize {
    let size = std::mem::size_of_val(fds);
    if fds.is_empty() || size > 32 {
        return -1;
    }
    // A control buffer aligned for cmsghdr, large enough for one descriptor.
    #[repr(C)]
    union Control {
        header: libc::cmsghdr,
        bytes: [u8; 64],
    }
    // SAFETY: every pointer refers to stack memory valid for the call; the CMSG macros are
    // used within the buffer's declared length.
    unsafe {
        let mut data = [0u8; 1];
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: 1 };
        let mut control: Control = std::mem::zeroed();
        let space = libc::CMSG_SPACE(size as u32) as usize;
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &raw mut iov;
        message.msg_iovlen = 1;
        message.msg_control = (&raw mut control).cast();
        message.msg_controllen = space;
        let header = libc::CMSG_FIRSTHDR(&raw const message);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(size as u32) as usize;
        std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(header), size);
        libc::sendmsg(socket, &raw const message, 0)
    }
}
/// What the helper's processes say to the engine over their socket.
#[derive(Debug)]
pub enum Message {
    /// The listeners made inside the environment, and the runtime's pid (the sender's).
    Listeners(Vec<OwnedFd>, libc::pid_t),
    /// A step failed: its errno and what it was.
    Failed(i32, String),
    /// Every process holding the other end has closed it (the runtime exec'd, or all ended).
    End,
}

/// Receives one message without waiting (`WouldBlock` when none is there yet).
pub fn receive_message(socket: RawFd) -> std::io::Result<Message> {
    #[repr(C)]
    union Control {
        header: libc::cmsghdr,
        bytes: [u8; 256],
    }
    // SAFETY: as in `send_fds`; received descriptors are owned by this process alone.
    unsafe {
        let mut data = [0u8; 512];
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
        let mut control: Control = std::mem::zeroed();
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &raw mut iov;
        message.msg_iovlen = 1;
        message.msg_control = (&raw mut control).cast();
        message.msg_controllen = std::mem::size_of::<Control>();
        let received =
            libc::recvmsg(socket, &raw mut message, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC);
        if received < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let (mut fds, mut pid) = (Vec::new(), -1);
        let mut header = libc::CMSG_FIRSTHDR(&raw const message);
        while !header.is_null() {
            match ((*header).cmsg_level, (*header).cmsg_type) {
                (libc::SOL_SOCKET, libc::SCM_RIGHTS) => {
                    let data = libc::CMSG_DATA(header);
                    let bytes = (*header).cmsg_len - (data as usize - header as usize);
                    for i in 0..bytes / std::mem::size_of::<c_int>() {
                        let raw = std::ptr::read_unaligned(data.cast::<c_int>().add(i));
                        fds.push(OwnedFd::from_raw_fd(raw));
                    }
                }
                (libc::SOL_SOCKET, libc::SCM_CREDENTIALS) => {
                    let creds =
                        std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<libc::ucred>());
                    pid = creds.pid;
                }
                _ => {}
            }
            header = libc::CMSG_NXTHDR(&raw const message, header);
        }
        let data = &data[..usize::try_from(received).unwrap_or(0)];
        Ok(match data {
            [] if fds.is_empty() => Message::End,
            [b'E', a, b, c, d, what @ ..] if fds.is_empty() => Message::Failed(
                i32::from_le_bytes([*a, *b, *c, *d]),
                String::from_utf8_lossy(what).into_owned(),
            ),
            _ => Message::Listeners(fds, pid),
        })
    }
}
