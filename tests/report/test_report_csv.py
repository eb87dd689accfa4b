"""--format csv: one row per check, RFC 4180, spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io

from kubecis.report import ReportOptions, render
from kubecis.report.csv import COLUMNS, render_nodes
from kubecis.results.waivers import apply, parse
from tests.report.sample import demo_run, sample_run


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_check_in_report_order():
    run = demo_run(node="vm", cluster="lab")
    text = render("csv", run, ReportOptions())
    assert text.startswith(",".join(COLUMNS) + "\r\n") and text.endswith("\r\n")
    got = rows(text)
    want = [(c.id, c.status, c.actual_value) for _, _, c in run.sorted().checks()]
    assert [(r["check"], r["status"], r["actual_value"]) for r in got] == want
    assert len(got) == 131
    assert {(r["cluster"], r["node"], r["benchmark"]) for r in got} == {("lab", "vm", "cis-1.12")}


def test_waived_status_and_waiver_columns():
    run = apply(sample_run(), parse("waivers:\n  - {id: w, checks: ['1.1.1'], reason: ok, owner: al, "
                                    "expires: 2030-01-01}\n", "w.yaml"), dt.date(2025, 3, 1))
    r = next(r for r in rows(render("csv", run, ReportOptions())) if r["check"] == "1.1.1")
    assert (r["status"], r["waiver"], r["waiver_owner"], r["waiver_expires"]) == ("WAIVED", "w", "al", "2030-01-01")


def test_formulas_are_neutralised_and_multiline_cells_quoted():
    got = {r["check"]: r for r in rows(render("csv", sample_run(), ReportOptions()))}
    assert got["1.2.4"]["actual_value"] == "'=HYPERLINK(\"http://evil\")\n\ufffd bad byte"
    assert got["1.2.2"]["description"] == 'Ensure <script>alert(1)</script> is escaped & "quoted"'


def test_several_nodes():
    text = render_nodes([("a", sample_run(node="a")), ("b", sample_run(node="b"))], ReportOptions())
    assert [r["node"] for r in rows(text)] == ["a"] * 8 + ["b"] * 8
