"""learn / enforce / audit for runtime profiles: strace for observing, Landlock + seccomp for enforcing."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kubecis.profile import landlock, observe, paths, sockets
from kubecis.profile.errors import ProfileError
from kubecis.profile.model import (
    FILE_ACCESS,
    Endpoint,
    Files,
    Network,
    Run,
    RuntimeProfile,
    endpoint,
    merge,
)
from kubecis.seccomp import launch, libseccomp
from kubecis.seccomp import runner as seccomp_runner
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.libseccomp import CompiledFilter
from kubecis.seccomp.trace import check_started, strace_path, traced

AUDIT_HINT = "run it with --mode audit to see what it needs"


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tracer() -> str:
    try:
        out = subprocess.run([strace_path(), "-V"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "strace"
    first = out.splitlines()[0] if out else "strace"
    return first.replace("strace -- version", "strace").strip()


def _trace(cmd: Sequence[str], extra: Sequence[str], *, duration: float | None, syscall_events: bool,
           ) -> tuple[observe.Activity, int, bool, float, float]:
    native = libseccomp.native_arch()
    cwd = os.getcwd()
    start = time.time()
    with traced(cmd, observe.trace_args(extra), duration=duration) as (rc, timed_out, out), \
            open(out, encoding="utf-8", errors="surrogateescape") as f:
        act = observe.parse(f, native=native, cwd=cwd, exec_name=os.path.basename(cmd[0]),
                            syscall_events=syscall_events)
    check_started(cmd, act.syscalls, rc)
    observe.resolve_creations(act, since=start)
    observe.reclassify_directories(act)
    return act, rc, timed_out, start, time.time() - start


# ---- learn -------------------------------------------------------------------------------------------


@dataclass
class LearnResult:
    profile: RuntimeProfile
    exit_code: int
    timed_out: bool
    activity: observe.Activity


def _network(act: observe.Activity) -> Network:
    def eps(kind: str, op: str) -> tuple[Endpoint, ...]:
        found = sorted({obj for (k, o, obj) in act.events if k == kind and o == op})
        out: list[Endpoint] = []
        for text in found:
            out.append(endpoint(text, kind, where=f"observed {kind} {op}"))
        return tuple(out)

    return Network(
        tcp_connect=eps("tcp", "connect"), tcp_bind=eps("tcp", "bind"),
        udp_send=eps("udp", "send"), udp_bind=eps("udp", "bind"),
        unix_connect=eps("unix", "connect"), unix_bind=eps("unix", "bind"),
        sockets=tuple(sorted({obj for (k, _, obj) in act.events if k == "socket"})),
    )


def profile_from(act: observe.Activity, run: Run) -> RuntimeProfile:
    """The profile a traced run implies (generalised as :data:`paths.GENERALISATION` says)."""
    native = libseccomp.native_arch()
    sec = seccomp_runner.syscall_profile(act.syscalls, native)
    libseccomp.validate_names(sec, source="learned profile")
    creates = act.paths("create")
    tmpfile_dirs = {p for p in creates if p.endswith("/*")}
    obs = paths.Observed(
        read=act.paths("read"), listed=act.paths("list"), write=act.paths("write"),
        create=creates - tmpfile_dirs, remove=act.paths("remove"),
        execute=observe.executed_programs(act),
    )
    rules = paths.generalise(obs)
    if tmpfile_dirs:  # O_TMPFILE: an unnamed file in that directory
        extra = [paths.parse_rule(p, where="observed O_TMPFILE") for p in tmpfile_dirs]
        rules["create"] = paths.simplify([*rules["create"], *extra])
    files = Files(**{acc: rules[acc] for acc in FILE_ACCESS})
    return RuntimeProfile(sec, files, _network(act), (run,), paths.GENERALISATION)


def learn(cmd: Sequence[str], *, duration: float | None = None, base: RuntimeProfile | None = None) -> LearnResult:
    """Run ``cmd`` under strace and build its profile (merged with ``base``)."""
    act, rc, timed_out, start, seconds = _trace(cmd, [], duration=duration, syscall_events=False)
    ended = f"stopped after {duration:g}s" if timed_out and duration is not None else f"exit {rc}"
    run = Run(tuple(cmd), _iso(start), seconds, ended, _tracer())
    prof = profile_from(act, run)
    if base is not None:
        prof = merge(base, prof)
    return LearnResult(prof, rc, timed_out, act)


# ---- enforce ------------------------------------------------------------------------------------------


def current_plan(profile: RuntimeProfile, *, abi_cap: int | None = None) -> landlock.Plan:
    abi = landlock.kernel_abi()
    if abi_cap is not None:
        abi = min(abi, abi_cap)
    pl = landlock.plan(profile, abi)
    if profile.seccomp.allows("socket") and not socket_filter_possible(profile):
        pl.notes.append("socket kinds are not filtered (an unnamed socket family was learned, or this "
                        "architecture has no socket() syscall)")
    return pl


def socket_filter_possible(profile: RuntimeProfile) -> bool:
    return not any(k.startswith("other/") for k in profile.network.sockets) and bool(
        sockets.native_program(profile.network.sockets))


def check_enforceable(profile: RuntimeProfile, pl: landlock.Plan, *, source: str, best_effort: bool,
                      capped: bool = False) -> None:
    if not profile.seccomp.confines_nothing:  # an allow-all seccomp part is warned about, not refused:
        try:  # Landlock may still confine files and ports
            seccomp_runner.check_enforceable(profile.seccomp, source=f"{source}: seccomp")
        except SeccompError as e:
            raise ProfileError(str(e)) from None
    if pl.refusals and not best_effort:
        if capped:
            what = f"Landlock ABI {pl.abi}: --landlock-abi {pl.abi}" if pl.abi else "no Landlock: --landlock-abi 0"
        else:
            what = f"Landlock ABI {pl.abi}" if pl.abi else landlock.kernel_abi_reason()
        lines = [f"{source}: this kernel ({what}) cannot enforce every rule of the profile; refusing "
                 "(--best-effort enforces what it can)"]
        lines += [f"cannot enforce: {m}" for m in pl.missing]
        lines += [f"conflict: {c}" for c in pl.conflicts]
        raise ProfileError("\n".join(lines))


def enforce(cmd: Sequence[str], profile: RuntimeProfile, *, source: str, best_effort: bool = False,
            abi_cap: int | None = None, quiet: bool = False) -> int:
    """Run ``cmd`` confined by Landlock (files, TCP ports) and seccomp (syscalls, socket kinds)."""
    if not cmd:
        raise ProfileError("missing command: give it after '--', e.g. kubecis profile run -p p.yaml -- CMD")
    pl = current_plan(profile, abi_cap=abi_cap)
    capped = abi_cap is not None and abi_cap < landlock.kernel_abi()
    check_enforceable(profile, pl, source=source, best_effort=best_effort, capped=capped)
    if not quiet:
        lines = landlock.render_plan(pl, verbose=False)
        head = f"kubecis profile: enforcing {source}: seccomp ({len(profile.seccomp.allowed_names())} syscalls), "
        sys.stderr.write(head + lines[0] + "\n")
        for line in lines[1:]:
            sys.stderr.write(f"kubecis profile: {line.strip()}\n")
        coarse = sum(1 for s in pl.statuses if s.status != "exact")
        if coarse:
            sys.stderr.write(f"kubecis profile: {coarse} rule(s) enforced more coarsely than written; "
                             f"'kubecis profile show {source}' lists them\n")
        if pl.refusals:
            sys.stderr.write("kubecis profile: warning: --best-effort: running with fewer restrictions than the "
                             "profile states (listed above)\n")
    steps = [launch.no_new_privs_step()]
    ruleset = landlock.build(pl)
    if ruleset is not None:
        steps.append(ruleset.restrict_step())
    if profile.seccomp.confines_nothing:
        sys.stderr.write(f"kubecis profile: warning: the seccomp section of {source} allows every syscall: "
                         "no syscall filter\n")
    else:
        steps.append(libseccomp.compile_profile(profile.seccomp).install_step())
    if profile.seccomp.allows("socket") and socket_filter_possible(profile):
        steps.append(CompiledFilter(sockets.native_program(profile.network.sockets)).install_step())
    try:
        child = launch.start(cmd, steps, what=f"the profile {source}", hint=AUDIT_HINT)
    finally:
        if ruleset is not None:
            ruleset.close()
    rc = child.wait()
    if rc == 128 + signal.SIGSYS and seccomp_runner.profile_kills(profile.seccomp):
        sys.stderr.write(f"kubecis profile: {cmd[0]} was killed by SIGSYS: the profile's filter kills a syscall "
                         f"it made; {AUDIT_HINT}\n")
    return rc


# ---- audit --------------------------------------------------------------------------------------------


@dataclass
class Deviation:
    kind: str  # syscall | file | tcp | udp | unix | socket
    op: str
    obj: str
    count: int
    time: float
    pid: int
    comm: str
    exe: str
    tid: int
    blocked: bool  # would enforce block it?
    by: str  # what would block it / why not
    error: str  # the error enforce would return

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "op": self.op, "object": self.obj, "count": self.count,
            "first": {"time": _iso(self.time) if self.time else None, "pid": self.pid, "thread": self.tid,
                      "comm": self.comm, "exe": self.exe},
            "enforce": {"blocked": self.blocked, "by": self.by, "error": self.error},
        }


@dataclass
class AuditResult:
    exit_code: int
    deviations: list[Deviation]
    started: float
    seconds: float
    command: list[str] = field(default_factory=list)

    def to_json(self, *, source: str) -> str:
        doc = {
            "profile": source, "command": self.command, "exit_code": self.exit_code,
            "started": _iso(self.started), "seconds": round(self.seconds, 3),
            "deviations": [d.to_dict() for d in self.deviations],
        }
        return json.dumps(doc, indent=2) + "\n"


_CATEGORY = {"read": "read", "list": "read", "write": "write", "create": "create", "remove": "create",
             "execute": "execute"}
_FS_NEED = {"read": landlock.READ_FILE, "list": landlock.READ_DIR, "write": landlock.WRITE_FILE,
            "create": landlock.MAKE_REG, "remove": landlock.REMOVE_FILE, "execute": landlock.EXECUTE}


def _judge(profile: RuntimeProfile, pl: landlock.Plan, key: observe.Key, socket_filter: bool
           ) -> tuple[bool, bool, str, str] | None:
    """(deviates, would be blocked, by, error) for one event; None if it is within the profile."""
    kind, op, obj = key
    if kind == "syscall":
        if profile.seccomp.allows(op):
            return None
        action = profile.seccomp.action_for(op)
        err = {"SCMP_ACT_ERRNO": f"errno {profile.seccomp.default_errno_ret or 1}",
               "SCMP_ACT_LOG": "", "SCMP_ACT_ALLOW": ""}.get(action, "SIGSYS")
        return True, action not in ("SCMP_ACT_LOG", "SCMP_ACT_ALLOW"), f"seccomp {action}", err
    if kind == "file":
        category = _CATEGORY.get(op)
        if category is None or profile.files.allows(category, obj):
            return None
        need = _FS_NEED[op]
        if op == "create" and obj.endswith("/*"):
            obj = obj[:-2]
        if pl.fs_allows(obj, need):
            why = "Landlock ABI 0" if pl.abi <= 0 else "a coarser Landlock rule allows it"
            return True, False, why, ""
        return True, True, "Landlock", "EACCES"
    if kind in ("tcp", "udp", "unix"):
        try:
            ep = endpoint(obj, kind, where=f"observed {kind}")
        except ProfileError:  # e.g. a socket path with a newline: no rule can list it
            return True, kind == "unix" and op == "bind", "no rule can name it", ""
        if profile.network.allows(kind, op, ep):
            return None
        if kind == "tcp":
            if pl.tcp_allows(op, ep.port):
                return True, False, "Landlock cannot restrict TCP here" if pl.abi < 4 else \
                    "a coarser Landlock rule allows it", ""
            return True, True, "Landlock", "EACCES"
        if kind == "unix" and op == "connect" and obj.startswith("@") and pl.scoped:
            return True, True, "Landlock scope", "EPERM"
        if kind == "unix" and op == "bind" and not obj.startswith("@"):
            blocked = not pl.fs_allows(obj, landlock.MAKE_SOCK)
            return True, blocked, "Landlock" if blocked else "a coarser Landlock rule allows it", \
                "EACCES" if blocked else ""
        return True, False, f"nothing can restrict {kind} {op} by address here", ""
    if kind == "socket":
        if obj in profile.network.sockets:
            return None
        if not profile.seccomp.allows("socket"):
            return True, True, "seccomp", "socket() denied"
        if socket_filter:
            return True, True, "seccomp socket filter", "EACCES"
        return True, False, "socket kinds are not filtered for this profile", ""
    return None


def audit(cmd: Sequence[str], profile: RuntimeProfile, *, abi_cap: int | None = None) -> AuditResult:
    """Run ``cmd`` unrestricted under strace and compare everything it does with ``profile``."""
    if not cmd:
        raise ProfileError("missing command: give it after '--', e.g. kubecis profile run --mode audit -p p.yaml "
                           "-- CMD")
    sec = profile.seccomp
    if sec.default_permits:
        traced_names = set(observe.DECODED) | set(sec.restricted_names())
        extra = ["--seccomp-bpf", "-e", "trace=" + ",".join("?" + n for n in sorted(traced_names | {"execve"}))]
    else:
        quiet = sorted(set(sec.allowed_names()) - set(observe.DECODED) - {"execve"})
        extra = ["--seccomp-bpf", "-e", ("trace=!" + ",".join("?" + n for n in quiet)) if quiet else "trace=all"]
    act, rc, _, start, seconds = _trace(cmd, extra, duration=None, syscall_events=True)
    observe.resolve_executions(act)
    pl = current_plan(profile, abi_cap=abi_cap)
    socket_filter = socket_filter_possible(profile)
    devs: list[Deviation] = []
    for key, agg in act.events.items():
        verdict = _judge(profile, pl, key, socket_filter)
        if verdict is None:
            continue
        _, blocked, by, err = verdict
        devs.append(Deviation(key[0], key[1], key[2], agg.count, agg.ts, agg.pid, agg.comm,
                              act.exe.get(agg.pid, ""), agg.tid or agg.pid, blocked, by, err))
    devs.sort(key=lambda d: (d.time, d.kind, d.op, d.obj))
    return AuditResult(rc, devs, start, seconds, list(cmd))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """One line, no terminal control sequences: names of files a program created are data."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render_audit(result: AuditResult, *, source: str) -> str:
    if not result.deviations:
        return f"kubecis profile audit: nothing outside {source}\n"
    lines = [f"kubecis profile audit: {len(result.deviations)} deviation(s) from {source} (audit mode: nothing "
             "was blocked):"]
    for d in result.deviations:
        when = dt.datetime.fromtimestamp(d.time, tz=dt.UTC).strftime("%H:%M:%S.%f")[:-3] if d.time else "?"
        proc = _printable(f"pid {d.pid} ({d.comm or '?'}{', ' + d.exe if d.exe else ''})")
        if d.tid != d.pid:
            proc += f" thread {d.tid}"
        would = f"would be blocked: {d.error or 'denied'} ({d.by})" if d.blocked else f"would pass: {d.by}"
        what = f"syscall {d.op}" if d.kind == "syscall" else f"{d.kind} {d.op} {_printable(d.obj)}"
        lines.append(f"  {what}  {d.count}x  first {when}Z {proc}; {would}")
    return "\n".join(lines) + "\n"
