"""`kubecis explain` always explains: on a bare machine, on a recorded node and on a hermetic node its output names
every detection source and decision (golden files; KUBECIS_UPDATE_GOLDEN=1 rewrites them after a deliberate change)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kubecis.benchmark import bundled
from kubecis.cli.main import main

GOLDEN = Path(__file__).parent / "golden"


def normalise(text: str, **paths: Path) -> str:
    for name, p in paths.items():
        text = text.replace(str(p), f"<{name}>")
    return re.sub(r"\bpid \d+", "pid N", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KUBECIS_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_bare_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty root: nothing runs, nothing exists. explain shows every source it tried, then fails (exit 1)."""
    root = tmp_path / "bare"
    root.mkdir()
    rc = main(["explain", "--root", str(root)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert err == ("kubecis: error: could not detect the Kubernetes version (no control-plane manifest with an "
                   "image tag, no kubectl or kubelet answered); pass --version X.Y or --benchmark NAME\n")
    check_golden("explain-bare.txt", normalise(out, ROOT=root, CFG=bundled.materialise()))


def test_run_on_a_bare_machine_says_it_is_not_a_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", "--root", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("kubecis: error: this machine does not look like a Kubernetes node")
    assert "kubecis demo" in err and "--root DIR" in err and "--snapshot FILE" in err and "cluster scan" in err


def test_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--snapshot", "example"]) == 0
    check_golden("explain-example.txt", normalise(capsys.readouterr().out, CFG=bundled.materialise()))
