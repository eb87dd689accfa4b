"""Reports: one pure module per output format, each ``render(run, options) -> str``.

Every format is a function of :class:`~kubecis.results.model.RunResult` and
:class:`ReportOptions` only. :func:`render` puts the controls in kube-bench's
order (ascending numeric id) first, as kube-bench does before writing any
format. Add a format by writing a module with a ``render`` function and
registering it in :data:`FORMATS` (kube-bench's formats) or :data:`MORE_FORMATS`
(kubecis's own, imported only when used: a node run never loads them).
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from kubecis.errors import UsageError
from kubecis.report import json as json_report
from kubecis.report import text as text_report
from kubecis.report.color import color_enabled
from kubecis.report.options import ReportOptions
from kubecis.results.model import RunResult


class Renderer(Protocol):
    def __call__(self, run: RunResult, options: ReportOptions, /) -> str: ...


def _junit(run: RunResult, options: ReportOptions, /) -> str:
    """JUnit XML, its module (and the fleet views it shares with the cluster reports) imported when used."""
    from kubecis.report import junit

    return junit.render(run, options)


FORMATS: dict[str, Renderer] = {
    "text": text_report.render,
    "json": json_report.render,
    "junit": _junit,
}


# kubecis's own formats: name -> module under kubecis.report providing ``render``.
MORE_FORMATS: dict[str, str] = {
    "html": "html",
    "sarif": "sarif",
    "csv": "csv",
    "asff": "asff",
}
ALL_FORMATS = (*FORMATS, *MORE_FORMATS)


def renderer(fmt: str) -> Renderer:
    if fmt in FORMATS:
        return FORMATS[fmt]
    if fmt in MORE_FORMATS:
        module = importlib.import_module(f"kubecis.report.{MORE_FORMATS[fmt]}")
        return cast(Renderer, module.render)
    raise UsageError(f"unknown output format {fmt!r} (known: {', '.join(sorted(ALL_FORMATS))})")


def render(fmt: str, run: RunResult, options: ReportOptions) -> str:
    """The complete output of format ``fmt`` (including its final newline)."""
    return renderer(fmt)(run.sorted(), options)


__all__ = ["ALL_FORMATS", "FORMATS", "MORE_FORMATS", "Renderer", "ReportOptions", "color_enabled", "render"]
