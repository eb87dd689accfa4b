"""`kubecis explain`: every decision a run would make, without running an audit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubecis.benchmark.variables import describe
from kubecis.cli.common import build_host, resolve_config_dir
from kubecis.engine import PlanRequest, make_plan
from kubecis.results.runner import parse_id_list


def explain(
    targets: Annotated[str, typer.Option("--targets", "-s", help="Comma-separated targets (default: detect).")] = "",
    config_dir: Annotated[Path | None, typer.Option("--config-dir", "-D", help="Benchmark definitions root.")] = None,
    benchmark: Annotated[str, typer.Option("--benchmark", help="Benchmark name.")] = "",
    version: Annotated[str, typer.Option("--version", envvar="KUBE_BENCH_VERSION",
                                         help="Kubernetes version X.Y.")] = "",
    root: Annotated[Path | None, typer.Option("--root", help="A node mounted at this directory.")] = None,
    snapshot: Annotated[Path | None, typer.Option("--snapshot", help="A recorded snapshot.")] = None,
    candidates_only: Annotated[bool, typer.Option(
        "--candidates-only", help="Use kube-bench's candidate rule only (ignore command-line paths).")] = False,
) -> int:
    """Print the benchmark choice, node-role detection and every discovered binary and file, with reasons."""
    host, live = build_host(root=root, snapshot=snapshot)
    cfg_dir = resolve_config_dir(config_dir)
    plan = make_plan(
        PlanRequest(cfg_dir, benchmark, version, tuple(parse_id_list(targets)),
                    use_cmdline_paths=not candidates_only, allow_tools=live),
        host,
    )
    out = typer.echo
    out(f"host: {host.name}")
    out(f"config dir: {cfg_dir}")
    out("benchmark:")
    for step in plan.selection.steps:
        out(f"  - {step}")
    for warning in plan.selection.warnings:
        out(f"  - warning: {warning}")
    out(f"  => {plan.selection.benchmark} (detected_version: {plan.selection.detected_version})")
    out("targets:")
    for note in plan.notes:
        out(f"  - {note}")
    out(f"  => {', '.join(t.target for t in plan.targets)}")
    for tp in plan.targets:
        out("")
        out(f"[{tp.target}] {tp.path} ({len(tp.controls.checks())} checks)")
        for line in describe(tp.discovery):
            out(f"  {line}")
        for d in tp.diagnostics:
            out(f"  warning: {d}")
    return 0
