"""The merged results model of a cluster: one entry per node (evaluated or not, with the reason), the
cluster-wide policies, totals. Every merged format (text, JSON, JUnit, HTML, SARIF, CSV, per-node files) is a
pure function of :class:`ClusterResult`.

A node that was not evaluated (its pod never ran, failed, was evicted or OOM-killed, its node went
NotReady or away, its payload was cut short or corrupt...) has ``state = NOT_EVALUATED``, a ``reason``
and no results: it never counts as passing, and the summary says "N of M nodes evaluated".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kubecis.results.model import Counts, RunResult, StatusCounts, WaiverUse


class Coverage(StrEnum):
    EVALUATED = "evaluated"
    NOT_EVALUATED = "not_evaluated"


@dataclass(slots=True)
class NodeSummary:
    """What the merged formats need of an evaluated node, computed once where it was evaluated (a worker
    process for ``collect``): its kube-bench JSON already encoded, totals, each check's state, and the text
    of the checks that FAIL. Large fleets keep only this, not the full result objects."""

    json: str  # exactly what ``kubecis run --json`` prints for the node (with the final newline)
    counts: Counts = field(default_factory=Counts)
    # check id → status in kubecis's formats (kube-bench's four or WAIVED), in kube-bench order
    states: dict[str, str] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)  # check id → text, for checks that FAIL
    statuses: StatusCounts = field(default_factory=StatusCounts)  # WAIVED counted apart
    waivers: tuple[WaiverUse, ...] | None = None  # what the waivers did on this node (None: no waivers file)


@dataclass(slots=True)
class NodeResult:
    """One node of the cluster.

    ``roles``: ``control-plane``, ``etcd``, ``worker`` (what was decided, see ``decisions``);
    ``benchmark``/``targets``: what the node was checked against (empty when never decided);
    ``result``: the node's results (``None`` unless evaluated; dropped once ``summary`` is made unless a
    format or sink needs every check, so a JSON report's memory does not grow with the fleet beyond the
    encoded results);
    ``summary``: see :class:`NodeSummary` (set for every evaluated node);
    ``decisions``: why this benchmark, these roles, these targets (``cluster scan --explain``).
    """

    name: str
    roles: list[str] = field(default_factory=list)
    benchmark: str = ""
    targets: list[str] = field(default_factory=list)
    state: Coverage = Coverage.NOT_EVALUATED
    reason: str = ""
    result: RunResult | None = None
    platform: str = ""
    decisions: list[str] = field(default_factory=list)
    summary: NodeSummary | None = None
    # its snapshot recorded cluster-wide targets too (``collect`` takes the policies from the first such file)
    recorded_cluster_targets: bool = False

    @property
    def evaluated(self) -> bool:
        return self.state is Coverage.EVALUATED and (self.summary is not None or self.result is not None)

    @property
    def counts(self) -> Counts:
        if self.summary is not None:
            return self.summary.counts
        return self.result.totals if self.result is not None else Counts()


@dataclass(slots=True)
class ClusterInfo:
    """What identifies the cluster: ``source`` is ``api`` (a scan) or ``snapshots`` (collect/demo).

    ``name`` is the cluster's name in reports, history and waivers (``--cluster-name``; a scan's default is its
    kubeconfig context); ``label`` what the text report's heading shows when there is no name (the files
    collected)."""

    source: str = "api"
    name: str = ""
    server: str = ""
    context: str = ""
    version: str = ""  # the API server's gitVersion
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "name": self.name or self.label, "server": self.server,
                "context": self.context, "version": self.version}


@dataclass(slots=True)
class ClusterResult:
    cluster: ClusterInfo = field(default_factory=ClusterInfo)
    nodes: list[NodeResult] = field(default_factory=list)
    policies: RunResult | None = None  # the cluster-wide targets (section 5), evaluated once
    policies_reason: str = ""  # why there are none, or how they were evaluated
    notes: list[str] = field(default_factory=list)
    # the cluster-wide targets were due (a scan, collect --objects): not evaluated, they are stored as such
    policies_expected: bool = False
    scanned_at: str = ""  # when the scan (or collect) started, RFC 3339 UTC: every node's time in history
    waivers: tuple[WaiverUse, ...] | None = None  # the waivers file's effect over the fleet (None: no file)

    @property
    def evaluated(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.evaluated]

    @property
    def not_evaluated(self) -> list[NodeResult]:
        return [n for n in self.nodes if not n.evaluated]

    @property
    def totals(self) -> Counts:
        """Checks over every evaluated node plus the policies."""
        t = Counts()
        for n in self.nodes:
            t += n.counts
        if self.policies is not None:
            t += self.policies.totals
        return t

    @property
    def coverage_line(self) -> str:
        """``N of M nodes evaluated`` (the honest headline)."""
        return f"{len(self.evaluated)} of {len(self.nodes)} nodes evaluated"

    def failed(self) -> bool:
        """Any FAIL anywhere (what ``--exit-code`` looks at)."""
        return self.totals.fail > 0
