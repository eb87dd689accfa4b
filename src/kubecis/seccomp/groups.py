"""Review helpers: group a profile's syscalls (file, network, process, privileged, other) and diff two."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubecis.seccomp.profile import Profile

GROUPS = ("privileged", "network", "process", "file", "other")

PRIVILEGED = frozenset({
    "mount", "umount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv", "process_vm_writev",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module",
    "reboot", "swapon", "swapoff", "sethostname", "setdomainname", "setns", "unshare", "bpf",
    "perf_event_open", "keyctl", "add_key", "request_key", "iopl", "ioperm", "acct", "settimeofday",
    "clock_settime", "clock_settime64", "adjtimex", "clock_adjtime", "clock_adjtime64", "stime",
    "quotactl", "quotactl_fd", "nfsservctl", "lookup_dcookie", "open_by_handle_at", "name_to_handle_at",
    "userfaultfd", "fanotify_init", "mknod", "mknodat", "syslog", "vhangup", "personality", "fsopen",
    "fsmount", "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr", "kcmp",
    "get_kernel_syms", "query_module", "uselib", "vm86", "vm86old", "ustat", "sysfs", "_sysctl",
    "pidfd_getfd", "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
    "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid", "setfsuid32",
    "setfsgid", "setfsgid32", "setgroups", "setgroups32", "capset", "move_pages", "mbind",
    "set_mempolicy", "migrate_pages", "io_uring_setup", "io_uring_enter", "io_uring_register",
})

NETWORK = frozenset({
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
    "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "setsockopt", "getsockopt",
    "shutdown", "socketcall", "send", "recv",
})

PROCESS = frozenset({
    "clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
    "waitpid", "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "setsid", "getsid", "setpgid",
    "getpgid", "getpgrp", "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
    "getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
    "capget", "prctl", "arch_prctl", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack",
    "sigreturn", "sigaction", "sigprocmask", "signal", "pause", "sched_yield", "sched_getaffinity",
    "sched_setaffinity", "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr",
    "sched_setattr", "futex", "futex_waitv", "futex_time64", "set_tid_address", "set_robust_list",
    "get_robust_list", "rseq", "prlimit64", "getrlimit", "ugetrlimit", "setrlimit", "getrusage",
    "getpriority", "setpriority", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64", "pidfd_open",
    "pidfd_send_signal", "membarrier", "seccomp", "times", "ioprio_get", "ioprio_set",
})

FILE = frozenset({
    "open", "openat", "openat2", "creat", "read", "write", "pread64", "pwrite64", "readv", "writev",
    "preadv", "pwritev", "preadv2", "pwritev2", "close", "close_range", "lseek", "_llseek", "llseek",
    "stat", "fstat", "lstat", "newfstatat", "statx", "stat64", "fstat64", "lstat64", "fstatat64",
    "access", "faccessat", "faccessat2", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename",
    "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod",
    "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32",
    "lchown32", "truncate", "ftruncate", "truncate64", "ftruncate64", "getdents", "getdents64", "chdir",
    "fchdir", "getcwd", "dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "flock", "fsync", "fdatasync",
    "sync", "syncfs", "sync_file_range", "statfs", "fstatfs", "statfs64", "fstatfs64", "utime", "utimes",
    "utimensat", "futimesat", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    "fadvise64", "fadvise64_64", "fallocate", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "pipe", "pipe2", "umask", "memfd_create", "mq_open", "mq_unlink",
})


def group_of(name: str) -> str:
    if name in PRIVILEGED:
        return "privileged"
    if name in NETWORK:
        return "network"
    if name in PROCESS:
        return "process"
    if name in FILE or "xattr" in name:
        return "file"
    return "other"


def group(names: Iterable[str]) -> dict[str, list[str]]:
    """Names by group (every group present, each sorted)."""
    out: dict[str, list[str]] = {g: [] for g in GROUPS}
    for n in sorted(set(names)):
        out[group_of(n)].append(n)
    return out


def render_show(profile: Profile, *, source: str) -> str:
    lines = [
        f"profile: {source}",
        f"default: {profile.default_action}"
        + (f" (errno {profile.default_errno_ret})" if profile.default_errno_ret is not None else ""),
        f"architectures: {', '.join(profile.architectures) or '(native only)'}",
    ]
    allowed = profile.allowed_names()
    lines.append(f"allowed syscalls: {len(allowed)}")
    for g, names in group(allowed).items():
        if names:
            lines.append(f"  {g} ({len(names)}): {' '.join(names)}")
    for r in profile.rules:
        if r.action == "SCMP_ACT_ALLOW":
            continue
        extra = f" errno {r.errno_ret}" if r.errno_ret is not None else ""
        lines.append(f"{r.action}{extra}: {' '.join(sorted(r.names))}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ProfileDiff:
    only_a: frozenset[str]
    only_b: frozenset[str]
    changed: tuple[tuple[str, str, str], ...]  # (name, action in a, action in b) for names in both
    header: tuple[str, ...]  # human lines about default action / architectures

    @property
    def empty(self) -> bool:
        return not (self.only_a or self.only_b or self.changed or self.header)


def diff(a: Profile, b: Profile) -> ProfileDiff:
    """What ``b`` allows that ``a`` does not (``only_b``) and vice versa, plus header changes."""
    header: list[str] = []
    if (a.default_action, a.default_errno_ret) != (b.default_action, b.default_errno_ret):
        header.append(f"defaultAction: {a.default_action}/{a.default_errno_ret} -> "
                      f"{b.default_action}/{b.default_errno_ret}")
    if set(a.architectures) != set(b.architectures):
        old, new = ",".join(a.architectures) or "-", ",".join(b.architectures) or "-"
        header.append(f"architectures: {old} -> {new}")
    aa, ba = a.allowed_names(), b.allowed_names()
    changed = tuple(
        (n, a.action_for(n), b.action_for(n))
        for n in sorted((a.restricted_names() | b.restricted_names()) & (a.all_names() & b.all_names()))
        if a.action_for(n) != b.action_for(n)
    )
    return ProfileDiff(frozenset(aa - ba), frozenset(ba - aa), changed, tuple(header))


def render_diff(d: ProfileDiff, *, a: str, b: str) -> str:
    if d.empty:
        return f"{a} and {b} allow the same syscalls\n"
    lines = [f"--- {a}", f"+++ {b}", *(f"  {h}" for h in d.header)]
    for sign, names in (("-", d.only_a), ("+", d.only_b)):
        for g, gnames in group(names).items():
            for n in gnames:
                lines.append(f"{sign} {n:<24} [{g}]")
    for n, x, y in d.changed:
        lines.append(f"~ {n:<24} {x} -> {y}")
    lines.append(f"{len(d.only_a)} removed, {len(d.only_b)} added, {len(d.changed)} changed")
    return "\n".join(lines) + "\n"
