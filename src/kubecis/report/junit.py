"""kube-bench's ``--junit`` report.

``<testsuites>\\n`` + one ``<testsuite>`` per controls object (Go ``encoding/xml``
with a four-space indent, no separator between suites) + ``\\n</testsuites>``,
printed with a trailing newline. No XML declaration. Each check is a
``<testcase>``: FAIL carries ``<failure type="">remediation</failure>``, WARN and
INFO an empty ``<skipped></skipped>``, and every case the check's JSON (as in
the JSON report) in ``<system-out>``. Suite counts come from the controls
summary, not from the cases.
"""

from __future__ import annotations

from kubecis.report.json import check_json
from kubecis.report.options import ReportOptions
from kubecis.report.views import POLICIES_NODE, Fleet, FleetNode
from kubecis.results.model import ControlsResult, RunResult, State

_ESCAPES = {
    '"': "&#34;",
    "'": "&#39;",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\t": "&#x9;",
    "\n": "&#xA;",
    "\r": "&#xD;",
}


def _in_xml_range(cp: int) -> bool:
    return (
        cp in (0x09, 0x0A, 0x0D)
        or 0x20 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or 0x10000 <= cp <= 0x10FFFF
    )


def go_xml_escape(text: str) -> str:
    """Text or attribute value escaped as Go's ``encoding/xml`` encoder writes it.

    Characters outside the XML character range (and lone surrogates, i.e. invalid
    UTF-8) become U+FFFD.
    """
    out: list[str] = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif _in_xml_range(ord(ch)):
            out.append(ch)
        else:
            out.append("\ufffd")
    return "".join(out)


def render_suite(controls: ControlsResult, name: str | None = None) -> str:
    """One ``<testsuite>`` element, without a trailing newline (``name``: default the controls' text)."""
    c = controls.counts
    head = (
        f'<testsuite name="{go_xml_escape(controls.text if name is None else name)}" tests="{c.total}"'
        f' failures="{c.fail}" errors="0" time="0">'
    )
    cases: list[str] = []
    for group in controls.groups:
        for check in group.checks:
            lines = [
                f'    <testcase name="{go_xml_escape(f"{check.id} {check.text}")}"'
                f' classname="{go_xml_escape(group.text)}" time="0">'
            ]
            if check.state is State.FAIL:
                lines.append(f'        <failure type="">{go_xml_escape(check.remediation)}</failure>')
            elif check.state in (State.WARN, State.INFO):
                lines.append("        <skipped></skipped>")
            lines.append(f"        <system-out>{go_xml_escape(check_json(check))}</system-out>")
            lines.append("    </testcase>")
            cases.append("\n".join(lines))
    if not cases:
        return head + "</testsuite>"
    return head + "\n" + "\n".join(cases) + "\n</testsuite>"


def render(run: RunResult, options: ReportOptions) -> str:
    suites = "".join(render_suite(c) for c in run.controls)
    return "<testsuites>\n" + suites + "\n</testsuites>\n"


def render_fleet(fleet: Fleet, options: ReportOptions) -> str:
    """A cluster: kube-bench's suites per node, each named ``NODE: <controls text>`` (the policies':
    ``(cluster-wide): ...``); a node that was not evaluated is a suite with one test case in error (the reason),
    so CI counts it as a failure of the scan, never as passing."""
    suites: list[str] = []
    for node, run in _fleet_order(fleet):
        if run is None:
            reason = go_xml_escape(f"not evaluated: {node.reason}")
            name = go_xml_escape(node.name)
            suites.append(f'<testsuite name="{name}" tests="1" failures="0" errors="1" time="0">\n'
                          f'    <testcase name="{name} not evaluated" classname="{name}" time="0">\n'
                          f'        <error message="{reason}" type="not_evaluated">{reason}</error>\n'
                          "    </testcase>\n</testsuite>")
            continue
        suites += [render_suite(c, f"{node.name}: {c.text}") for c in run.sorted().controls]
    return "<testsuites>\n" + "".join(suites) + "\n</testsuites>\n"


def _fleet_order(fleet: Fleet) -> list[tuple[FleetNode, RunResult | None]]:
    out: list[tuple[FleetNode, RunResult | None]] = [(n, n.run) for n in fleet.nodes]
    if fleet.policies is not None:
        out.append((FleetNode(POLICIES_NODE, fleet.policies), fleet.policies))
    return out
