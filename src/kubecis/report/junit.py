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


def render_suite(controls: ControlsResult) -> str:
    """One ``<testsuite>`` element, without a trailing newline."""
    c = controls.counts
    head = (
        f'<testsuite name="{go_xml_escape(controls.text)}" tests="{c.total}" failures="{c.fail}"'
        ' errors="0" time="0">'
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
