"""`kubecis demo` (= `run --snapshot example`) shows a real report on any machine, no cluster, no root."""

from __future__ import annotations

import json

import pytest

from kubecis.cli.main import main


def test_demo_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[INFO] 1 Control Plane Security Configuration\n")
    assert "[FAIL] 1.2.6 " in out  # the example node runs the API server with --authorization-mode=AlwaysAllow
    assert "== Summary total ==" in out


def test_demo_snapshot_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """Every host query the bundled definitions make is in the packaged snapshot (else regenerate it:
    python -m tests.hermetic.example_snapshot)."""
    assert main(["run", "--snapshot", "example", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    reasons = [c.get("reason", "") for x in doc["Controls"] for g in x["tests"] or [] for c in g["results"]]
    assert not [r for r in reasons if "not in snapshot" in r]
    states = [c["status"] for x in doc["Controls"] for g in x["tests"] or [] for c in g["results"]]
    assert states.count("FAIL") > 10 and states.count("PASS") > 10
