"""kube-bench's human-readable report (the default output), byte for byte.

Per controls object (kube-bench ``prettyPrint``)::

    [INFO] <id> <text>                 results block, unless no_results
    [INFO] <group id> <group text>
    [STATE] <check id> <check text>
    \t <actual_value line>              include_test_output, FAIL, non-empty actual_value
    <blank>
    == Remediations <node_type> ==      unless no_remediations; only if FAIL or WARN > 0
    <id> <remediation>                  FAIL, and WARN with no reason or type manual
    <id> audit test did not run: <reason>   other WARN
    <blank>
    == Summary <node_type> ==           unless no_summary
    <n> checks PASS / FAIL / WARN / INFO
    <blank>

then ``== Summary total ==`` with the sums unless no_totals. Every entry is
``id + " " + remediation + "\\n"``: the shipped remediations end with a newline,
which is what leaves a blank line after each entry.
"""

from __future__ import annotations

from collections.abc import Callable

from kubecis.report.color import GREEN, RED, STATE_COLORS, YELLOW, escape_controls, paint
from kubecis.report.options import ReportOptions
from kubecis.results.model import CheckResult, ControlsResult, Counts, RunResult, State


def render(run: RunResult, options: ReportOptions) -> str:
    """The whole text report for ``run``, controls in the order given."""
    out: list[str] = []
    for controls in run.controls:
        render_controls(out, controls, options)
    if not options.no_totals:
        render_summary(out, run.totals, "total", options.color)
    return "".join(out)


def _plain(text: str) -> str:
    return text


def render_controls(out: list[str], controls: ControlsResult, options: ReportOptions) -> None:
    color = options.color
    esc: Callable[[str], str] = escape_controls if options.escape_controls else _plain
    if not options.no_results:
        out.append(_state_line(State.INFO, esc(controls.id), esc(controls.text), color))
        for group in controls.groups:
            out.append(_state_line(State.INFO, esc(group.id), esc(group.text), color))
            for check in group.checks:
                out.append(_state_line(check.state, esc(check.id), esc(check.text), color))
                if options.include_test_output and check.state is State.FAIL and check.actual_value:
                    out.extend(f"\t {esc(row)}\n" for row in check.actual_value.split("\n"))
        out.append("\n")

    counts = controls.counts
    if not options.no_remediations and (counts.fail > 0 or counts.warn > 0):
        out.append(paint(YELLOW, f"== Remediations {esc(controls.node_type)} ==\n", color))
        for group in controls.groups:
            for check in group.checks:
                entry = remediation_entry(check)
                if entry is not None:
                    out.append(esc(entry))
        out.append("\n")

    if not options.no_summary:
        render_summary(out, counts, esc(controls.node_type), color)


def remediation_entry(check: CheckResult) -> str | None:
    """The Remediations line(s) for one check, or None for PASS/INFO checks."""
    if check.state is State.FAIL:
        return f"{check.id} {check.remediation}\n"
    if check.state is State.WARN:
        # An audit that could not run says why instead of how to fix.
        if check.reason and check.type != "manual":
            return f"{check.id} audit test did not run: {check.reason}\n"
        return f"{check.id} {check.remediation}\n"
    return None


def render_summary(out: list[str], counts: Counts, name: str, color: bool) -> None:
    out.append(paint(summary_color(counts), f"== Summary {name} ==\n", color))
    out.append(
        f"{counts.pass_} checks PASS\n{counts.fail} checks FAIL\n"
        f"{counts.warn} checks WARN\n{counts.info} checks INFO\n\n"
    )


def summary_color(counts: Counts) -> str:
    """Red if anything failed, else yellow if anything warned, else green."""
    if counts.fail > 0:
        return RED
    if counts.warn > 0:
        return YELLOW
    return GREEN


def _state_line(state: State, ident: str, text: str, color: bool) -> str:
    # Only the "[STATE] " prefix is coloured; the rest is printed plainly.
    return paint(STATE_COLORS[state], f"[{state.value}] ", color) + f"{ident} {text}\n"


__all__ = ["remediation_entry", "render", "render_controls", "render_summary", "summary_color"]
