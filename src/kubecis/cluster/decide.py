"""Per node: which benchmark and which targets, and why (``cluster scan --explain`` prints the reasons).

The benchmark comes from the cluster's API server version and the node's platform (EKS/GKE/AKS/k3s/RKE2
from node labels, providerID or version strings), through the same version_mapping and platform table as
a node run (:mod:`kubecis.benchmark.versions`). Targets come from the node's roles. Cluster-wide targets
(``policies``, ``managedservices``, and a managed platform's ``controlplane``) are never sent to a node:
they are evaluated once per cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubecis.benchmark.config import Config
from kubecis.benchmark.versions import family_fallback, map_version, platform_benchmark
from kubecis.cluster.nodes import NodeFacts, platform, roles
from kubecis.errors import BenchmarkError, UsageError

CLUSTER_TARGETS = ("policies", "managedservices")
MANAGED = ("eks", "gke", "aks")


@dataclass(frozen=True, slots=True)
class Overrides:
    benchmark: str = ""
    version: str = ""
    targets: tuple[str, ...] = ()  # restricts what is run (node targets and cluster-wide targets alike)


@dataclass(slots=True)
class NodePlan:
    node: str
    roles: list[str]
    platform: str
    benchmark: str
    targets: list[str]  # what the node's pod records
    cluster_targets: list[str]  # what this benchmark evaluates once per cluster
    decisions: list[str] = field(default_factory=list)


def xy(git_version: str) -> str:
    m = re.match(r"v?(\d+)\.(\d+)", git_version)
    return f"{m.group(1)}.{m.group(2)}" if m else ""


def choose_benchmark(node: NodeFacts, server_git_version: str, config: Config, ov: Overrides,
                     available: list[str]) -> tuple[str, str, list[str]]:
    """(benchmark, platform, reasons)."""
    steps: list[str] = []
    plat, why = platform(node, server_git_version)
    steps.append(f"platform: {plat or 'upstream'} ({why})")
    if ov.benchmark:
        if ov.version:
            raise UsageError("It is an error to specify both --version and --benchmark flags")
        steps.append(f"benchmark: {ov.benchmark} (--benchmark given)")
        return ov.benchmark, plat, steps
    version, source = ov.version, "--version"
    if not version:
        version, source = xy(server_git_version), f"API server {server_git_version}"
    if not version:
        version, source = xy(node.kubelet_version), f"kubelet {node.kubelet_version}"
    if not version:
        raise BenchmarkError(f"node {node.name}: no Kubernetes version from the API server or the kubelet; "
                             "pass --version X.Y or --benchmark NAME")
    if plat and not ov.version:
        pb = platform_benchmark(plat, version)
        if pb and pb not in available:
            alt = family_fallback(pb, available)
            steps.append(f"benchmark: {pb} for {plat} {version} is not available here"
                         + (f"; using the newest of its family, {alt}" if alt else ""))
            pb = alt
        if pb:
            steps.append(f"benchmark: {pb} (platform {plat}, Kubernetes {version} from {source})")
            return pb, plat, steps
    warnings: list[str] = []
    bench = map_version(config.version_mapping(), version, steps, warnings, source)
    steps[-1] = "benchmark: " + steps[-1]
    steps += [f"warning: {w}" for w in warnings]
    return bench, plat, steps


def plan_node(node: NodeFacts, server_git_version: str, config: Config, ov: Overrides,
              available: list[str]) -> NodePlan:
    bench, plat, steps = choose_benchmark(node, server_git_version, config, ov, available)
    if bench not in available:
        raise BenchmarkError(f"unknown benchmark {bench!r}; available: {', '.join(available)}")
    allowed = config.targets_for(bench)
    node_roles, why = roles(node)
    steps += [f"role {w}" for w in why]
    cluster_level = [t for t in allowed if t in CLUSTER_TARGETS or (plat in MANAGED and t == "controlplane")]
    wanted: list[str] = []
    if "control-plane" in node_roles and plat not in MANAGED:
        wanted += ["master", "controlplane"]
    if "etcd" in node_roles:
        wanted.append("etcd")
    wanted.append("node")
    from kubecis.engine import AUTO_ORDER  # the order a node run detects them in

    targets = [t for t in AUTO_ORDER if t in allowed and t in wanted and t not in cluster_level]
    if ov.targets:
        bad = [t for t in ov.targets if t not in allowed]
        if bad:
            raise UsageError(f"--targets {','.join(ov.targets)}: not configured for {bench} on node {node.name} "
                             f"(valid: {', '.join(allowed)})")
        targets = [t for t in targets if t in ov.targets]
        cluster_level = [t for t in cluster_level if t in ov.targets]
        steps.append(f"targets restricted by --targets {','.join(ov.targets)}")
    steps.append(f"targets on the node: {', '.join(targets) or 'none'}; once per cluster: "
                 f"{', '.join(cluster_level) or 'none'}")
    return NodePlan(node.name, node_roles, plat, bench, targets, cluster_level, steps)
