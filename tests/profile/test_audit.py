"""Audit mode on its own: a real learn, then a run that strays; hostile names stay data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from kubecis.cli.main import main

pytestmark = pytest.mark.usefixtures("needs_ptrace", "needs_seccomp")


def test_audit_reports_and_escapes_hostile_names(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    prof = tmp_path / "p.yaml"
    assert main(["profile", "learn", "-o", str(prof), "--", sys.executable, "-B", "-c", "pass"]) == 0
    capfd.readouterr()
    evil = tmp_path / "red\x1b[31mX\nline"
    code = (
        "import os, socket, sys\n"
        "open(sys.argv[1], 'w').close()\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n    s.connect(sys.argv[2])\nexcept OSError:\n    pass\n"
        "os.mkdir(sys.argv[3])\n"
    )
    report = tmp_path / "r.json"
    rc = main(["profile", "run", "--mode", "audit", "--report", str(report), "-p", str(prof), "--",
               sys.executable, "-B", "-c", code, str(evil), str(tmp_path / "sock\x07"), str(tmp_path / "d")])
    err = capfd.readouterr().err
    assert rc == 0, err
    assert evil.exists() and (tmp_path / "d").is_dir()  # nothing blocked
    assert "\x1b" not in err and "\x07" not in err
    assert "red\\x1b[31mX\\x0aline" in err
    doc = json.loads(report.read_text())
    objs = {(d["kind"], d["op"], d["object"]) for d in doc["deviations"]}
    assert ("file", "create", str(evil)) in objs  # exact in JSON (escaped by JSON itself)
    assert ("unix", "connect", str(tmp_path / "sock\x07")) in objs
    assert ("file", "create", str(tmp_path / "d")) in objs
    assert any(k == "syscall" and o in ("mkdir", "mkdirat") for k, o, _ in objs)
    first = next(d for d in doc["deviations"] if d["object"] == str(evil))
    assert first["enforce"] == {"blocked": True, "by": "Landlock", "error": "EACCES"}
    assert first["first"]["comm"] and first["first"]["pid"] > 0


def test_audit_clean_run(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    prof = tmp_path / "p.yaml"
    code = "import os; print(len(os.listdir('/etc')) > 0)"
    assert main(["profile", "learn", "-o", str(prof), "--", sys.executable, "-B", "-c", code]) == 0
    capfd.readouterr()
    assert main(["profile", "run", "--mode", "audit", "-p", str(prof), "--", sys.executable, "-B", "-c", code]) == 0
    cap = capfd.readouterr()
    assert "True" in cap.out
    assert f"kubecis profile audit: nothing outside {prof}" in cap.err
