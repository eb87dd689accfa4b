"""`kubecis profile`: runtime profiles (syscalls, files, network): learn, run (audit/enforce), show, diff, export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kubecis.cli import args as a
from kubecis.cli.common import check_output_path
from kubecis.profile import export as export_mod
from kubecis.profile import model, review, runner
from kubecis.profile.errors import ProfileError
from kubecis.profile.model import RuntimeProfile
from kubecis.seccomp import export as seccomp_export
from kubecis.seccomp import libseccomp
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import write_atomic

_CMD_HELP = "the command to run, after '--'"
FORMATS = ("seccomp", "seccomp-k8s", "apparmor", "apparmor-k8s", "networkpolicy")


def _abi(value: str) -> int:
    if not value.isdigit() or int(value) > 64:
        raise argparse.ArgumentTypeError(f"not a Landlock ABI version: {value!r} (0 = no Landlock)")
    return int(value)


def build(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(title="commands", metavar="COMMAND", dest="subcommand")
    c = sub.add_parser(
        "learn", help="run a command under strace and write the profile of what it did",
        description="Run CMD under strace (forks, threads and execs followed) and write its runtime profile: "
                    "syscalls, files read/written/created/executed (generalised by the rules the profile lists) "
                    "and network endpoints. CMD's exit code passes through.")
    c.add_argument("--output", "-o", type=a.path_arg, required=True, metavar="FILE", help="where to write it (YAML)")
    c.add_argument("--merge", dest="merge_with", type=a.path_arg, action="append", default=[], metavar="FILE",
                   help="union the result with this existing profile (repeatable)")
    c.add_argument("--duration", type=a.positive_seconds(0.0), metavar="SECONDS",
                   help="stop learning after SECONDS: terminate the command, write the profile")
    c.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help=_CMD_HELP)
    c.set_defaults(handler=learn_cmd)

    c = sub.add_parser(
        "run", help="run a command confined by a profile (enforce) or checked against it (audit)",
        description="enforce: Landlock (files, TCP ports) and seccomp (syscalls, socket kinds) installed in the "
                    "child right before exec; refuses when this kernel cannot enforce the profile as written "
                    "(--best-effort runs anyway, saying what is not enforced). audit: blocks nothing, reports "
                    "every deviation (what, which process, first time, count) at the end. CMD's exit code "
                    "passes through.")
    c.add_argument("--profile", "-p", type=a.path_arg, required=True, metavar="FILE", help="the profile (YAML)")
    c.add_argument("--mode", choices=("enforce", "audit"), default="enforce",
                   help="enforce: block what the profile does not allow; audit: block nothing, report")
    c.add_argument("--report", type=a.path_arg, metavar="FILE", help="audit: also write the deviations as JSON")
    c.add_argument("--best-effort", action="store_true",
                   help="enforce what this kernel can even when some rules cannot be enforced")
    c.add_argument("--landlock-abi", type=_abi, metavar="N",
                   help="use at most Landlock ABI N (as on an older kernel; 0 = no Landlock)")
    c.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help=_CMD_HELP)
    c.set_defaults(handler=run_cmd)

    c = sub.add_parser("show", help="list a profile's sections and how this kernel would enforce them",
                       description="List the profile: how it was learned, the generalisation rules, files, "
                                   "network, syscalls (grouped), and what Landlock on this kernel enforces "
                                   "exactly, more coarsely, or not at all.")
    c.add_argument("profile", type=a.path_arg, metavar="PROFILE", help="the profile (YAML)")
    c.add_argument("--landlock-abi", type=_abi, metavar="N", help="plan for at most Landlock ABI N")
    c.set_defaults(handler=show_cmd)

    c = sub.add_parser("diff", help="what B allows that A does not (+), and vice versa (-), per section",
                       description="What B allows that A does not (+) and vice versa (-), per section.")
    c.add_argument("a", type=a.path_arg, metavar="A", help="old profile")
    c.add_argument("b", type=a.path_arg, metavar="B", help="new profile")
    c.add_argument("--exit-code", action="store_true", help="exit 1 if the profiles differ")
    c.set_defaults(handler=diff_cmd)

    c = sub.add_parser(
        "export", help="print a part of the profile for a runtime or Kubernetes",
        description="seccomp: the OCI profile (docker/containerd/CRI-O); seccomp-k8s: a SeccompProfile; "
                    "apparmor: an AppArmor profile; apparmor-k8s: an AppArmorProfile (security-profiles-operator); "
                    "networkpolicy: a NetworkPolicy suggestion for the pod's labels.")
    c.add_argument("profile", type=a.path_arg, metavar="PROFILE", help="the profile (YAML)")
    c.add_argument("--format", "-f", dest="fmt", choices=FORMATS, required=True, help="what to print")
    c.add_argument("--name", help="metadata.name / AppArmor profile name")
    c.add_argument("--namespace", "-n", default="default", help="metadata.namespace")
    c.add_argument("--label", "-l", action="append", default=[], metavar="KEY=VALUE",
                   help="networkpolicy: a label of the pod (repeatable)")
    c.add_argument("--output", "-o", type=a.path_arg, metavar="FILE", help="write here instead of stdout")
    c.set_defaults(handler=export_cmd)


def _load(path: Path) -> RuntimeProfile:
    prof = model.load(path)
    try:
        libseccomp.validate_names(prof.seccomp, source=f"{path}: seccomp")
    except SeccompError as e:
        raise ProfileError(str(e)) from None
    return prof


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)


def learn_cmd(ns: argparse.Namespace) -> int:
    output: Path = ns.output
    cmd = a.command_after_dashdash(ns.cmd)
    base: RuntimeProfile | None = None
    for m in ns.merge_with:
        p = _load(m)
        base = p if base is None else model.merge(base, p)
    check_output_path(output, "--output")
    if not cmd:
        raise ProfileError("missing command: give it after '--', e.g. kubecis profile learn -o p.yaml -- CMD")
    result = runner.learn(cmd, duration=ns.duration, base=base)
    write_atomic(output, result.profile.to_yaml())
    f, net = result.profile.files, result.profile.network
    nfiles = sum(len(f.get(acc)) for acc in model.FILE_ACCESS)
    neps = sum(len(net.get(p, op)) for p, ops in model.NET_SECTIONS.items() for op in ops)
    how = f"stopped after {ns.duration:g}s" if result.timed_out else f"command exited {result.exit_code}"
    sys.stderr.write(f"kubecis profile learn: wrote {output} ({len(result.profile.seccomp.allowed_names())} "
                     f"syscalls, {nfiles} file rules, {neps} network endpoints; {how}); review it with "
                     f"'kubecis profile show {output}'\n")
    return 0 if result.timed_out else result.exit_code


def run_cmd(ns: argparse.Namespace) -> int:
    path: Path = ns.profile
    cmd = a.command_after_dashdash(ns.cmd)
    prof = _load(path)
    if ns.report is not None:
        if ns.mode != "audit":
            raise ProfileError("--report is for --mode audit (enforce blocks instead of reporting)")
        check_output_path(ns.report, "--report")
    if ns.mode == "enforce":
        return runner.enforce(cmd, prof, source=str(path), best_effort=ns.best_effort, abi_cap=ns.landlock_abi)
    result = runner.audit(cmd, prof, abi_cap=ns.landlock_abi)
    sys.stderr.write(runner.render_audit(result, source=str(path)))
    if ns.report is not None:
        write_atomic(ns.report, result.to_json(source=str(path)))
    return result.exit_code


def show_cmd(ns: argparse.Namespace) -> int:
    prof = _load(ns.profile)
    plan = runner.current_plan(prof, abi_cap=ns.landlock_abi)
    sock = prof.seccomp.allows("socket") and runner.socket_filter_possible(prof)
    sys.stdout.write(review.render_show(prof, source=str(ns.profile), plan=plan, socket_filter=sock))
    return 0


def diff_cmd(ns: argparse.Namespace) -> int:
    d = review.diff(_load(ns.a), _load(ns.b))
    sys.stdout.write(review.render_diff(d, a=str(ns.a), b=str(ns.b)))
    return 1 if ns.exit_code and not d.empty else 0


def export_cmd(ns: argparse.Namespace) -> int:
    prof = _load(ns.profile)
    if ns.output is not None:
        check_output_path(ns.output, "--output")
    fmt: str = ns.fmt
    if fmt == "seccomp":
        _emit(seccomp_export.docker(prof.seccomp), ns.output)
        return 0
    if not ns.name:
        raise ProfileError(f"--format {fmt} needs --name NAME")
    if fmt == "seccomp-k8s":
        text = seccomp_export.k8s(prof.seccomp, name=ns.name, namespace=ns.namespace)
    elif fmt == "apparmor":
        text = export_mod.apparmor(prof, name=ns.name)
    elif fmt == "apparmor-k8s":
        text = export_mod.spo_apparmor_yaml(prof, name=ns.name, namespace=ns.namespace)
    else:
        labels = export_mod.parse_labels(ns.label)
        text = export_mod.network_policy_yaml(prof, name=ns.name, namespace=ns.namespace, labels=labels)
    _emit(text, ns.output)
    return 0
