"""learn / enforce / audit: the orchestration between the pure model, strace and libseccomp."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from kubecis.seccomp import launch, libseccomp
from kubecis.seccomp.base import RUNTIME_BASE_SET
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, allow_profile, merge
from kubecis.seccomp.trace import Observed, run_traced


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
    profile = syscall_profile(run.observed, native)
    if base is not None:
        profile = merge(base, profile)
    libseccomp.validate_names(profile, source="learned profile")
    return LearnResult(run.exit_code, profile, run.observed, run.timed_out)


def syscall_profile(observed: Observed, native: str) -> Profile:
    """The allow-list profile for what was observed, plus the runtime base set."""
    names = observed.names() | RUNTIME_BASE_SET
    for n in sorted(names):
        if not libseccomp.syscall_known(n):
            raise SeccompError(f"strace reported syscall {n!r}, which libseccomp does not know; "
                               "profile not written")
    return allow_profile(names, {native, *observed.by_arch})


AUDIT_HINT = "run it with --mode audit to see what it needs"


def check_enforceable(profile: Profile, *, source: str) -> None:
    """Refuse profiles that cannot do what enforce promises: one that confines nothing, one that denies the
    exec every command starts with."""
    if profile.confines_nothing:
        raise SeccompError(
            f"{source}: defaultAction {profile.default_action} with no rule restricting a syscall: this profile "
            "allows every syscall, so enforcing it would run the command unconfined; refusing"
        )
    if not profile.allows("execve"):
        raise SeccompError(
            f"{source}: execve is not allowed (action {profile.action_for('execve')}): no command can start under "
            f"this profile (the runtime base set includes it); {AUDIT_HINT}"
        )


def enforce(cmd: Sequence[str], profile: Profile, *, source: str = "the profile") -> int:
    """Run ``cmd`` with the profile installed in the child right before exec; returns its exit code."""
    check_enforceable(profile, source=source)
    compiled = libseccomp.compile_profile(profile)
    child = launch.start(cmd, [launch.no_new_privs_step(), compiled.install_step()],
                         what=f"the seccomp profile {source}", hint=AUDIT_HINT)
    rc = child.wait()
    if rc == 128 + signal.SIGSYS and profile_kills(profile):
        sys.stderr.write(f"kubecis seccomp: {cmd[0]} was killed by SIGSYS: the profile's filter kills a syscall "
                         f"it made; {AUDIT_HINT}\n")
    return rc


def profile_kills(profile: Profile) -> bool:
    """True if some syscall would end in SIGSYS (KILL*/TRAP as the default or a rule's action)."""
    killing = ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP")
    return profile.default_action in killing or any(r.action in killing for r in profile.rules)


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
