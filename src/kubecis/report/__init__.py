"""Reports: one pure module per output format, each ``render(run, options) -> str``.

Every format is a function of :class:`~kubecis.results.model.RunResult` and
:class:`ReportOptions` only. :func:`render` puts the controls in kube-bench's
order (ascending numeric id) first, as kube-bench does before writing any
format. Add a format by writing a module with a ``render`` function and
registering it in :data:`FORMATS`.
"""

from __future__ import annotations

from typing import Protocol

from kubecis.errors import UsageError
from kubecis.report import json as json_report
from kubecis.report import junit as junit_report
from kubecis.report import text as text_report
from kubecis.report.color import color_enabled
from kubecis.report.options import ReportOptions
from kubecis.results.model import RunResult


class Renderer(Protocol):
    def __call__(self, run: RunResult, options: ReportOptions, /) -> str: ...


FORMATS: dict[str, Renderer] = {
    "text": text_report.render,
    "json": json_report.render,
    "junit": junit_report.render,
}


def render(fmt: str, run: RunResult, options: ReportOptions) -> str:
    """The complete output of format ``fmt`` (including its final newline)."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"unknown output format {fmt!r} (known: {', '.join(sorted(FORMATS))})") from None
    return renderer(run.sorted(), options)


__all__ = ["FORMATS", "Renderer", "ReportOptions", "color_enabled", "render"]
