"""``--format csv``: one row per check, for spreadsheets and ad-hoc analysis.

RFC 4180 (comma-separated, ``"``-quoted where needed, CRLF line ends), UTF-8, a header row first. Status is
kubecis's: kube-bench's four states or WAIVED. Text read from a node is data, and a spreadsheet program
would run a cell that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR as a formula: such a cell gets a
leading apostrophe (OWASP's advice for CSV injection), so it is shown as the text it is.
"""

from __future__ import annotations

import csv
import io

from kubecis.report.options import ReportOptions
from kubecis.report.views import NodeResults, node_views, single, valid_text
from kubecis.results.model import RunResult

COLUMNS = (
    "cluster", "node", "benchmark", "scanned_at", "target", "node_type", "section", "section_text", "check",
    "description", "status", "scored", "type", "reason", "actual_value", "expected_result", "remediation",
    "audit", "waiver", "waiver_owner", "waiver_expires",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    value = valid_text(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_nodes(nodes: NodeResults, options: ReportOptions) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for view in node_views(nodes):
        run = view.result
        for controls, group, check in run.checks():
            waiver = check.waiver
            w.writerow([cell(v) for v in (
                run.cluster, view.name, run.benchmark, run.scanned_at, controls.id, controls.node_type, group.id,
                group.text, check.id, check.text, check.status, "true" if check.scored else "false", check.type,
                check.reason, check.actual_value, check.expected_result, check.remediation, check.audit,
                waiver.id if waiver else "", waiver.owner if waiver else "", waiver.expires if waiver else "",
            )])
    return buf.getvalue()


def render(run: RunResult, options: ReportOptions) -> str:
    return render_nodes(single(run), options)
