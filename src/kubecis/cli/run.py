"""`kubecis run` (and the `master` / `node` shortcuts): kube-bench's run, with kube-bench's flags."""

from __future__ import annotations

import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kubecis.audit.dispatch import ALLOW_SHELL_HINT
from kubecis.cli.common import build_host, check_output_path, make_executor, resolve_config_dir
from kubecis.engine import PlanRequest, make_plan, run_plan
from kubecis.errors import OutputError, UsageError
from kubecis.report import ReportOptions, color_enabled, render
from kubecis.results.runner import Filters, parse_id_list


class ExecutorChoice(StrEnum):
    auto = "auto"
    native = "native"
    shell = "shell"


class Discovery(StrEnum):
    process = "process"
    candidates = "candidates"


ConfigDirOpt = Annotated[
    Path | None,
    typer.Option("--config-dir", "-D", help="Root of kube-bench style benchmark directories (holds config.yaml)."),
]
BenchmarkOpt = Annotated[str, typer.Option("--benchmark", help="Benchmark to run, e.g. cis-1.12 (no mapping).")]
VersionOpt = Annotated[
    str,
    typer.Option("--version", envvar="KUBE_BENCH_VERSION",
                 help="Kubernetes version X.Y, mapped to a benchmark (env KUBE_BENCH_VERSION)."),
]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file + rename: never a half-written report."""
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as e:
        raise OutputError(f"--outputfile {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"--outputfile {path}: {e.strerror or e}") from None


def notice(line: str) -> None:
    """One line on stderr, at once (it announces something that is about to happen)."""
    sys.stderr.write(f"kubecis: {line}\n")
    sys.stderr.flush()


def do_run(
    *,
    targets: tuple[str, ...],
    config_dir: Path | None,
    benchmark: str,
    version: str,
    check: str,
    group: str,
    skip: str,
    scored: bool,
    unscored: bool,
    json_out: bool,
    junit_out: bool,
    outputfile: Path | None,
    noremediations: bool,
    noresults: bool,
    nosummary: bool,
    nototals: bool,
    include_test_output: bool,
    exit_code: int,
    executor: ExecutorChoice,
    allow_shell: bool,
    root: Path | None,
    snapshot: Path | None,
    timeout: float,
    discovery: Discovery,
) -> int:
    filters = Filters(
        checks=tuple(parse_id_list(check)),
        groups=tuple(parse_id_list(group)),
        skip=tuple(parse_id_list(skip)) if skip else (),
        scored=scored,
        unscored=unscored,
    )
    if outputfile is not None:
        check_output_path(outputfile)
    host, live = build_host(root=root, snapshot=snapshot)
    cfg_dir = resolve_config_dir(config_dir)
    plan = make_plan(
        PlanRequest(
            config_dir=cfg_dir,
            benchmark=benchmark,
            version=version,
            targets=targets,
            use_cmdline_paths=discovery is Discovery.process,
            allow_tools=live and executor is not ExecutorChoice.native,
        ),
        host,
    )
    for warning in plan.selection.warnings:
        sys.stderr.write(f"kubecis: warning: {warning}\n")
    ex = make_executor(executor.value, host, live=live, timeout=timeout, allow_shell=allow_shell,
                       notify=notice)
    if executor is ExecutorChoice.shell:
        notice("--executor shell: every audit runs through /bin/sh")
    result = run_plan(plan, ex, filters)
    fmt = "junit" if junit_out else "json" if json_out else "text"
    options = ReportOptions(
        no_results=noresults,
        no_remediations=noremediations,
        no_summary=nosummary,
        no_totals=nototals,
        include_test_output=include_test_output,
        color=fmt == "text" and outputfile is None and color_enabled(sys.stdout),
    )
    text = render(fmt, result, options)
    if outputfile is not None:
        write_atomic(outputfile, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    checks = [c for cr in result.controls for g in cr.groups for c in g.checks]
    if allow_shell:
        via_shell = [c.id for c in checks if c.executor == "shell"]
        if via_shell:
            sys.stderr.write(f"kubecis: {len(via_shell)} checks ran through /bin/sh (audit not supported "
                             f"natively): {', '.join(via_shell)}\n")
    elif executor is ExecutorChoice.auto and live:
        declined = [c.id for c in checks if c.reason.endswith(ALLOW_SHELL_HINT)]
        if declined:
            sys.stderr.write(f"kubecis: {len(declined)} checks not run (audit not supported natively; "
                             f"{ALLOW_SHELL_HINT}): {', '.join(declined)}\n")
    if exit_code and result.totals.fail > 0:
        return exit_code
    return 0


def register(app: typer.Typer) -> None:
    """Add `run`, `master` and `node` to the app."""

    def make(name: str, fixed_targets: tuple[str, ...] | None, help_text: str) -> None:
        @app.command(name, help=help_text)
        def _cmd(
            targets: Annotated[
                str,
                typer.Option("--targets", "-s",
                             help="Comma-separated targets (master,controlplane,etcd,node,policies,"
                                  "managedservices). Default: detect the node's roles like kube-bench."),
            ] = "",
            config_dir: ConfigDirOpt = None,
            benchmark: BenchmarkOpt = "",
            version: VersionOpt = "",
            check: Annotated[str, typer.Option("--check", "-c", help="Only these check ids (comma-separated).")] = "",
            group: Annotated[str, typer.Option("--group", "-g", help="Only these group ids (comma-separated).")] = "",
            skip: Annotated[str, typer.Option("--skip", help="Check or group ids to skip (reported as INFO).")] = "",
            scored: Annotated[bool, typer.Option("--scored/--no-scored",
                                                 help="Include scored checks (--scored=false works too).")] = True,
            unscored: Annotated[bool, typer.Option("--unscored/--no-unscored",
                                                   help="Include unscored checks.")] = True,
            json_out: Annotated[bool, typer.Option("--json", help="kube-bench JSON output.")] = False,
            junit_out: Annotated[bool, typer.Option("--junit", help="JUnit XML output.")] = False,
            outputfile: Annotated[Path | None, typer.Option("--outputfile",
                                                            help="Write the report to this file (atomically).")] = None,
            noremediations: Annotated[bool, typer.Option("--noremediations",
                                                         help="Text: omit the remediations.")] = False,
            noresults: Annotated[bool, typer.Option("--noresults", help="Text: omit per-check lines.")] = False,
            nosummary: Annotated[bool, typer.Option("--nosummary", help="Text: omit per-target summaries.")] = False,
            nototals: Annotated[bool, typer.Option("--nototals",
                                                   help="Omit the total summary (JSON: bare array).")] = False,
            include_test_output: Annotated[bool, typer.Option(
                "--include-test-output", help="Text: print audit output under FAIL lines.")] = False,
            exit_code: Annotated[int, typer.Option("--exit-code", help="Exit status when any check FAILs.")] = 0,
            executor: Annotated[ExecutorChoice, typer.Option(
                "--executor",
                help="auto: native; audits it does not cover are WARN unless --allow-shell; "
                     "native: never start a process; shell: every audit through /bin/sh like kube-bench.")
            ] = ExecutorChoice.auto,
            allow_shell: Annotated[bool, typer.Option(
                "--allow-shell", help="With auto on this machine: run the audits the native interpreter does not "
                                      "cover through /bin/sh (each announced on stderr first).")] = False,
            root: Annotated[Path | None, typer.Option("--root",
                                                     help="Check a node mounted at this directory.")] = None,
            snapshot: Annotated[Path | None, typer.Option("--snapshot",
                                                          help="Replay a recorded snapshot file.")] = None,
            timeout: Annotated[float, typer.Option("--timeout", min=0.1,
                                                   help="Seconds before an audit is stopped (WARN).")] = 30.0,
            discovery: Annotated[Discovery, typer.Option(
                "--discovery",
                help="process: config paths named on a running component's command line win "
                     "(fixes kube-bench #1256); candidates: kube-bench's first-existing-candidate rule only.")
            ] = Discovery.process,
        ) -> int:
            if fixed_targets is not None and targets:
                raise UsageError(f"`kubecis {name}` runs {fixed_targets[0]} only; use `kubecis run --targets`")
            t = fixed_targets if fixed_targets is not None else tuple(parse_id_list(targets))
            return do_run(
                targets=t, config_dir=config_dir, benchmark=benchmark, version=version, check=check,
                group=group, skip=skip, scored=scored, unscored=unscored, json_out=json_out,
                junit_out=junit_out, outputfile=outputfile, noremediations=noremediations,
                noresults=noresults, nosummary=nosummary, nototals=nototals,
                include_test_output=include_test_output, exit_code=exit_code, executor=executor,
                allow_shell=allow_shell, root=root, snapshot=snapshot, timeout=timeout, discovery=discovery,
            )

    @app.command("demo")
    def demo(
        json_out: Annotated[bool, typer.Option("--json", help="kube-bench JSON output.")] = False,
    ) -> int:
        """Show a real report without a cluster: replay the bundled example node (same as `run --snapshot example`)."""
        from kubecis.benchmark.bundled import materialise

        return do_run(  # always the bundled definitions the example was recorded with, never ./cfg
            targets=(), config_dir=materialise(), benchmark="", version="", check="", group="", skip="", scored=True,
            unscored=True, json_out=json_out, junit_out=False, outputfile=None, noremediations=False,
            noresults=False, nosummary=False, nototals=False, include_test_output=False, exit_code=0,
            executor=ExecutorChoice.native, allow_shell=False, root=None, snapshot=Path("example"), timeout=30.0,
            discovery=Discovery.process,
        )

    make("run", None, "Run benchmark checks on this node (kube-bench's run; no --targets: detect roles).")
    make("master", ("master",), "Shortcut for `run --targets master`.")
    make("node", ("node",), "Shortcut for `run --targets node`.")
