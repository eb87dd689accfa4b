"""``--format html``: one self-contained HTML file people read in a browser.

Nothing is loaded from anywhere: the styles, the charts (inline SVG) and the status filter (a few lines of
inline JavaScript) are in the file; it opens from a mail attachment or an air-gapped share. It shows the
summary (counts and a chart per state, pass rate per target and section), then every check with its
status, evidence (the audit's actual value and the reason), expected result and remediation, filterable
by status and text without a server. Given several nodes it adds a node x check matrix.

A cluster report (:func:`render_fleet`) adds the nodes with their coverage (a node that was not evaluated is
shown as NOT EVALUATED with its reason, in the nodes table, in its matrix column and in its own section; it
has no results and never counts as passing), a matrix of every node (columns) by every node check (rows), and
the cluster-wide policies as their own section. The status and text filters apply to the matrix rows too.

jinja2 renders it (autoescaped: check text, audit output and remediations are data); it is imported only
when an HTML report is rendered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubecis import __version__
from kubecis.report.options import ReportOptions
from kubecis.report.views import (
    NOT_EVALUATED,
    POLICIES_NODE,
    Fleet,
    NodeResults,
    NodeView,
    node_views,
    percent,
    single,
    valid_text,
)
from kubecis.results.model import STATUSES, RunResult, StatusCounts

if TYPE_CHECKING:
    import jinja2

COLORS = {"PASS": "#2e7d32", "FAIL": "#c62828", "WARN": "#e08600", "INFO": "#1565c0", "WAIVED": "#7b1fa2"}
# The donut: a circle of circumference 100 (r = 100 / 2π), so dash lengths are percentages.
_R = 15.91549430918954


@dataclass(frozen=True, slots=True)
class Segment:
    status: str
    count: int
    length: float  # percent of the circle
    offset: float  # stroke-dashoffset that starts it where the previous one ended (clockwise from 12 o'clock)


def donut(counts: StatusCounts) -> list[Segment]:
    total = counts.total
    out = []
    start = 0.0
    for s in STATUSES:
        n = counts.get(s)
        if not n or not total:
            continue
        length = n * 100 / total
        out.append(Segment(s, n, round(length, 3), round(25 - start, 3)))
        start += length
    return out


def bar(counts: StatusCounts) -> list[tuple[str, float, float, int]]:
    """(status, x, width, count) in percent of the bar, for a stacked horizontal bar."""
    total = counts.total
    out = []
    x = 0.0
    for s in STATUSES:
        n = counts.get(s)
        if n and total:
            w = n * 100 / total
            out.append((s, round(x, 3), round(w, 3), n))
            x += w
    return out


@dataclass(frozen=True, slots=True)
class MatrixRow:
    check_id: str
    text: str
    cells: tuple[str, ...]  # status per node, "" when the node has no such check


def matrix(nodes: list[NodeView | None]) -> list[MatrixRow]:
    """Check x node statuses, checks in the order they first appear; a ``None`` node (not evaluated) is
    NOT_EVALUATED in every row."""
    order: dict[str, str] = {}
    per_node: list[dict[str, str] | None] = []
    for n in nodes:
        if n is None:
            per_node.append(None)
            continue
        statuses: dict[str, str] = {}
        for c in n.checks:
            order.setdefault(c.id, c.text)
            statuses.setdefault(c.id, c.status)
        per_node.append(statuses)
    return [MatrixRow(cid, text, tuple(NOT_EVALUATED if s is None else s.get(cid, "") for s in per_node))
            for cid, text in order.items()]


@functools.cache
def _env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kubecis.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(COLORS=COLORS, STATUSES=STATUSES, R=_R, donut=donut, bar=bar, percent=percent,
                       NOT_EVALUATED=NOT_EVALUATED)
    return env


def render_template(name: str, **context: Any) -> str:
    return valid_text(_env().get_template(name).render(version=__version__, **context))


def render_nodes(nodes: NodeResults, options: ReportOptions, title: str = "") -> str:
    """The HTML report of one or several nodes (several: with a node x check matrix)."""
    views = node_views(nodes)
    total = StatusCounts()
    for v in views:
        total += v.counts
    if not title:
        title = ("kubecis report: " + views[0].name) if len(views) == 1 and views[0].name else "kubecis report"
    waivers = [(v.name if len(views) > 1 else "", v.result.waivers) for v in views if v.result.waivers is not None]
    return render_template("report.html.j2", title=title, nodes=views, total=total,
                           matrix=matrix(list(views)) if len(views) > 1 else [], options=options, fleet=None,
                           columns=[v.name for v in views], sections=[(v.name, v, "") for v in views],
                           waiver_tables=waivers, policies_name=POLICIES_NODE)


@dataclass(frozen=True, slots=True)
class FleetRow:
    """A node in the cluster report's nodes table."""

    name: str
    roles: str
    benchmark: str
    evaluated: bool
    reason: str
    counts: StatusCounts


def render_fleet(fleet: Fleet, options: ReportOptions, title: str = "") -> str:
    """The HTML report of a cluster: nodes and coverage, node x check matrix, per-node sections, policies."""
    views = node_views(fleet.results())  # the evaluated nodes in order, then the policies
    total = StatusCounts()
    for v in views:
        total += v.counts
    it = iter(views)
    columns: list[NodeView | None] = [next(it) if n.evaluated else None for n in fleet.nodes]
    rows = [FleetRow(n.name, ", ".join(n.roles), n.benchmark, v is not None, n.reason,
                     v.counts if v is not None else StatusCounts()) for n, v in zip(fleet.nodes, columns, strict=True)]
    grid = matrix(columns)
    sections: list[tuple[str, NodeView | None, str]] = [
        (n.name, v, n.reason) for n, v in zip(fleet.nodes, columns, strict=True)]
    sections.append((POLICIES_NODE, views[-1] if fleet.policies is not None else None, fleet.policies_reason))
    if not title:
        title = "kubecis cluster report" + (f": {fleet.cluster}" if fleet.cluster else "")
    return render_template("report.html.j2", title=title, nodes=views, total=total, matrix=grid, options=options,
                           fleet=fleet, fleet_rows=rows, columns=[n.name for n in fleet.nodes], sections=sections,
                           waiver_tables=[("", fleet.waivers)] if fleet.waivers is not None else [],
                           policies_name=POLICIES_NODE)


def render(run: RunResult, options: ReportOptions) -> str:
    return render_nodes(single(run), options)
