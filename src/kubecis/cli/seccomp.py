"""`kubecis seccomp`: learn, run, export, diff and show seccomp profiles."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kubecis.cli import args as a
from kubecis.seccomp import export as export_mod
from kubecis.seccomp import groups, libseccomp, runner
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, load, merge, write_atomic

_CMD_HELP = "the command to run, after '--'"


def build(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")
    c = sub.add_parser("learn", help="run a command under strace and write the profile it needs",
                       description="Run CMD under strace (following forks, threads and execs) and write the "
                                   "profile it needs. CMD's exit code passes through.")
    c.add_argument("--output", "-o", type=a.path_arg, required=True, metavar="FILE",
                   help="where to write the profile (JSON)")
    c.add_argument("--merge", dest="merge_with", type=a.path_arg, action="append", default=[], metavar="FILE",
                   help="union the result with this existing profile (repeatable)")
    c.add_argument("--duration", type=a.positive_seconds(0.0), metavar="SECONDS",
                   help="stop learning after SECONDS: terminate the command, write the profile")
    c.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help=_CMD_HELP)
    c.set_defaults(handler=learn_cmd)
    c = sub.add_parser("run", help="run a command under a profile (enforce) or against it (audit)",
                       description="Run CMD under a profile (enforce) or against it (audit). CMD's exit code "
                                   "passes through.")
    c.add_argument("--profile", "-p", type=a.path_arg, required=True, metavar="FILE", help="the seccomp profile (JSON)")
    c.add_argument("--mode", choices=("enforce", "audit"), default="enforce",
                   help="enforce: block what the profile denies; audit: block nothing, report deviations")
    c.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help=_CMD_HELP)
    c.set_defaults(handler=run_cmd)
    c = sub.add_parser("export", help="print the profile for Docker/containerd/CRI-O or as a SeccompProfile",
                       description="Print the profile for Docker/containerd/CRI-O or as a Kubernetes "
                                   "SeccompProfile (security-profiles-operator).")
    c.add_argument("profile", type=a.path_arg, metavar="PROFILE", help="the seccomp profile (JSON)")
    c.add_argument("--format", "-f", dest="fmt", choices=("k8s", "docker"), default="docker",
                   help="k8s: SPO SeccompProfile; docker: plain file")
    c.add_argument("--name", help="metadata.name / file name (k8s)")
    c.add_argument("--namespace", "-n", default="default", help="metadata.namespace (k8s)")
    c.add_argument("--output", "-o", type=a.path_arg, metavar="FILE", help="write here instead of stdout")
    c.set_defaults(handler=export_cmd)
    c = sub.add_parser("diff", help="show what B allows that A does not, and vice versa",
                       description="Show what B allows that A does not (+) and vice versa (-), grouped.")
    c.add_argument("a", type=a.path_arg, metavar="A", help="old profile")
    c.add_argument("b", type=a.path_arg, metavar="B", help="new profile")
    c.add_argument("--exit-code", action="store_true", help="exit 1 if the profiles differ")
    c.set_defaults(handler=diff_cmd)
    c = sub.add_parser("show", help="list what a profile allows, grouped",
                       description="List what a profile allows, grouped: privileged, network, process, file, other.")
    c.add_argument("profile", type=a.path_arg, metavar="PROFILE", help="the seccomp profile (JSON)")
    c.set_defaults(handler=show_cmd)


def _profile(path: Path, *, warn: bool = True) -> Profile:
    """Load a profile and check every name with libseccomp (one clear error otherwise); say loudly when it
    confines nothing."""
    prof = load(path)
    libseccomp.validate_names(prof, source=str(path))
    if warn and prof.confines_nothing:
        sys.stderr.write(f"kubecis seccomp: warning: {path} allows every syscall "
                         f"(defaultAction {prof.default_action}, no rule restricts one): it confines nothing\n")
    return prof


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)


def _check_output_dir(output: Path) -> None:
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise SeccompError(f"cannot write {output}: directory {parent} does not exist")
    if output.is_dir():
        raise SeccompError(f"cannot write {output}: is a directory")
    if not os.access(parent, os.W_OK):
        raise SeccompError(f"cannot write {output}: directory {parent} is not writable")


def learn_cmd(ns: argparse.Namespace) -> int:
    """Run CMD under strace (following forks, threads and execs) and write the profile it needs."""
    output: Path = ns.output
    duration: float | None = ns.duration
    cmd = a.command_after_dashdash(ns.cmd)
    base: Profile | None = None
    for m in ns.merge_with:
        p = _profile(m)
        base = p if base is None else merge(base, p)
    _check_output_dir(output)
    result = runner.learn(cmd or [], duration=duration, base=base)
    write_atomic(output, result.profile.to_json())
    n = len(result.profile.allowed_names())
    how = f"stopped after {duration:g}s" if result.timed_out else f"command exited {result.exit_code}"
    sys.stderr.write(f"kubecis seccomp learn: wrote {output} ({n} syscalls allowed, "
                     f"{', '.join(result.profile.architectures)}; {how})\n")
    for name, count in sorted(result.observed.unknown.items()):
        sys.stderr.write(f"kubecis seccomp learn: warning: {count}x unnamed syscall {name} "
                         "left out (it stays denied)\n")
    return 0 if result.timed_out else result.exit_code


def run_cmd(ns: argparse.Namespace) -> int:
    """Run CMD under a profile (enforce) or against it (audit). CMD's exit code passes through."""
    profile: Path = ns.profile
    cmd = a.command_after_dashdash(ns.cmd)
    prof = _profile(profile, warn=ns.mode != "enforce")  # enforce refuses it outright
    if not cmd:
        raise SeccompError("missing command: give it after '--', e.g. kubecis seccomp run -p p.json -- CMD")
    if ns.mode == "enforce":
        return runner.enforce(cmd, prof, source=str(profile))
    result = runner.audit(cmd, prof)
    runner.print_audit(result, source=str(profile))
    return result.exit_code


def export_cmd(ns: argparse.Namespace) -> int:
    """Print the profile for Docker/containerd/CRI-O or as a Kubernetes SeccompProfile."""
    prof = _profile(ns.profile)
    if ns.fmt == "docker":
        _emit(export_mod.docker(prof), ns.output)
        return 0
    if not ns.name:
        raise SeccompError("--format k8s needs --name NAME")
    _emit(export_mod.k8s(prof, name=ns.name, namespace=ns.namespace), ns.output)
    return 0


def diff_cmd(ns: argparse.Namespace) -> int:
    """Show what B allows that A does not (+) and vice versa (-), grouped."""
    d = groups.diff(_profile(ns.a), _profile(ns.b))
    sys.stdout.write(groups.render_diff(d, a=str(ns.a), b=str(ns.b)))
    return 1 if ns.exit_code and not d.empty else 0


def show_cmd(ns: argparse.Namespace) -> int:
    """List what a profile allows, grouped: privileged, network, process, file, other."""
    sys.stdout.write(groups.render_show(_profile(ns.profile), source=str(ns.profile)))
    return 0
