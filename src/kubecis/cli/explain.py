"""`kubecis explain`: every decision a run would make, without running an audit."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kubecis.cli import args as a
from kubecis.cli.common import echo

if TYPE_CHECKING:
    from kubecis.benchmark.versions import VersionNotDetected
    from kubecis.host.base import Host


def build(p: argparse.ArgumentParser, name: str) -> None:
    p.description = ("Print the benchmark choice, node-role detection and every discovered binary and file, with "
                     "reasons, without running a single audit.")
    a.add_selection(p)
    a.add_config_file(p)
    a.add_host(p)
    a.add_objects(p)
    p.add_argument("--candidates-only", action="store_true",
                   help="use kube-bench's candidate rule only (ignore command-line paths)")
    p.set_defaults(handler=explain)


def explain(ns: argparse.Namespace) -> int:
    from kubecis.benchmark.variables import describe
    from kubecis.benchmark.versions import VersionNotDetected
    from kubecis.cli.common import build_host, resolve_config_dir
    from kubecis.engine import PlanRequest, make_plan
    from kubecis.results.runner import parse_id_list

    host, live = build_host(root=ns.root, snapshot=ns.snapshot)
    cfg_dir = resolve_config_dir(ns.config_dir)
    out = echo
    out(f"host: {host.name}")
    if ns.objects is not None:
        from kubecis.cli.common import load_objects
        from kubecis.policies.objects import ObjectsCluster

        objects = load_objects(ns.objects)
        assert isinstance(objects, ObjectsCluster)
        kinds = sorted(f"{k.kind} {len(k.entries)}" for k in objects.store.kinds.values())
        out(f"objects: {ns.objects} ({objects.store.count} objects: {', '.join(kinds)})")
    out(f"config dir: {cfg_dir}")
    if ns.config_file is not None:
        out(f"config file: {ns.config_file}")
    try:
        plan = make_plan(
            PlanRequest(cfg_dir, ns.benchmark, ns.version, tuple(parse_id_list(ns.targets)),
                        use_cmdline_paths=not ns.candidates_only, allow_tools=live, config_file=ns.config_file),
            host,
        )
    except VersionNotDetected as e:
        _explain_without_benchmark(e, cfg_dir, host, use_cmdline=not ns.candidates_only, config_file=ns.config_file)
        raise
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


def _explain_without_benchmark(e: VersionNotDetected, cfg_dir: Path, host: Host, *, use_cmdline: bool,
                               config_file: Path | None = None) -> None:
    """What can be decided without a benchmark: what version detection tried, the roles and the paths that the
    global config alone determines. The caller then fails with the error (exit 1) and what to pass."""
    from kubecis.benchmark.config import Config
    from kubecis.benchmark.variables import describe
    from kubecis.discovery import discover
    from kubecis.engine import NODE_SECTIONS, NOT_A_NODE, node_evidence, role_running
    from kubecis.errors import HostError

    config = Config.load(cfg_dir, config_file)
    echo("benchmark:")
    for step in e.steps:
        echo(f"  - {step}" if not step.startswith("  ") else f"  {step}")
    echo("  => none: the Kubernetes version was not given and could not be detected")
    echo("roles (from the global config; a benchmark's own config may change them):")
    for name in ("master", "etcd"):
        try:
            _, why = role_running(config, name, host)
        except HostError as err:
            why = f"{name}: cannot tell ({err})"
        echo(f"  - {why}")
    evidence = node_evidence(config, host)
    echo("node:")
    if evidence:
        for item in evidence:
            echo(f"  - {item}")
    else:
        echo(f"  - {NOT_A_NODE}")
    for name in NODE_SECTIONS:
        section = config.section(name)
        if section is None:
            continue
        echo("")
        echo(f"[{name}] discovery without a benchmark")
        try:
            d = discover(section, host, use_cmdline=use_cmdline)
        except HostError as err:
            echo(f"  cannot discover: {err}")
            continue
        for line in describe(d):
            echo(f"  {line}")
    echo("")
