"""Observe a command's syscalls with strace (following forks, threads and execs).

Parsing strace's output is pure (:func:`parse_strace`) and unit-tested on its own;
:func:`run_traced` starts strace, passes the command's stdio and exit code through,
and stops the command after ``duration`` seconds if asked.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubecis.seccomp.errors import SeccompError

# "1234 name(" or "1234<comm> name(" ; comm may contain anything but we stop at the first "> ".
# An optional "-ttt" timestamp may follow the pid.
_SYSCALL = re.compile(r"^(?P<pid>\d+)(?:<(?P<comm>.*?)>)?\s+(?:\d+\.\d+\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\(")
_PERSONALITY = re.compile(
    r"^(?:\d+(?:<.*?>)?\s+)?(?:\d+\.\d+\s+)?\[ Process PID=(?P<pid>\d+) runs in (?P<mode>.+?) mode\. \]"
)
_UNKNOWN = re.compile(r"^syscall_(?:0x[0-9a-f]+|\d+)$")
# "1234<comm> <... execve resumed>) = 0": the second half of an exec strace printed in two lines.
_RESUMED = re.compile(r"^\d+(?:<.*?>)?\s+(?:\d+\.\d+\s+)?<\.\.\. (?P<name>[A-Za-z_][A-Za-z0-9_]*) resumed>")
_EXECS = frozenset({"execve", "execveat"})
_RETURNS_0 = re.compile(r"\)\s+= 0\s*$")

#: strace personality names -> OCI arch, per native arch.
_PERSONALITIES: dict[str, dict[str, str]] = {
    "SCMP_ARCH_X86_64": {"64 bit": "SCMP_ARCH_X86_64", "32 bit": "SCMP_ARCH_X86", "x32": "SCMP_ARCH_X32"},
    "SCMP_ARCH_AARCH64": {"64 bit": "SCMP_ARCH_AARCH64", "32 bit": "SCMP_ARCH_ARM"},
    "SCMP_ARCH_PPC64LE": {"64 bit": "SCMP_ARCH_PPC64LE", "32 bit": "SCMP_ARCH_PPC"},
    "SCMP_ARCH_PPC64": {"64 bit": "SCMP_ARCH_PPC64", "32 bit": "SCMP_ARCH_PPC"},
    "SCMP_ARCH_S390X": {"64 bit": "SCMP_ARCH_S390X", "32 bit": "SCMP_ARCH_S390"},
}


@dataclass
class Observed:
    """What a traced run did."""

    native: str
    by_arch: dict[str, Counter[str]] = field(default_factory=dict)
    first: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (pid, comm)
    unknown: Counter[str] = field(default_factory=Counter)  # syscall_0x... strace could not name
    arch_first: dict[str, tuple[int, str]] = field(default_factory=dict)  # arch -> first (pid, comm)
    exec_ok: bool = False  # an execve/execveat returned 0: the command (or a child) really started

    def names(self) -> set[str]:
        return {n for c in self.by_arch.values() for n in c}

    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for c in self.by_arch.values():
            total.update(c)
        return total


def parse_strace(lines: Iterable[str], *, native: str, exec_name: str = "") -> Observed:
    """Count syscall names per architecture from ``strace -f [-Y]`` output.

    Resumed lines (``<... read resumed>``) are not counted again; signal and exit lines are
    skipped; a personality switch changes the architecture of that pid from then on.
    """
    obs = Observed(native=native)
    modes = _PERSONALITIES.get(native, {"64 bit": native})
    arch_of: dict[int, str] = {}
    for line in lines:
        m = _SYSCALL.match(line)
        if m is None:
            rm = _RESUMED.match(line)
            if rm is not None:
                if rm.group("name") in _EXECS and _RETURNS_0.search(line):
                    obs.exec_ok = True
                continue
            pm = _PERSONALITY.match(line)
            if pm is not None:
                mode = pm.group("mode")
                arch_of[int(pm.group("pid"))] = modes.get(mode, f"unknown ({mode})")
            continue
        pid = int(m.group("pid"))
        comm = m.group("comm") or ""
        if comm == "strace" and exec_name:
            comm = exec_name  # the first execve happens in strace's child before the exec
        name = m.group("name")
        if name in _EXECS and _RETURNS_0.search(line):
            obs.exec_ok = True
        if _UNKNOWN.match(name):
            obs.unknown[name] += 1
            continue
        arch = arch_of.get(pid, native)
        obs.by_arch.setdefault(arch, Counter())[name] += 1
        obs.first.setdefault(name, (pid, comm))
        obs.arch_first.setdefault(arch, (pid, comm))
    return obs


def strace_path() -> str:
    path = shutil.which("strace")
    if path is None:
        raise SeccompError("strace is not installed (Debian: apt-get install strace); it is needed to trace")
    return path


def resolve_command(cmd: Sequence[str]) -> str:
    """The executable ``cmd[0]`` refers to, or one clear error."""
    if not cmd:
        raise SeccompError("missing command: give it after '--', e.g. kubecis seccomp learn -o p.json -- CMD")
    exe = cmd[0]
    if "/" in exe:
        if not os.path.exists(exe):
            raise SeccompError(f"command not found: {exe}")
        if os.path.isdir(exe) or not os.access(exe, os.X_OK):
            raise SeccompError(f"command is not executable: {exe}")
        return exe
    found = shutil.which(exe)
    if found is None:
        raise SeccompError(f"command not found: {exe}")
    return found


def exit_code(returncode: int) -> int:
    """subprocess return code -> shell-style exit code (signal N -> 128+N)."""
    return 128 - returncode if returncode < 0 else returncode


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()  # comm may be any bytes, not UTF-8
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


@contextlib.contextmanager
def signals_to_child(targets: Callable[[], Iterable[int]]) -> Iterator[None]:
    """While the command runs, Ctrl-C is for it (it is in our process group, so the terminal
    already delivered it) and SIGTERM/SIGHUP sent to us are forwarded to ``targets()``, so the
    command ends normally and kubecis still writes its profile or report."""

    def forward(signum: int, _frame: object) -> None:
        _signal_all(targets(), signum)

    saved: dict[int, object] = {}
    try:
        saved[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for fwd in (signal.SIGTERM, signal.SIGHUP):
            saved[fwd] = signal.signal(fwd, forward)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for signum, old in saved.items():
            signal.signal(signum, old)  # type: ignore[arg-type]


@dataclass
class TracedRun:
    exit_code: int
    observed: Observed
    timed_out: bool


def run_traced(
    cmd: Sequence[str],
    *,
    native: str,
    only_outside: Iterable[str] | None = None,
    everything_but: Iterable[str] | None = None,
    duration: float | None = None,
    grace: float = 5.0,
) -> TracedRun:
    """Run ``cmd`` under ``strace -f`` and return its exit code and the observed syscalls.

    By default every syscall is traced. With ``everything_but`` only syscalls *not* in that set
    are traced (strace installs its own seccomp-bpf pre-filter, so allowed syscalls cost nothing);
    with ``only_outside`` only the syscalls in that set are traced.
    """
    # raw=all: no argument decoding; we only need names (about 3x less tracing overhead)
    args = ["-s", "0", "-e", "raw=all"]
    # execve is always traced: the command's own exec proves that tracing worked.
    if everything_but is not None:
        names = sorted(set(everything_but) - {"execve"})
        args += ["--seccomp-bpf", "-Y", "-e", ("trace=!" + ",".join("?" + n for n in names)) if names else "trace=all"]
    elif only_outside is not None:
        names = sorted(set(only_outside) | {"execve"})
        args += ["--seccomp-bpf", "-Y", "-e", "trace=" + ",".join("?" + n for n in names)]
    with traced(cmd, args, duration=duration, grace=grace) as (rc, timed_out, out), \
            open(out, encoding="utf-8", errors="replace") as f:
        observed = parse_strace(f, native=native, exec_name=os.path.basename(cmd[0]))
    check_started(cmd, observed, rc)
    return TracedRun(rc, observed, timed_out)


@contextlib.contextmanager
def traced(
    cmd: Sequence[str], strace_args: Sequence[str], *, duration: float | None = None, grace: float = 5.0
) -> Iterator[tuple[int, bool, str]]:
    """Run ``strace -f ARGS -o FILE -- cmd`` with the command's stdio, exit code and signals passed
    through; yields (exit code, stopped after ``duration``, FILE) while FILE still exists."""
    resolve_command(cmd)
    strace = strace_path()
    with tempfile.TemporaryDirectory(prefix="kubecis-trace-") as tmp:
        out = os.path.join(tmp, "trace")
        argv = [strace, "-f", "--quiet=attach,exit,path-resolution,thread-execve", "-e", "signal=none",
                *strace_args, "-o", out, "--", *cmd]
        timed_out = False
        try:
            proc = subprocess.Popen(argv)
        except OSError as e:
            raise SeccompError(f"cannot start strace: {e.strerror or e}") from None
        with signals_to_child(lambda: _descendants(proc.pid)):
            try:
                proc.wait(timeout=duration)
            except subprocess.TimeoutExpired:
                timed_out = True
                _signal_all(_descendants(proc.pid), signal.SIGTERM)
                deadline = time.monotonic() + grace
                while proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                if proc.poll() is None:
                    _signal_all(_descendants(proc.pid), signal.SIGKILL)
                proc.wait()
        if not os.path.exists(out):
            raise SeccompError(f"strace did not produce a trace (exit {exit_code(proc.returncode)}); "
                               "is ptrace allowed here (CAP_SYS_PTRACE, kernel.yama.ptrace_scope)?")
        yield exit_code(proc.returncode), timed_out, out


def check_started(cmd: Sequence[str], observed: Observed, rc: int) -> None:
    """The command must have been traced and must have started (an exec that returned 0); else one clear
    error, so nothing is written for a command that never ran."""
    if not _EXECS & observed.names():
        raise SeccompError(f"strace could not trace the command (exit {rc}); is ptrace allowed here "
                           "(CAP_SYS_PTRACE, kernel.yama.ptrace_scope)?")
    if not observed.exec_ok:
        raise SeccompError(f"{cmd[0]} never started: its exec failed (exit {rc}); strace's message above says "
                           "why (a missing interpreter? not a program?)")
