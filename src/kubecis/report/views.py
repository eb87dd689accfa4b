"""What kubecis's own formats (HTML, SARIF, CSV, history) show about a run, computed once from the results.

These formats take a list of ``(node name, RunResult)`` pairs: one pair for ``kubecis run``, one per node
for a cluster. A node's name is its RunResult's ``node`` unless the caller names it otherwise.

A cluster report (``kubecis cluster scan|collect --format ...``) is a :class:`Fleet`: every node, evaluated
(with its results) or not (with the reason, never any results), and the cluster-wide policies evaluated once.
The cluster layer builds it from its merged model; the formats here know nothing of how it was gathered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubecis.results.model import CheckResult, ControlsResult, GroupResult, RunResult, StatusCounts, WaiverUse

NodeResults = Sequence[tuple[str, RunResult]]


@dataclass(slots=True)
class SectionView:
    group: GroupResult
    counts: StatusCounts


@dataclass(slots=True)
class TargetView:
    controls: ControlsResult
    counts: StatusCounts
    sections: list[SectionView] = field(default_factory=list)


@dataclass(slots=True)
class NodeView:
    name: str
    result: RunResult
    counts: StatusCounts
    targets: list[TargetView] = field(default_factory=list)

    @property
    def checks(self) -> list[CheckResult]:
        return [c for _, _, c in self.result.checks()]


def node_views(nodes: NodeResults) -> list[NodeView]:
    out = []
    for name, run in nodes:
        run = run.sorted()
        targets = []
        for controls in run.controls:
            sections = [SectionView(g, StatusCounts.of(g.checks)) for g in controls.groups]
            targets.append(TargetView(controls, StatusCounts.of(c for g in controls.groups for c in g.checks),
                                      sections))
        out.append(NodeView(name or run.node, run, run.status_counts, targets))
    return out


NOT_EVALUATED = "NOT_EVALUATED"  # a node's state in the cluster formats when it could not be evaluated
POLICIES_NODE = "(cluster-wide)"  # how the cluster formats name the policies' results (no node has them)


@dataclass(slots=True)
class FleetNode:
    """One node of a cluster report: ``run`` is None when the node was not evaluated (``reason`` says why)."""

    name: str
    run: RunResult | None
    reason: str = ""
    roles: tuple[str, ...] = ()
    benchmark: str = ""
    platform: str = ""

    @property
    def evaluated(self) -> bool:
        return self.run is not None


@dataclass(slots=True)
class Fleet:
    """A cluster report's content: its nodes in order, the policies evaluated once (None: not evaluated, see
    ``policies_reason``), and the waivers file's effect over the fleet."""

    cluster: str = ""  # the cluster's name ("" when it has none)
    server: str = ""
    version: str = ""  # the API server's gitVersion
    source: str = "api"  # api (scan) or snapshots (collect)
    scanned_at: str = ""
    nodes: list[FleetNode] = field(default_factory=list)
    policies: RunResult | None = None
    policies_reason: str = ""
    waivers: tuple[WaiverUse, ...] | None = None

    @property
    def evaluated(self) -> list[FleetNode]:
        return [n for n in self.nodes if n.evaluated]

    @property
    def coverage_line(self) -> str:
        return f"{len(self.evaluated)} of {len(self.nodes)} nodes evaluated"

    def results(self) -> list[tuple[str, RunResult]]:
        """Every evaluated node's results, then the policies' (named :data:`POLICIES_NODE`)."""
        out = [(n.name, n.run) for n in self.nodes if n.run is not None]
        if self.policies is not None:
            out.append((POLICIES_NODE, self.policies))
        return out


def single(run: RunResult) -> list[tuple[str, RunResult]]:
    """The one-node list for a single run."""
    return [(run.node, run)]


def percent(rate: float | None) -> str:
    """A pass rate as people read it: ``87%``, or ``n/a`` when no check gave a verdict."""
    return "n/a" if rate is None else f"{rate * 100:.0f}%"


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes read from a node) as U+FFFD: always valid UTF-8."""
    return _SURROGATE.sub("\ufffd", text)
