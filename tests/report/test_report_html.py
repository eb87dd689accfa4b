"""--format html: content, escaping, self-containment (no external URL), the multi-node matrix."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

from kubecis.report import ReportOptions, render
from kubecis.report.html import bar, donut, matrix, render_nodes
from kubecis.report.views import node_views
from kubecis.results.model import StatusCounts
from kubecis.results.waivers import apply, parse
from tests.report.sample import demo_run, sample_run


class Collector(HTMLParser):
    """Every attribute, every element and the text, to look for anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data


def parsed(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


URL_ATTRS = {"src", "href", "action", "formaction", "data", "poster", "srcset", "xlink:href", "background",
             "manifest", "ping", "cite", "longdesc", "codebase", "archive", "usemap"}


def external_references(html: str) -> list[str]:
    """Anything in the document that a browser would fetch or navigate to."""
    c = parsed(html)
    found = [f"<{t} {k}={v!r}>" for t, k, v in c.attrs if k in URL_ATTRS and not v.startswith("#")]
    found += [f"<{t}>" for t in c.tags if t in ("link", "iframe", "embed", "object", "img", "base", "frame")]
    found += re.findall(r"url\s*\(|@import", c.style)
    found += ["<script src>" for t, k, _ in c.attrs if t == "script" and k == "src"]
    return found


def test_demo_report_is_self_contained_and_complete():
    run = demo_run()
    html = render("html", run, ReportOptions())
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
    assert external_references(html) == []
    # the one `http` in the file may only be inside text (remediations quoting URLs), never a resource
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    checks = re.findall(r'<tr class="check" data-status="(\w+)" data-check="([^"]+)"', html)
    want = [(c.status, c.id) for _, _, c in run.sorted().checks()]
    assert checks == want
    assert len(checks) == run.totals.total == 131
    # every check shows its evidence, expected result and remediation
    for _, _, c in run.checks():
        if c.actual_value:
            assert _esc(c.actual_value) in html, c.id
        if c.remediation:
            assert _esc(c.remediation) in html, c.id


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=True).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")  # markupsafe's


def test_hostile_text_is_escaped():
    html = render("html", sample_run(), ReportOptions())
    assert "<script>alert(1)</script>" not in html
    assert "Ensure &lt;script&gt;alert(1)&lt;/script&gt; is escaped &amp; &#34;quoted&#34;" in html
    assert "\ufffd bad byte" in html  # an undecodable byte from the node: valid UTF-8 out
    html.encode("utf-8")
    assert len(re.findall(r"<script>", html)) == 1  # ours only


def test_summary_counts_rates_and_charts():
    run = apply(sample_run(), parse("waivers:\n  - {id: w, checks: ['1.2.4'], reason: r, expires: 2030-01-01}\n",
                                    "w.yaml"), dt.date(2025, 3, 1))
    html = render("html", run, ReportOptions())
    totals = dict(re.findall(
        r'<li data-status="(\w+)"><span class="swatch s-\w+"></span>\w+: <b class="count">(\d+)</b>', html))
    assert totals == {"PASS": "2", "FAIL": "1", "WARN": "3", "INFO": "1", "WAIVED": "1"}
    assert '<div class="big" id="pass-rate">67%</div>' in html  # 2 PASS of 3 verdicts
    assert html.count('<circle class="seg"') == 5
    assert '<tr class="waiver" data-waiver-status="applied"><td>w</td>' in html
    assert "Cluster: <b>prod</b>" in html and "Node: <b>cp-1</b>" in html


def test_donut_segments_cover_the_circle_in_order():
    segs = donut(StatusCounts(pass_=1, fail=1, warn=2))
    assert [(s.status, s.count, s.length, s.offset) for s in segs] == [
        ("PASS", 1, 25.0, 25.0), ("FAIL", 1, 25.0, 0.0), ("WARN", 2, 50.0, -25.0)]
    assert donut(StatusCounts()) == []
    assert bar(StatusCounts(pass_=3, fail=1)) == [("PASS", 0.0, 75.0, 3), ("FAIL", 75.0, 25.0, 1)]


def test_several_nodes_get_a_matrix():
    a, b = sample_run(node="cp-1"), sample_run(node="worker-1")
    b.controls = [c for c in b.controls if c.id == "4"]  # a worker has only the node target
    views = node_views([("cp-1", a), ("worker-1", b)])
    rows = {r.check_id: r.cells for r in matrix(views)}
    assert rows["1.1.1"] == ("FAIL", "")
    assert rows["4.2.2"] == ("WARN", "WARN")
    html = render_nodes([("cp-1", a), ("worker-1", b)], ReportOptions())
    assert '<section class="card" id="matrix">' in html
    assert "<th>cp-1</th><th>worker-1</th>" in html
    assert external_references(html) == []
    single = render("html", a, ReportOptions())
    assert 'id="matrix"' not in single
