from __future__ import annotations

import pytest

from kubecis.report import ReportOptions, render
from kubecis.report import text as text_report
from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State

from .golden import GOLDEN_CIS, GOLDEN_STIG, parse


@pytest.mark.parametrize("path", [GOLDEN_CIS, GOLDEN_STIG], ids=["cis-1.20", "eks-stig"])
def test_golden_round_trip(path):
    expected = path.read_text(encoding="utf-8")
    run = parse(expected)
    assert render("text", run, ReportOptions()) == expected


def test_golden_parse_sanity():
    run = parse(GOLDEN_CIS.read_text(encoding="utf-8"))
    t = run.totals
    assert (t.pass_, t.fail, t.warn, t.info) == (67, 11, 45, 0)
    stig = parse(GOLDEN_STIG.read_text(encoding="utf-8"))
    t = stig.totals
    assert (t.pass_, t.fail, t.warn, t.info) == (8, 6, 19, 62)
    # The STIG master target has no groups at all: header, blank line, all-zero summary.
    assert stig.controls[0].groups == []
    # Every parsed check's counts agree with its controls summary.
    for controls in run.controls + stig.controls:
        c = Counts()
        for g in controls.groups:
            for ch in g.checks:
                c.add(ch.state)
        assert c == controls.counts


def _check(ident: str, state: State, **kw: object) -> CheckResult:
    return CheckResult(id=ident, text=f"text {ident}", state=state, **kw)  # type: ignore[arg-type]


def _run(*checks: CheckResult, node_type: str = "node") -> RunResult:
    counts = Counts()
    for c in checks:
        counts.add(c.state)
    group = GroupResult(id="4.1", text="Worker Node Configuration Files", checks=list(checks), counts=counts)
    controls = ControlsResult(id="4", version="cis-1.20", text="Worker Node Security Configuration",
                              node_type=node_type, groups=[group], counts=counts)
    return RunResult([controls])


SMALL = _run(
    _check("4.1.1", State.PASS),
    _check("4.1.2", State.FAIL, remediation="chmod 644 x\n", actual_value="line one\nline two"),
    _check("4.1.3", State.WARN, remediation="look manually\n", type="manual",
           reason="Test marked as a manual test"),
    _check("4.1.4", State.WARN, remediation="never shown\n", reason="failed to run: exit status 1"),
    _check("4.1.5", State.WARN, remediation="no trailing newline"),
    _check("4.1.6", State.INFO, remediation="info is not listed\n"),
)

SMALL_TEXT = (
    "[INFO] 4 Worker Node Security Configuration\n"
    "[INFO] 4.1 Worker Node Configuration Files\n"
    "[PASS] 4.1.1 text 4.1.1\n"
    "[FAIL] 4.1.2 text 4.1.2\n"
    "[WARN] 4.1.3 text 4.1.3\n"
    "[WARN] 4.1.4 text 4.1.4\n"
    "[WARN] 4.1.5 text 4.1.5\n"
    "[INFO] 4.1.6 text 4.1.6\n"
    "\n"
    "== Remediations node ==\n"
    "4.1.2 chmod 644 x\n"
    "\n"
    "4.1.3 look manually\n"
    "\n"
    "4.1.4 audit test did not run: failed to run: exit status 1\n"
    "4.1.5 no trailing newline\n"
    "\n"
    "== Summary node ==\n"
    "1 checks PASS\n"
    "1 checks FAIL\n"
    "3 checks WARN\n"
    "1 checks INFO\n"
    "\n"
)

TOTAL_TEXT = "== Summary total ==\n1 checks PASS\n1 checks FAIL\n3 checks WARN\n1 checks INFO\n\n"


def test_layout_small():
    assert render("text", SMALL, ReportOptions()) == SMALL_TEXT + TOTAL_TEXT


def test_no_totals():
    assert render("text", SMALL, ReportOptions(no_totals=True)) == SMALL_TEXT


def test_no_results():
    out = render("text", SMALL, ReportOptions(no_results=True, no_totals=True))
    assert out == SMALL_TEXT[SMALL_TEXT.index("== Remediations"):]


def test_no_remediations():
    out = render("text", SMALL, ReportOptions(no_remediations=True, no_totals=True))
    cut, resume = SMALL_TEXT.index("== Remediations"), SMALL_TEXT.index("== Summary")
    assert out == SMALL_TEXT[:cut] + SMALL_TEXT[resume:]


def test_no_summary_keeps_total():
    out = render("text", SMALL, ReportOptions(no_summary=True))
    assert out == SMALL_TEXT[: SMALL_TEXT.index("== Summary")] + TOTAL_TEXT


def test_everything_off_is_empty():
    opts = ReportOptions(no_results=True, no_remediations=True, no_summary=True, no_totals=True)
    assert render("text", SMALL, opts) == ""


def test_include_test_output_under_fail_only():
    out = render("text", SMALL, ReportOptions(include_test_output=True, no_totals=True))
    assert "[FAIL] 4.1.2 text 4.1.2\n\t line one\n\t line two\n[WARN] 4.1.3" in out
    # kube-bench splits on "\n", so a trailing newline gives one more, empty, row.
    run = _run(_check("4.1.2", State.FAIL, actual_value="x\n"))
    out = render("text", run, ReportOptions(include_test_output=True, no_totals=True))
    assert "[FAIL] 4.1.2 text 4.1.2\n\t x\n\t \n\n== Remediations" in out
    # Passing checks and empty output print nothing.
    run = _run(_check("4.1.1", State.PASS, actual_value="x"), _check("4.1.2", State.FAIL))
    out = render("text", run, ReportOptions(include_test_output=True, no_totals=True))
    assert "\t" not in out


def test_no_fail_no_warn_has_no_remediations_section():
    run = _run(_check("4.1.1", State.PASS), _check("4.1.2", State.INFO))
    out = render("text", run, ReportOptions(no_totals=True))
    assert "Remediations" not in out
    assert out.endswith("[INFO] 4.1.2 text 4.1.2\n\n== Summary node ==\n1 checks PASS\n0 checks FAIL\n"
                        "0 checks WARN\n1 checks INFO\n\n")


def test_empty_controls_object():
    controls = ControlsResult(id="1", version="x", text="Control Plane Components", node_type="master")
    run = RunResult([controls])
    assert render("text", run, ReportOptions()) == (
        "[INFO] 1 Control Plane Components\n\n"
        "== Summary master ==\n0 checks PASS\n0 checks FAIL\n0 checks WARN\n0 checks INFO\n\n"
        "== Summary total ==\n0 checks PASS\n0 checks FAIL\n0 checks WARN\n0 checks INFO\n\n"
    )


def test_empty_run_prints_only_total():
    assert render("text", RunResult(), ReportOptions()) == (
        "== Summary total ==\n0 checks PASS\n0 checks FAIL\n0 checks WARN\n0 checks INFO\n\n"
    )


def test_controls_sorted_numerically_by_render():
    def ctl(ident: str) -> ControlsResult:
        return ControlsResult(id=ident, version="", text=f"T{ident}", node_type=f"n{ident}")

    run = RunResult([ctl("10"), ctl("2"), ctl("x"), ctl("1")])
    out = render("text", run, ReportOptions(no_summary=True, no_totals=True))
    assert out == "[INFO] x Tx\n\n[INFO] 1 T1\n\n[INFO] 2 T2\n\n[INFO] 10 T10\n\n"
    # The format module itself keeps the given order.
    direct = text_report.render(run, ReportOptions(no_summary=True, no_totals=True))
    assert direct.startswith("[INFO] 10 T10\n")


def test_summary_counts_come_from_model_not_checks():
    run = _run(_check("4.1.1", State.PASS))
    run.controls[0].counts = Counts(5, 6, 7, 8)
    out = render("text", run, ReportOptions())
    assert "== Summary node ==\n5 checks PASS\n6 checks FAIL\n7 checks WARN\n8 checks INFO\n" in out
    assert "== Summary total ==\n5 checks PASS\n6 checks FAIL\n7 checks WARN\n8 checks INFO\n\n" in out
    # Counts say FAIL > 0, so the Remediations header is printed even with nothing to list.
    assert "== Remediations node ==\n\n== Summary node ==" in out
