"""The runtime base set: syscalls a container runtime may still make after it has installed
the seccomp filter and before (or while) it execs the container's process.

runc and crun load the filter "as close to execve as possible", but not after it: the
runtime's own exec path, and for runc (written in Go) its runtime threads, still run
under the filter. A learned profile that lacks these fails at container start, before
the program has made a single syscall, so ``learn`` always adds them. See docs/seccomp.md.
"""

from __future__ import annotations

#: name -> why it is needed. Kept deliberately small; everything else must be learned.
RUNTIME_BASE: dict[str, str] = {
    # exec the container process and report exec failures
    "execve": "exec the container's process",
    "execveat": "exec via an fd (crun, runc with memfd-cloned binary)",
    "exit": "runtime thread exit",
    "exit_group": "process exit",
    "write": "report an exec failure / runc exec.fifo handshake",
    "read": "exec.fifo / sync-pipe handshake",
    "openat": "runc opens exec.fifo through /proc/self/fd after loading the filter",
    "close": "close inherited fds right before exec",
    "close_range": "close inherited fds right before exec (newer runtimes, CPython)",
    "fcntl": "mark fds close-on-exec",
    "fstat": "fd checks before exec",
    "newfstatat": "fd checks before exec",
    # runc without no_new_privs loads the filter before dropping privileges
    "capget": "drop capabilities after the filter (no_new_privs=false)",
    "capset": "drop capabilities after the filter (no_new_privs=false)",
    "prctl": "PR_SET_NO_NEW_PRIVS, keep-caps",
    "setgroups": "switch user after the filter (no_new_privs=false)",
    "setresuid": "switch user after the filter (no_new_privs=false)",
    "setresgid": "switch user after the filter (no_new_privs=false)",
    "chdir": "enter the container's working directory",
    "getpid": "runtime bookkeeping",
    "gettid": "runtime bookkeeping",
    "getppid": "parent-death checks",
    # the Go runtime in runc keeps scheduling, allocating and handling signals
    "futex": "Go runtime / threads",
    "nanosleep": "Go runtime",
    "clock_nanosleep": "Go runtime",
    "sched_yield": "Go runtime",
    "mmap": "Go runtime allocation",
    "munmap": "Go runtime allocation",
    "madvise": "Go runtime allocation",
    "epoll_pwait": "Go runtime netpoller",
    "epoll_ctl": "Go runtime netpoller",
    "rt_sigaction": "signal setup / reset before exec",
    "rt_sigprocmask": "signal mask reset before exec",
    "rt_sigreturn": "return from a signal handler",
    "sigaltstack": "Go runtime signal stacks",
    "tgkill": "Go runtime preemption signals",
}

RUNTIME_BASE_SET: frozenset[str] = frozenset(RUNTIME_BASE)
