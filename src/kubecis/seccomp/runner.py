"""learn / enforce / audit: the orchestration between the pure model, strace and libseccomp."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from kubecis.seccomp import libseccomp
from kubecis.seccomp.base import RUNTIME_BASE_SET
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, allow_profile, merge
from kubecis.seccomp.trace import Observed, exit_code, resolve_command, run_traced, signals_to_child


@dataclass
class LearnResult:
    exit_code: int
    profile: Profile
    observed: Observed
    timed_out: bool


def learn(cmd: Sequence[str], *, duration: float | None = None, base: Profile | None = None) -> LearnResult:
    """Trace ``cmd``, add the runtime base set, merge with ``base``; names validated by libseccomp."""
    native = libseccomp.native_arch()
    run = run_traced(cmd, native=native, duration=duration)
    names = run.observed.names() | RUNTIME_BASE_SET
    for n in sorted(names):
        if not libseccomp.syscall_known(n):
            raise SeccompError(f"strace reported syscall {n!r}, which libseccomp does not know; "
                               "profile not written")
    profile = allow_profile(names, {native, *run.observed.by_arch})
    if base is not None:
        profile = merge(base, profile)
    libseccomp.validate_names(profile, source="learned profile")
    return LearnResult(run.exit_code, profile, run.observed, run.timed_out)


def enforce(cmd: Sequence[str], profile: Profile) -> int:
    """Run ``cmd`` with the profile installed in the child right before exec; returns its exit code."""
    exe = resolve_command(cmd)
    compiled = libseccomp.compile_profile(profile)
    try:
        proc = subprocess.Popen([exe, *cmd[1:]], executable=exe, preexec_fn=compiled.preexec())
    except PermissionError as e:
        raise SeccompError(f"cannot exec {cmd[0]} under the profile: {e.strerror} "
                           "(does the profile allow execve?)") from None
    except OSError as e:
        raise SeccompError(f"cannot start {cmd[0]}: {e.strerror or e}") from None
    except subprocess.SubprocessError as e:
        raise SeccompError(f"cannot install the seccomp filter: {e}") from None
    with signals_to_child(lambda: [proc.pid]):
        proc.wait()
    return exit_code(proc.returncode)


@dataclass(frozen=True)
class Deviation:
    name: str
    count: int
    pid: int
    comm: str
    action: str


@dataclass
class AuditResult:
    exit_code: int
    deviations: list[Deviation]
    foreign_arches: dict[str, tuple[int, str]]  # arch not in the profile -> first (pid, comm)


def audit(cmd: Sequence[str], profile: Profile) -> AuditResult:
    """Run ``cmd`` unrestricted under strace, tracing only the syscalls the profile would not permit."""
    native = libseccomp.native_arch()
    if profile.default_permits:
        run = run_traced(cmd, native=native, only_outside=profile.restricted_names())
    else:
        run = run_traced(cmd, native=native, everything_but=profile.allowed_names())
    counts = run.observed.counts()
    devs = [
        Deviation(n, c, *run.observed.first[n], profile.action_for(n))
        for n, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if not profile.allows(n)
    ]
    listed = set(profile.architectures) | {native}
    foreign = {a: run.observed.arch_first[a] for a in run.observed.by_arch if a not in listed}
    return AuditResult(run.exit_code, devs, foreign)


def render_audit(result: AuditResult, *, source: str) -> str:
    if not result.deviations and not result.foreign_arches:
        return f"kubecis seccomp audit: no syscalls outside {source}\n"
    lines = [f"kubecis seccomp audit: {len(result.deviations)} syscall(s) outside {source} "
             "(not blocked in audit mode):"]
    width = max((len(d.name) for d in result.deviations), default=8)
    for d in result.deviations:
        lines.append(f"  {d.name:<{width}}  {d.count:>6}x  first: pid {d.pid} ({d.comm or '?'})  "
                     f"enforce would: {d.action}")
    for arch, (pid, comm) in sorted(result.foreign_arches.items()):
        lines.append(f"  architecture {arch} not in the profile: first pid {pid} ({comm or '?'}); "
                     "enforce would kill it")
    return "\n".join(lines) + "\n"


def print_audit(result: AuditResult, *, source: str) -> None:
    sys.stderr.write(render_audit(result, source=source))
    sys.stderr.flush()
