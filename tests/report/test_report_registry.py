from __future__ import annotations

import dataclasses

import pytest

from kubecis.errors import UsageError
from kubecis.report import ALL_FORMATS, FORMATS, MORE_FORMATS, ReportOptions, render
from kubecis.results.model import RunResult


def test_registry_names():
    assert sorted(FORMATS) == ["json", "junit", "text"]


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown output format 'yaml'"):
        render("yaml", RunResult(), ReportOptions())


def test_kubecis_formats_are_loaded_only_when_used():
    assert MORE_FORMATS == {"html": "html", "sarif": "sarif", "csv": "csv", "asff": "asff"}
    assert ALL_FORMATS == ("text", "json", "junit", "html", "sarif", "csv", "asff")
    for fmt in ("html", "sarif", "csv"):
        assert render(fmt, RunResult(), ReportOptions())


def test_options_defaults_and_frozen():
    opts = ReportOptions()
    assert dataclasses.asdict(opts) == {
        "no_results": False, "no_remediations": False, "no_summary": False, "no_totals": False,
        "include_test_output": False, "color": False, "escape_controls": False, "asff": None,
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.color = True  # type: ignore[misc]


def test_render_does_not_mutate_run():
    from kubecis.results.model import ControlsResult

    run = RunResult([ControlsResult(id=i, version="", text="", node_type="") for i in ("2", "1")])
    for fmt in FORMATS:
        render(fmt, run, ReportOptions())
    assert [c.id for c in run.controls] == ["2", "1"]
