"""Evaluate a check's test items against its audit outputs (kube-bench-compat.md#state-machine, #test-items).

Per item, kube-bench tries sources in a fixed order decided by *found*, not by
pass/fail (kube-bench-compat.md#source-precedence): flag mode on the audit output; if not found and the check has
an ``audit_config`` whose output is non-empty, path mode on that output (then env
mode if the item names an env var); finally env mode if still not found. The
item's result is the last evaluation's. Items are then combined with ``bin_op``
(every item is evaluated; no short-circuit) and the check's actual value is the
evaluated text of the *first* item, whichever source that item ended on.

Two conditions that abort kube-bench (an unknown ``bin_op`` is reported, an
uncompilable regex panics) come back as ``Outcome.error`` so the state machine
can turn them into a FAIL/WARN with a reason. A config output over one of our
bounds (:mod:`kubecis.yamllimits`) comes back as ``Outcome.refused``: the check
was not evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from kubecis.benchmark.model import TestItem, Tests
from kubecis.evaluate.extract import Extraction, find_env, find_flag, find_path
from kubecis.evaluate.ops import compare
from kubecis.golang.regexp import RegexpError
from kubecis.records import dataclass

Source = Literal["audit", "config", "env"]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One item's result, with the evidence a report can show.

    ``actual`` is the whole right-trimmed text of ``source``; ``notes`` are the
    messages kube-bench would print on stderr (config that does not parse, a bad
    path expression); ``error`` is set when kube-bench would have aborted;
    ``refused`` when the config output was over a bound and not decoded.
    """

    passed: bool
    expected: str
    actual: str
    source: Source
    found: bool
    error: str = ""
    notes: tuple[str, ...] = ()
    refused: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The combined result of a check's tests."""

    passed: bool
    expected: str
    actual: str
    error: str = ""
    items: tuple[ItemOutcome, ...] = ()
    notes: tuple[str, ...] = ()
    refused: str = ""


@dataclass(frozen=True, slots=True)
class _Line:
    passed: bool
    expected: str
    found: bool
    note: str = ""
    fatal: str = ""
    refused: str = ""


def _label(item: TestItem, source: Source) -> str:
    """The name kube-bench prints for the source in use (``testItem.value()``)."""
    return {"audit": item.flag, "config": item.path, "env": item.env}[source]


def _extract(item: TestItem, source: Source, text: str) -> Extraction:
    finders: dict[Source, Callable[[str, str], Extraction]] = {
        "audit": find_flag,
        "config": find_path,
        "env": find_env,
    }
    return finders[source](text, _label(item, source))


def _evaluate_line(item: TestItem, source: Source, text: str) -> _Line:
    """kube-bench's ``testItem.evaluate`` for one text (kube-bench-compat.md#set-and-compare)."""
    found = _extract(item, source, text)
    if found.fatal:
        return _Line(False, "", False, fatal=found.fatal)
    if found.refused:
        return _Line(False, "", False, refused=found.refused)
    if found.error:
        return _Line(False, "", False, note=found.error)
    label = _label(item, source)
    if not item.set:
        return _Line(not found.found, f"'{label}' is not present", found.found)
    if found.found and item.compare.op:
        try:
            passed, expected = compare(item.compare.op, found.value, item.compare.value, label)
        except RegexpError as exc:
            return _Line(False, "", True, fatal=f"invalid regex {item.compare.value!r}: {exc}")
        return _Line(passed, expected, True)
    return _Line(found.found, f"'{label}' is present", found.found)


def _execute(item: TestItem, source: Source, text: str, multiple: bool) -> ItemOutcome:
    """kube-bench's ``testItem.execute``: trim, optionally go line by line, stop at the first failure."""
    trimmed = text.rstrip(" \n")
    lines = trimmed.split("\n") if multiple else [trimmed]
    notes: list[str] = []
    line = _Line(False, "", False)
    for part in lines:
        line = _evaluate_line(item, source, part)
        if line.note:
            notes.append(line.note)
        if line.fatal or line.refused or not line.passed:
            break
    return ItemOutcome(line.passed, line.expected, trimmed, source, line.found, line.fatal, tuple(notes),
                       line.refused)


def _merge_notes(first: ItemOutcome, later: ItemOutcome) -> ItemOutcome:
    if not first.notes:
        return later
    return ItemOutcome(
        later.passed,
        later.expected,
        later.actual,
        later.source,
        later.found,
        later.error,
        first.notes + later.notes,
        later.refused,
    )


def evaluate_item(
    item: TestItem,
    *,
    multiple: bool,
    audit_output: str,
    config_output: str,
    env_output: str,
    has_audit_config: bool,
) -> ItemOutcome:
    """One item with kube-bench-compat.md#source-precedence: audit → config (→ env) → env."""
    out = _execute(item, "audit", audit_output, multiple)
    if out.error:
        return out
    if not out.found and has_audit_config and config_output != "":
        out = _merge_notes(out, _execute(item, "config", config_output, multiple))
        if out.error or out.refused:
            return out
        if not out.found and item.env:
            out = _merge_notes(out, _execute(item, "env", env_output, multiple))
    if not out.found and item.env and not out.error:
        out = _merge_notes(out, _execute(item, "env", env_output, multiple))
    return out


def unknown_bin_op_message(bin_op: str) -> str:
    return f"unknown binary operator for tests {bin_op}"


def evaluate_tests(
    tests: Tests,
    *,
    multiple: bool,
    audit_output: str,
    config_output: str,
    env_output: str,
    has_audit_config: bool,
) -> Outcome:
    """All items combined with ``bin_op`` (``and``/empty: all; ``or``: any)."""
    results = tuple(
        evaluate_item(
            item,
            multiple=multiple,
            audit_output=audit_output,
            config_output=config_output,
            env_output=env_output,
            has_audit_config=has_audit_config,
        )
        for item in tests.items
    )
    notes = tuple(note for r in results for note in r.notes)
    fatal = next((r.error for r in results if r.error), "")
    if fatal:
        return Outcome(False, "", "", error=fatal, items=results, notes=notes)
    refused = next((r.refused for r in results if r.refused), "")
    if refused:
        return Outcome(False, "", "", items=results, notes=notes, refused=refused)
    if not results:
        return Outcome(False, "", "", error="No tests defined", notes=notes)
    if tests.bin_op not in ("", "and", "or"):
        message = unknown_bin_op_message(tests.bin_op)
        return Outcome(False, "", message + "\n", error=message, items=results, notes=notes)
    if tests.bin_op == "or":
        passed, joiner = any(r.passed for r in results), " OR "
    else:
        passed, joiner = all(r.passed for r in results), " AND "
    expected = joiner.join(r.expected for r in results)
    return Outcome(passed, expected, results[0].actual, items=results, notes=notes)
