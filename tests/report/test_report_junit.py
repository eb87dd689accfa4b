from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from kubecis.report import ReportOptions, render
from kubecis.report.json import check_json
from kubecis.report.junit import go_xml_escape, render_suite
from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State


def _run() -> RunResult:
    rem = "Edit the file <path> & set\n--flag=\"true\"\n"
    checks = [
        CheckResult(id="1.1", text="passes", state=State.PASS, remediation="r\n", test_info=["r\n"],
                    scored=True),
        CheckResult(id="1.2", text="fails", state=State.FAIL, remediation=rem, test_info=[rem], scored=True,
                    actual_value="a\tb"),
        CheckResult(id="1.3", text="warns", state=State.WARN, type="manual", remediation="m",
                    test_info=["m"], reason="Test marked as a manual test"),
    ]
    g1 = GroupResult(id="1", text="Group 'one'", checks=checks, counts=Counts(1, 1, 1, 0))
    info = CheckResult(id="1.4", text="skipped", state=State.INFO, type="skip", test_info=[""])
    g2 = GroupResult(id="2", text="G2", checks=[info], counts=Counts(0, 0, 0, 1))
    ctl = ControlsResult(id="1", version="cis-1.20", text="Master Node", node_type="master",
                         groups=[g1, g2], counts=Counts(1, 1, 1, 1))
    empty = ControlsResult(id="2", version="cis-1.20", text="Etcd", node_type="etcd")
    return RunResult([empty, ctl])  # render() sorts by id


def _sysout(check: CheckResult) -> str:
    return check_json(check).replace("&", "&amp;").replace('"', "&#34;").replace("\t", "&#x9;")


def test_exact_output():
    run = _run()
    ctl = run.controls[1]
    c = [ch for g in ctl.groups for ch in g.checks]
    expected = (
        "<testsuites>\n"
        '<testsuite name="Master Node" tests="4" failures="1" errors="0" time="0">\n'
        '    <testcase name="1.1 passes" classname="Group &#39;one&#39;" time="0">\n'
        f"        <system-out>{_sysout(c[0])}</system-out>\n"
        "    </testcase>\n"
        '    <testcase name="1.2 fails" classname="Group &#39;one&#39;" time="0">\n'
        '        <failure type="">'
        "Edit the file &lt;path&gt; &amp; set&#xA;--flag=&#34;true&#34;&#xA;</failure>\n"
        f"        <system-out>{_sysout(c[1])}</system-out>\n"
        "    </testcase>\n"
        '    <testcase name="1.3 warns" classname="Group &#39;one&#39;" time="0">\n'
        "        <skipped></skipped>\n"
        f"        <system-out>{_sysout(c[2])}</system-out>\n"
        "    </testcase>\n"
        '    <testcase name="1.4 skipped" classname="G2" time="0">\n'
        "        <skipped></skipped>\n"
        f"        <system-out>{_sysout(c[3])}</system-out>\n"
        "    </testcase>\n"
        "</testsuite>"
        '<testsuite name="Etcd" tests="0" failures="0" errors="0" time="0"></testsuite>'
        "\n</testsuites>\n"
    )
    assert render("junit", run, ReportOptions()) == expected
    # The JSON inside system-out is Go-escaped before XML escaping.
    assert "\\u003cpath\\u003e \\u0026 set\\n--flag=\\&#34;true\\&#34;" in expected


def test_well_formed_and_system_out_round_trips():
    run = _run()
    root = ET.fromstring(render("junit", run, ReportOptions()))
    assert root.tag == "testsuites"
    suites = list(root)
    assert [s.get("name") for s in suites] == ["Master Node", "Etcd"]
    cases = suites[0].findall("testcase")
    checks = [ch for g in run.sorted().controls[0].groups for ch in g.checks]
    assert len(cases) == len(checks)
    for case, check in zip(cases, checks, strict=True):
        assert case.get("name") == f"{check.id} {check.text}"
        assert json.loads(case.findtext("system-out") or "") == check.to_dict()
    failure = cases[1].find("failure")
    assert failure is not None and failure.text == checks[1].remediation and failure.get("type") == ""
    assert cases[2].find("skipped") is not None and cases[0].find("skipped") is None
    assert cases[0].find("failure") is None


def test_counts_come_from_summary():
    # Mirrors upstream: the suite's numbers are the controls summary, not the cases.
    check = CheckResult(id="check1id", text="check1text", state=State.PASS)
    ctl = ControlsResult(id="", version="", text="", node_type="", counts=Counts(100, 99, 101, 102),
                         groups=[GroupResult(id="g1", text="", checks=[check])])
    suite = render_suite(ctl)
    assert suite.startswith('<testsuite name="" tests="402" failures="99" errors="0" time="0">\n')
    assert suite.endswith("    </testcase>\n</testsuite>")


def test_go_xml_escape():
    assert go_xml_escape("\"'&<>\t\n\r") == "&#34;&#39;&amp;&lt;&gt;&#x9;&#xA;&#xD;"
    assert go_xml_escape("é\u2028 ok") == "é\u2028 ok"
    # Outside the XML character range (and invalid UTF-8) -> U+FFFD.
    assert go_xml_escape("\x00\x1b\ufffe\udcff") == "\ufffd" * 4


def test_empty_run():
    assert render("junit", RunResult(), ReportOptions()) == "<testsuites>\n\n</testsuites>\n"


def test_golden_run_is_well_formed_junit():
    from .golden import GOLDEN_CIS, GOLDEN_STIG, parse

    for path in (GOLDEN_CIS, GOLDEN_STIG):
        run = parse(path.read_text(encoding="utf-8"))
        root = ET.fromstring(render("junit", run, ReportOptions()))
        cases = root.findall("testsuite/testcase")
        assert len(cases) == run.totals.total
        assert len(root.findall("testsuite/testcase/failure")) == run.totals.fail
        assert len(root.findall("testsuite/testcase/skipped")) == run.totals.warn + run.totals.info
