//! The seccomp filter every contained process runs under: the system calls it may not make, and
//! the classic BPF program that refuses them (and kills a process that uses another ABI).

use nix::libc;

/// System calls a function has no use for and the kernel's attack surface is made of: they fail
/// with `EPERM`. Among them creating namespaces (`unshare`, `setns`, `clone` with a namespace
/// flag; `clone3`, whose flags a filter cannot read, fails with `ENOSYS` so that the C library
/// falls back to `clone`), mounting, keys, BPF, perf events, `userfaultfd`, io_uring, `ptrace`,
/// kernel modules and reboots.
pub(super) const DENIED_SYSCALLS: &[libc::c_long] = &[
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_syslog,
    libc::SYS_quotactl,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
];

/// The `AUDIT_ARCH_*` of the architecture this engine was built for: a system call made through
/// another ABI (32-bit `int 0x80`) would be numbered differently, so it kills the process.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

/// The seccomp program (classic BPF) for [`DENIED_SYSCALLS`].
pub(super) fn syscall_filter() -> Vec<libc::sock_filter> {
    const NAMESPACES: u32 = (libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWCGROUP) as u32;
    let op = |code: u32, k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: u16::try_from(code).expect("a BPF opcode fits 16 bits"),
        jt,
        jf,
        k,
    };
    let load = |offset: u32| op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset, 0, 0);
    let ret = |value: u32| op(libc::BPF_RET | libc::BPF_K, value, 0, 0);
    let nr = |call: libc::c_long| u32::try_from(call).expect("a system call number");
    // seccomp_data: nr at 0, arch at 4, args from 16 (the low half first on little endian).
    let mut program = vec![
        load(4),
        op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, AUDIT_ARCH, 1, 0),
        ret(libc::SECCOMP_RET_KILL_PROCESS),
        load(0),
    ];
    // Laid out as: the denied numbers, clone3, clone's flags, then ALLOW, EPERM, ENOSYS.
    let denied = DENIED_SYSCALLS.len();
    #[cfg(target_arch = "x86_64")]
    let x32 = 1;
    #[cfg(not(target_arch = "x86_64"))]
    let x32 = 0;
    let checks = x32 + denied + 1 + 3; // (x32) + denied + clone3 + clone, load arg, jset
    let jump = |from: usize, to: usize| u8::try_from(to - from - 1).expect("a short jump");
    let start = program.len();
    let (allow, eperm, enosys) = (start + checks, start + checks + 1, start + checks + 2);
    #[cfg(target_arch = "x86_64")]
    program.push(op(
        libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
        0x4000_0000,
        jump(start, eperm),
        0,
    ));
    for call in DENIED_SYSCALLS {
        let at = program.len();
        program.push(op(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            nr(*call),
            jump(at, eperm),
            0,
        ));
    }
    let at = program.len();
    program.push(op(
        libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
        nr(libc::SYS_clone3),
        jump(at, enosys),
        0,
    ));
    let at = program.len();
    program.push(op(
        libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
        nr(libc::SYS_clone),
        0,
        jump(at, allow),
    ));
    program.push(load(16));
    let at = program.len();
    program.push(op(
        libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K,
        NAMESPACES,
        jump(at, eperm),
        jump(at, allow),
    ));
    debug_assert_eq!(program.len(), allow);
    program.push(ret(libc::SECCOMP_RET_ALLOW));
    program.push(ret(libc::SECCOMP_RET_ERRNO | libc::EPERM as u32));
    program.push(ret(libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32));
    program
}
