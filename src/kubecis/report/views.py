"""What kubecis's own formats (HTML, SARIF, CSV, history) show about a run, computed once from the results.

These formats take a list of ``(node name, RunResult)`` pairs: one pair for ``kubecis run``, one per node
for a cluster. A node's name is its RunResult's ``node`` unless the caller names it otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubecis.results.model import CheckResult, ControlsResult, GroupResult, RunResult, StatusCounts

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
