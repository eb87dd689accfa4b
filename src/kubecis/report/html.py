"""``--format html``: one self-contained HTML file people read in a browser.

Nothing is loaded from anywhere: the styles, the charts (inline SVG) and the status filter (a few lines of
inline JavaScript) are in the file; it opens from a mail attachment or an air-gapped share. It shows the
summary (counts and a chart per state, pass rate per target and section), then every check with its
status, evidence (the audit's actual value and the reason), expected result and remediation, filterable
by status and text without a server. Given several nodes it adds a node x check matrix.

jinja2 renders it (autoescaped: check text, audit output and remediations are data); it is imported only
when an HTML report is rendered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubecis import __version__
from kubecis.report.options import ReportOptions
from kubecis.report.views import NodeResults, NodeView, node_views, percent, single, valid_text
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


def matrix(nodes: list[NodeView]) -> list[MatrixRow]:
    """Check x node statuses, checks in the order they first appear."""
    order: dict[str, str] = {}
    per_node: list[dict[str, str]] = []
    for n in nodes:
        statuses: dict[str, str] = {}
        for c in n.checks:
            order.setdefault(c.id, c.text)
            statuses.setdefault(c.id, c.status)
        per_node.append(statuses)
    return [MatrixRow(cid, text, tuple(s.get(cid, "") for s in per_node)) for cid, text in order.items()]


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
    env.globals.update(COLORS=COLORS, STATUSES=STATUSES, R=_R, donut=donut, bar=bar, percent=percent)
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
    return render_template("report.html.j2", title=title, nodes=views, total=total,
                           matrix=matrix(views) if len(views) > 1 else [], options=options)


def render(run: RunResult, options: ReportOptions) -> str:
    return render_nodes(single(run), options)
