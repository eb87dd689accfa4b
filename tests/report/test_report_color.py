from __future__ import annotations

import io
import os
import sys

import pytest

from kubecis.report import ReportOptions, color_enabled, render
from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State

ESC = "\x1b["


def _controls(ident: str, node_type: str, *states: State) -> ControlsResult:
    counts = Counts()
    checks = []
    for n, s in enumerate(states, 1):
        counts.add(s)
        checks.append(CheckResult(id=f"{ident}.1.{n}", text=f"c{n}", state=s, remediation=f"fix {n}\n"))
    group = GroupResult(id=f"{ident}.1", text="G", checks=checks, counts=counts)
    return ControlsResult(id=ident, version="", text="T", node_type=node_type, groups=[group], counts=counts)


def test_exact_colour_sequences():
    run = RunResult([_controls("1", "master", State.PASS, State.FAIL, State.WARN, State.INFO)])
    out = render("text", run, ReportOptions(color=True))
    assert out == (
        "\x1b[34m[INFO] \x1b[0m1 T\n"
        "\x1b[34m[INFO] \x1b[0m1.1 G\n"
        "\x1b[32m[PASS] \x1b[0m1.1.1 c1\n"
        "\x1b[31m[FAIL] \x1b[0m1.1.2 c2\n"
        "\x1b[33m[WARN] \x1b[0m1.1.3 c3\n"
        "\x1b[34m[INFO] \x1b[0m1.1.4 c4\n"
        "\n"
        "\x1b[33m== Remediations master ==\n\x1b[0m"
        "1.1.2 fix 2\n\n"
        "1.1.3 fix 3\n\n"
        "\n"
        "\x1b[31m== Summary master ==\n\x1b[0m"
        "1 checks PASS\n1 checks FAIL\n1 checks WARN\n1 checks INFO\n\n"
        "\x1b[31m== Summary total ==\n\x1b[0m"
        "1 checks PASS\n1 checks FAIL\n1 checks WARN\n1 checks INFO\n\n"
    )


def test_summary_colour_by_severity():
    run = RunResult([
        _controls("1", "master", State.PASS, State.WARN),
        _controls("2", "etcd", State.PASS, State.INFO),
        _controls("3", "node", State.FAIL),
    ])
    out = render("text", run, ReportOptions(color=True, no_results=True, no_remediations=True))
    assert "\x1b[33m== Summary master ==\n\x1b[0m" in out
    assert "\x1b[32m== Summary etcd ==\n\x1b[0m" in out
    assert "\x1b[31m== Summary node ==\n\x1b[0m" in out
    assert "\x1b[31m== Summary total ==\n\x1b[0m" in out
    ok = RunResult([_controls("2", "etcd", State.PASS)])
    assert "\x1b[32m== Summary total ==\n\x1b[0m" in render("text", ok, ReportOptions(color=True))


def test_no_colour_when_disabled():
    run = RunResult([_controls("1", "master", State.PASS, State.FAIL, State.WARN, State.INFO)])
    plain = render("text", run, ReportOptions())
    assert ESC not in plain
    coloured = render("text", run, ReportOptions(color=True))
    # Removing the escape sequences gives back exactly the plain output.
    for seq in ("\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[0m"):
        coloured = coloured.replace(seq, "")
    assert coloured == plain
    # Colour is a text-only option.
    for fmt in ("json", "junit"):
        assert ESC not in render(fmt, run, ReportOptions(color=True))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Broken(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_color_enabled_rules():
    tty = _Tty()
    assert color_enabled(tty, {"TERM": "xterm-256color"})
    assert color_enabled(tty, {})
    assert not color_enabled(tty, {"TERM": "xterm", "NO_COLOR": "1"})
    assert color_enabled(tty, {"TERM": "xterm", "NO_COLOR": ""})  # empty counts as unset (fatih/color)
    assert not color_enabled(tty, {"TERM": "dumb"})
    assert not color_enabled(io.StringIO(), {"TERM": "xterm"})  # not a TTY
    assert not color_enabled(object(), {"TERM": "xterm"})
    assert not color_enabled(_Broken(), {"TERM": "xterm"})


def test_color_enabled_reads_process_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("NO_COLOR", "yes")
    assert not color_enabled(_Tty())
    monkeypatch.delenv("NO_COLOR")
    assert color_enabled(_Tty())


def test_color_enabled_real_pipe():
    r, w = os.pipe()
    try:
        with os.fdopen(w, "w") as stream:
            assert not color_enabled(stream, {"TERM": "xterm"})
    finally:
        os.close(r)
    assert color_enabled(sys.stdout, {"TERM": "xterm"}) == sys.stdout.isatty()
