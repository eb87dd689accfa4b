"""Executor policy: native never starts a process (unsupported → WARN with the reason); auto falls back to
the real shell on a live host only and says which checks needed it; --root/--snapshot never use a shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubecis.cli.main import main

CONTROLS = """\
id: "4"
version: "policy-test"
text: "Executor policy"
type: "node"
groups:
  - id: "4.1"
    text: "Checks"
    checks:
      - id: "4.1.1"
        text: "native subset"
        audit: "echo value=ok"
        tests:
          test_items:
            - flag: "value"
              compare: {op: eq, value: ok}
        scored: true
      - id: "4.1.2"
        text: "outside the native subset"
        audit: "awk 'BEGIN { print \\"value=ok\\" }'"
        tests:
          test_items:
            - flag: "value"
              compare: {op: eq, value: ok}
        scored: true
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    d = tmp_path / "cfg"
    (d / "policy").mkdir(parents=True)
    (d / "config.yaml").write_text("node:\n  components: []\ntarget_mapping:\n  policy:\n    - node\n"
                                   "version_mapping:\n  '1.33': policy\n")
    (d / "policy" / "node.yaml").write_text(CONTROLS)
    return d


def _run(cfg: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict[str, dict[str, str]], str]:
    rc = main(["run", "-D", str(cfg), "--benchmark", "policy", "--targets", "node", "--json", *extra])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    checks = {c["test_number"]: c for x in doc["Controls"] for g in x["tests"] for c in g["results"]}
    return checks, err


def test_native_marks_unsupported_as_warn(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks, _ = _run(cfg, capsys, "--executor", "native")
    assert checks["4.1.1"]["status"] == "PASS"
    assert checks["4.1.2"]["status"] == "WARN"
    assert checks["4.1.2"]["reason"].startswith("audit not supported natively: awk")


def test_auto_falls_back_to_the_shell_and_says_so(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks, err = _run(cfg, capsys)
    assert checks["4.1.2"]["status"] == "PASS"
    assert "kubecis: 1 checks ran through /bin/sh (audit not supported natively): 4.1.2" in err


def test_root_never_uses_the_shell(cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "node"
    (root / "proc").mkdir(parents=True)
    checks, err = _run(cfg, capsys, "--root", str(root))
    assert checks["4.1.2"]["status"] == "WARN" and "/bin/sh" not in err
    rc = main(["run", "-D", str(cfg), "--benchmark", "policy", "--root", str(root), "--executor", "shell"])
    assert rc == 2
    assert "cannot check --root or --snapshot" in capsys.readouterr().err
