"""``--format csv``: one row per check, for spreadsheets and ad-hoc analysis.

RFC 4180 (comma-separated, ``"``-quoted where needed, CRLF line ends), UTF-8, a header row first. Status is
kubecis's: kube-bench's four states or WAIVED. A cluster report has every node's rows (the ``node`` column), one
row with status ``NOT_EVALUATED`` and the reason for a node that was not evaluated, and the cluster-wide
policies' rows with the node ``(cluster-wide)``. Text read from a node is data, and a spreadsheet program
would run a cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR as a formula: such a cell gets a
leading apostrophe (OWASP's advice for CSV injection), so it is shown as the text it is.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Protocol

from kubecis.report.options import ReportOptions
from kubecis.report.views import (
    NOT_EVALUATED,
    POLICIES_NODE,
    Fleet,
    NodeResults,
    NodeView,
    node_views,
    single,
    valid_text,
)
from kubecis.results.model import RunResult

COLUMNS = (
    "cluster", "node", "benchmark", "scanned_at", "target", "node_type", "section", "section_text", "check",
    "description", "status", "scored", "type", "reason", "actual_value", "expected_result", "remediation",
    "audit", "waiver", "waiver_owner", "waiver_expires",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Writer(Protocol):
    def writerow(self, row: Any, /) -> Any: ...


def cell(value: str) -> str:
    value = valid_text(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _rows(w: _Writer, view: NodeView) -> None:
    run = view.result
    for controls, group, check in run.checks():
        waiver = check.waiver
        w.writerow([cell(v) for v in (
            run.cluster, view.name, run.benchmark, run.scanned_at, controls.id, controls.node_type, group.id,
            group.text, check.id, check.text, check.status, "true" if check.scored else "false", check.type,
            check.reason, check.actual_value, check.expected_result, check.remediation, check.audit,
            waiver.id if waiver else "", waiver.owner if waiver else "", waiver.expires if waiver else "",
        )])


def _writer() -> tuple[io.StringIO, _Writer]:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    return buf, w


def render_nodes(nodes: NodeResults, options: ReportOptions) -> str:
    buf, w = _writer()
    for view in node_views(nodes):
        _rows(w, view)
    return buf.getvalue()


def render_fleet(fleet: Fleet, options: ReportOptions) -> str:
    """Every node in order (a not-evaluated node: one row, its reason), then the policies."""
    buf, w = _writer()
    for n in fleet.nodes:
        if n.run is None:
            row = dict.fromkeys(COLUMNS, "")
            row.update(cluster=fleet.cluster, node=n.name, benchmark=n.benchmark, scanned_at=fleet.scanned_at,
                       status=NOT_EVALUATED, reason=n.reason)
            w.writerow([cell(row[c]) for c in COLUMNS])
        else:
            _rows(w, node_views([(n.name, n.run)])[0])
    if fleet.policies is not None:
        _rows(w, node_views([(POLICIES_NODE, fleet.policies)])[0])
    return buf.getvalue()


def render(run: RunResult, options: ReportOptions) -> str:
    return render_nodes(single(run), options)
