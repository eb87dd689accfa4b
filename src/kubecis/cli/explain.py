"""`kubecis explain`: every decision a run would make, without running an audit."""

from __future__ import annotations

import argparse

from kubecis.cli import args as a
from kubecis.cli.common import echo


def build(p: argparse.ArgumentParser, name: str) -> None:
    p.description = ("Print the benchmark choice, node-role detection and every discovered binary and file, with "
                     "reasons, without running a single audit.")
    a.add_selection(p)
    a.add_host(p)
    a.add_objects(p)
    p.add_argument("--candidates-only", action="store_true",
                   help="use kube-bench's candidate rule only (ignore command-line paths)")
    p.set_defaults(handler=explain)


def explain(ns: argparse.Namespace) -> int:
    from kubecis.benchmark.variables import describe
    from kubecis.cli.common import build_host, resolve_config_dir
    from kubecis.engine import PlanRequest, make_plan
    from kubecis.results.runner import parse_id_list

    host, live = build_host(root=ns.root, snapshot=ns.snapshot)
    cfg_dir = resolve_config_dir(ns.config_dir)
    plan = make_plan(
        PlanRequest(cfg_dir, ns.benchmark, ns.version, tuple(parse_id_list(ns.targets)),
                    use_cmdline_paths=not ns.candidates_only, allow_tools=live),
        host,
    )
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
