"""Plan and run a benchmark on one node: choose benchmark and targets, discover, substitute, run.

This is the glue between the layers (definitions → host → audit → evaluate →
results); it holds no format or CLI logic. A :class:`Plan` is computed first and
can be printed (``kubecis explain``) without running a single audit.
"""

from __future__ import annotations

from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kubecis.audit.base import Executor
from kubecis.benchmark.config import Config
from kubecis.benchmark.loader import Diagnostic, load_controls
from kubecis.benchmark.model import Controls
from kubecis.benchmark.variables import NodeDiscovery, substitute
from kubecis.benchmark.versions import Selection, select_benchmark
from kubecis.discovery import discover
from kubecis.errors import BenchmarkError, ConfigError, HostError, UsageError
from kubecis.host.base import Host

if TYPE_CHECKING:
    from kubecis.host.snapshot import SnapshotHost
    from kubecis.host.tools import VersionTools
from kubecis.records import dataclass
from kubecis.results.model import RunResult
from kubecis.results.runner import Filters, run_controls

AUTO_ORDER = ("master", "controlplane", "etcd", "node", "policies", "managedservices")


@dataclass(slots=True)
class TargetPlan:
    target: str
    path: Path
    controls: Controls  # substituted
    discovery: NodeDiscovery
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    selection: Selection
    config: Config
    targets: list[TargetPlan] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # role detection and other decisions


@dataclass(frozen=True, slots=True)
class PlanRequest:
    config_dir: Path
    benchmark: str = ""
    version: str = ""
    targets: tuple[str, ...] = ()  # empty: detect node roles (kube-bench's root command)
    use_cmdline_paths: bool = True
    allow_tools: bool = True  # may version detection ask this machine's kubectl/kubelet (host.tools)?
    config_file: Path | None = None  # kube-bench's --config: the global config file instead of config_dir's


def recorded_request(req: PlanRequest, host: SnapshotHost) -> tuple[PlanRequest, list[str]]:
    """A replay's request: the benchmark and targets the snapshot was recorded for, unless the request names
    its own (``--benchmark``/``--version``, ``--targets``). Returns the request and what was taken from the
    snapshot (for notes). Replaying with the recorded targets matters: role detection re-run on a snapshot
    asks for facts a recording restricted to some targets never made."""
    rec = host.recorded
    if rec is None:
        return req, []
    taken: list[str] = []
    bench, targets = req.benchmark, req.targets
    rb, rt = rec.get("benchmark"), rec.get("targets")
    if not (req.benchmark or req.version) and isinstance(rb, str) and rb:
        bench = rb
        taken.append(f"benchmark {rb} (recorded in the snapshot)")
    if not req.targets and isinstance(rt, list) and rt and all(isinstance(t, str) for t in rt):
        targets = tuple(rt)
        taken.append(f"targets {','.join(rt)} (recorded in the snapshot)")
    return replace(req, benchmark=bench, targets=targets), taken


def _check_benchmark(config: Config, bench: str) -> None:
    if not (config.config_dir / bench).is_dir():
        available = ", ".join(config.benchmarks())
        raise BenchmarkError(f"unknown benchmark {bench!r} in {config.config_dir}; available: {available}")


def role_running(config: Config, node_type: str, host: Host) -> tuple[bool, str]:
    """kube-bench-compat.md#role-detection: a role is detected when its mandatory components run."""
    section = config.section(node_type)
    if section is None:
        return False, f"{node_type}: no config section"
    d = discover(section, host, use_cmdline=False)
    if d.bin_error:
        return False, f"{node_type}: {d.bin_error}"
    if not d.bins:
        return False, f"{node_type}: no component with binaries configured"
    running = [c for c, b in d.bins.items() if any(x.kind == "bin" and x.component == c
                                                   and x.why.startswith("running") for x in d.decisions)]
    return True, f"{node_type}: detected (running: {', '.join(running) or 'optional components only'})"


# The sections whose components make a machine a Kubernetes node.
NODE_SECTIONS = ("master", "controlplane", "etcd", "node")


def node_evidence(config: Config, host: Host) -> list[str]:
    """Why ``host`` looks like a Kubernetes node (a component process runs, a kubelet config exists); empty when
    nothing does, e.g. on a laptop. Uses the global config: no benchmark is needed."""
    evidence: list[str] = []
    for name in NODE_SECTIONS:
        section = config.section(name)
        if section is None:
            continue
        try:
            d = discover(section, host, use_cmdline=False)
        except HostError:
            continue
        evidence += [f"{x.component} {x.why}" for x in d.decisions if x.kind == "bin" and x.why.startswith("running")]
        evidence += [f"{x.component} {x.kind} {x.value} exists" for x in d.decisions
                     if x.kind in ("conf", "kubeconfig") and x.why.startswith("first existing candidate")]
    return list(dict.fromkeys(evidence))


NOT_A_NODE = ("this machine does not look like a Kubernetes node (no control-plane, etcd or kubelet process runs "
              "and no kubelet configuration exists). For an example report run `kubecis demo`; to check a node "
              "mounted here use `kubecis run --root DIR`, a recorded node `kubecis run --snapshot FILE`, a whole "
              "cluster `kubecis cluster scan`; or pass --version X.Y / --benchmark NAME to run anyway")


def _live_tools() -> VersionTools:
    from kubecis.host.tools import LiveTools

    return LiveTools()


def make_plan(req: PlanRequest, host: Host) -> Plan:
    base = Config.load(req.config_dir, req.config_file)
    selection = select_benchmark(
        version_mapping=base.version_mapping,
        benchmark=req.benchmark,
        version=req.version,
        host=host,
        tools=_live_tools() if req.allow_tools else None,
        available=base.benchmarks,
    )
    bench = selection.benchmark
    _check_benchmark(base, bench)
    config = base.merged_with(bench)
    allowed = config.targets_for(bench)
    plan = Plan(selection, config)
    if req.targets:
        bad = [t for t in req.targets if t not in allowed]
        if bad:
            raise UsageError(
                f"the specified --targets {','.join(req.targets)!r} are not configured for the "
                f"benchmark {bench}; valid targets: {', '.join(allowed)}"
            )
        targets = list(dict.fromkeys(req.targets))
        plan.notes.append(f"targets given: {', '.join(targets)}")
    else:
        targets = []
        master, why = role_running(config, "master", host)
        plan.notes.append(why)
        if master:
            targets.append("master")
            if "controlplane" in allowed:
                targets.append("controlplane")
        if "etcd" in allowed:
            etcd, why = role_running(config, "etcd", host)
            plan.notes.append(why)
            if etcd:
                targets.append("etcd")
        targets.append("node")
        plan.notes.append("node: always run")
        for t in ("policies", "managedservices"):
            if t in allowed:
                targets.append(t)
    for t in targets:
        name = t.lower()
        path = config.config_dir / bench / f"{name}.yaml"
        if not path.is_file():
            raise BenchmarkError(f"can't find {name} controls file in {config.config_dir / bench}")
        section = config.section(name)
        if section is None:
            raise ConfigError(f"No config settings for {name}")
        loaded = load_controls(path, name)
        disc = discover(section, host, use_cmdline=req.use_cmdline_paths)
        controls = _substituted(loaded.controls, disc, loaded.text)
        plan.targets.append(TargetPlan(name, path, controls, disc, loaded.diagnostics))
    return plan


# Substituted controls per (parsed file, discovered variables): nodes laid out alike (most of a fleet
# evaluated by `cluster collect`) share them instead of substituting every text field again.
_SUBSTITUTED: dict[tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], tuple[Controls, Controls]] = {}


def _substituted(controls: Controls, disc: NodeDiscovery, text: str | None) -> Controls:
    key = (id(controls), tuple(disc.variables()), tuple(disc.bins.items()))
    hit = _SUBSTITUTED.get(key)
    if hit is not None and hit[0] is controls:
        return hit[1]
    out = substitute(controls, disc, text)
    if len(_SUBSTITUTED) >= 256:
        _SUBSTITUTED.clear()
    _SUBSTITUTED[key] = (controls, out)  # holding `controls` keeps its id from being reused
    return out


def run_plan(plan: Plan, executor: Executor, filters: Filters) -> RunResult:
    result = RunResult(benchmark=plan.selection.benchmark)
    for tp in plan.targets:
        result.controls.append(
            run_controls(tp.controls, executor, filters, detected_version=plan.selection.detected_version)
        )
    return result.sorted()
