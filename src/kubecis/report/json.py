"""kube-bench's ``--json`` report: Go ``encoding/json`` compact output plus a newline.

Field order comes from the results model (``to_dict`` methods follow kube-bench's
struct order). Strings are escaped as Go 1.22+ ``json.Marshal`` does: HTML
characters ``<``, ``>``, ``&`` and U+2028/U+2029 as ``\\uXXXX``; ``\\b``, ``\\f``,
``\\n``, ``\\r``, ``\\t`` short; other control characters as ``\\u00xx``; invalid
UTF-8 (lone surrogates in a Python ``str``, e.g. from ``surrogateescape``) as
``\\ufffd``; everything else, non-ASCII included, as raw UTF-8.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubecis.golang.json import go_json_string
from kubecis.report.options import ReportOptions
from kubecis.results.model import CheckResult, ControlsResult, RunResult

# Go's encoder: one implementation for the whole project.
go_string = go_json_string


def encode(value: Any) -> str:
    """Compact Go-style JSON for dicts (kept in insertion order), lists, str, bool, int, None."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return go_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{go_string(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def check_json(check: CheckResult) -> str:
    """One check object (also the JUnit ``<system-out>`` payload)."""
    return encode(check.to_dict())


def controls_json(controls: ControlsResult) -> str:
    """One controls object (what kube-bench stores per target with ``--pgsql``)."""
    return encode(controls.to_dict())


def payload(run: RunResult, options: ReportOptions) -> Any:
    """The value kube-bench marshals: ``{"Controls":..., "Totals":...}`` or, with no_totals, the array.

    An empty run marshals its nil slice as ``null``, as Go does.
    """
    controls: list[dict[str, Any]] | None = [c.to_dict() for c in run.controls] or None
    if options.no_totals:
        return controls
    d = run.to_dict()
    d["Controls"] = controls
    return d


def render(run: RunResult, options: ReportOptions) -> str:
    return encode(payload(run, options)) + "\n"
