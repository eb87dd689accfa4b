"""`kubecis seccomp`: learn, run, export, diff and show seccomp profiles."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kubecis.seccomp import export as export_mod
from kubecis.seccomp import groups, libseccomp, runner
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile, load, merge, write_atomic

app = typer.Typer(help="Learn seccomp profiles from observed syscalls: learn -> audit -> enforce.",
                  no_args_is_help=True)

_CMD_HELP = "The command to run, after '--'."


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


@app.command("learn", context_settings={"allow_interspersed_args": False})
def learn_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the profile (JSON).")],
    cmd: Annotated[list[str] | None, typer.Argument(help=_CMD_HELP, show_default=False)] = None,
    merge_with: Annotated[list[Path] | None, typer.Option(
        "--merge", help="Union the result with this existing profile (repeatable).")] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", min=0.0,
        help="Stop learning after S seconds: terminate the command, write the profile.")
    ] = None,
) -> None:
    """Run CMD under strace (following forks, threads and execs) and write the profile it needs."""
    base: Profile | None = None
    for m in merge_with or []:
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
    raise typer.Exit(0 if result.timed_out else result.exit_code)


class Mode(StrEnum):
    enforce = "enforce"
    audit = "audit"


@app.command("run", context_settings={"allow_interspersed_args": False})
def run_cmd(
    profile: Annotated[Path, typer.Option("--profile", "-p", help="The seccomp profile (JSON).")],
    cmd: Annotated[list[str] | None, typer.Argument(help=_CMD_HELP, show_default=False)] = None,
    mode: Annotated[Mode, typer.Option(
        "--mode", help="enforce: block what the profile denies; audit: block nothing, report deviations.")
    ] = Mode.enforce,
) -> None:
    """Run CMD under a profile (enforce) or against it (audit). CMD's exit code passes through."""
    prof = _profile(profile, warn=mode is not Mode.enforce)  # enforce refuses it outright
    if not cmd:
        raise SeccompError("missing command: give it after '--', e.g. kubecis seccomp run -p p.json -- CMD")
    if mode is Mode.enforce:
        raise typer.Exit(runner.enforce(cmd, prof, source=str(profile)))
    result = runner.audit(cmd, prof)
    runner.print_audit(result, source=str(profile))
    raise typer.Exit(result.exit_code)


class Format(StrEnum):
    k8s = "k8s"
    docker = "docker"


@app.command("export")
def export_cmd(
    profile: Annotated[Path, typer.Argument(help="The seccomp profile (JSON).")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="k8s: SPO SeccompProfile; docker: plain file.")
                   ] = Format.docker,
    name: Annotated[str | None, typer.Option("--name", help="metadata.name / file name (k8s).")] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="metadata.namespace (k8s).")
                         ] = "default",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
                      ] = None,
) -> None:
    """Print the profile for Docker/containerd/CRI-O or as a Kubernetes SeccompProfile."""
    prof = _profile(profile)
    if fmt is Format.docker:
        _emit(export_mod.docker(prof), output)
        return
    if not name:
        raise SeccompError("--format k8s needs --name NAME")
    _emit(export_mod.k8s(prof, name=name, namespace=namespace), output)


@app.command("diff")
def diff_cmd(
    a: Annotated[Path, typer.Argument(help="Old profile.")],
    b: Annotated[Path, typer.Argument(help="New profile.")],
    exit_code: Annotated[bool, typer.Option("--exit-code", help="Exit 1 if the profiles differ.")] = False,
) -> None:
    """Show what B allows that A does not (+) and vice versa (-), grouped."""
    d = groups.diff(_profile(a), _profile(b))
    sys.stdout.write(groups.render_diff(d, a=str(a), b=str(b)))
    if exit_code and not d.empty:
        raise typer.Exit(1)


@app.command("show")
def show_cmd(profile: Annotated[Path, typer.Argument(help="The seccomp profile (JSON).")]) -> None:
    """List what a profile allows, grouped: privileged, network, process, file, other."""
    sys.stdout.write(groups.render_show(_profile(profile), source=str(profile)))
