"""Executor policy: native never starts a process (unsupported → WARN with the reason); auto never starts a
shell unless --allow-shell is given (then only on a live host, each shell run announced on stderr before it
starts); --root/--snapshot never use a shell."""

from __future__ import annotations

import json
import subprocess
import sys
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
        audit: cp "$ERRFILE" "$ERRFILE.seen" 2>/dev/null; awk 'BEGIN { print "value=ok" }'
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


def _checks(out: str) -> dict[str, dict[str, str]]:
    doc = json.loads(out)
    return {c["test_number"]: c for x in doc["Controls"] for g in x["tests"] for c in g["results"]}


def _run(cfg: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict[str, dict[str, str]], str]:
    rc = main(["run", "-D", str(cfg), "--benchmark", "policy", "--targets", "node", "--json", *extra])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return _checks(out), err


def _run_process(cfg: Path, tmp_path: Path, *extra: str) -> tuple[dict[str, dict[str, str]], str, str]:
    """kubecis as a process with its stderr in a file; the 4.1.2 audit copies that file when (if) a shell runs
    it, so the copy shows what kubecis had said before the shell started. Returns (checks, stderr, copy)."""
    err_file = tmp_path / "stderr.txt"
    with err_file.open("w") as err:
        proc = subprocess.run(
            [sys.executable, "-m", "kubecis", "run", "-D", str(cfg), "--benchmark", "policy", "--targets", "node",
             "--json", *extra],
            stdout=subprocess.PIPE, stderr=err, text=True, timeout=120, check=False,
            env={"PATH": "/usr/bin:/bin", "ERRFILE": str(err_file)},
        )
    assert proc.returncode == 0, err_file.read_text()
    seen = Path(f"{err_file}.seen")
    return _checks(proc.stdout), err_file.read_text(), seen.read_text() if seen.exists() else ""


def test_native_marks_unsupported_as_warn(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks, _ = _run(cfg, capsys, "--executor", "native")
    assert checks["4.1.1"]["status"] == "PASS"
    assert checks["4.1.2"]["status"] == "WARN"
    assert checks["4.1.2"]["reason"].startswith("audit not supported natively: ")
    assert "--allow-shell" not in checks["4.1.2"]["reason"]  # native was asked for: no hint to use a shell


def test_auto_never_starts_a_shell_by_default(cfg: Path, tmp_path: Path) -> None:
    checks, err, seen = _run_process(cfg, tmp_path)
    assert checks["4.1.1"]["status"] == "PASS"
    c = checks["4.1.2"]
    assert c["status"] == "WARN"
    assert c["reason"].startswith("audit not supported natively: ")
    assert c["reason"].endswith("; --allow-shell runs it through /bin/sh")
    assert seen == ""  # the audit never ran: no shell copied anything
    assert not Path(f"{tmp_path / 'stderr.txt'}.seen").exists()
    assert "running through /bin/sh" not in err
    assert "kubecis: 1 checks not run (audit not supported natively; --allow-shell runs it through /bin/sh): 4.1.2" \
        in err


def test_allow_shell_announces_each_shell_run_before_it_starts(cfg: Path, tmp_path: Path) -> None:
    checks, err, seen = _run_process(cfg, tmp_path, "--allow-shell")
    assert checks["4.1.1"]["status"] == "PASS"
    assert checks["4.1.2"]["status"] == "PASS"
    notice = next(line for line in err.splitlines() if "running through /bin/sh" in line)
    assert notice.startswith("kubecis: running through /bin/sh (audit not supported natively: ")
    assert notice in seen.splitlines()  # already on stderr when the shell ran the audit
    assert err.count("running through /bin/sh") == 1  # 4.1.1 ran natively: no notice for it
    assert "kubecis: 1 checks ran through /bin/sh (audit not supported natively): 4.1.2" in err


def test_executor_shell_says_so_before_it_starts(cfg: Path, tmp_path: Path) -> None:
    checks, _, seen = _run_process(cfg, tmp_path, "--executor", "shell")
    assert checks["4.1.1"]["status"] == "PASS" and checks["4.1.2"]["status"] == "PASS"
    assert "kubecis: --executor shell: every audit runs through /bin/sh" in seen.splitlines()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--executor", "native", "--allow-shell"), "--allow-shell applies to --executor auto"),
        (("--allow-shell", "--snapshot", "example"), "--allow-shell runs audits on this machine; it cannot check"),
    ],
)
def test_allow_shell_misuse_is_a_usage_error(
    cfg: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], needle: str
) -> None:
    rc = main(["run", "-D", str(cfg), "--benchmark", "policy", "--targets", "node", *extra])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and "Traceback" not in err


def test_root_never_uses_the_shell(cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "node"
    (root / "proc").mkdir(parents=True)
    checks, err = _run(cfg, capsys, "--root", str(root))
    assert checks["4.1.2"]["status"] == "WARN" and "/bin/sh" not in err
    assert "--allow-shell" not in checks["4.1.2"]["reason"]  # it would not help: no shell checks --root
    rc = main(["run", "-D", str(cfg), "--benchmark", "policy", "--root", str(root), "--executor", "shell"])
    assert rc == 2
    assert "cannot check --root or --snapshot" in capsys.readouterr().err
    rc = main(["run", "-D", str(cfg), "--benchmark", "policy", "--root", str(root), "--allow-shell"])
    assert rc == 2
    assert "cannot check --root or --snapshot" in capsys.readouterr().err


def test_auto_executor_announces_before_the_shell_runs_and_never_runs_one_unasked() -> None:
    from kubecis.audit.base import AuditResult
    from kubecis.audit.dispatch import ALLOW_SHELL_HINT, AutoExecutor
    from kubecis.audit.native import NativeExecutor
    from tests.fakes import FakeHost

    events: list[str] = []

    class Shell:
        name = "shell"

        def run(self, script: str) -> AuditResult:
            events.append(f"ran {script!r}")
            return AuditResult("out\n", 0, "shell")

    script = "# comment\nawk 'BEGIN { print 1 }'\necho more"
    native = NativeExecutor(FakeHost())
    declined = AutoExecutor(native, None, hint=ALLOW_SHELL_HINT).run(script)
    assert declined.not_run.startswith("audit not supported natively: ")
    assert declined.not_run.endswith("; --allow-shell runs it through /bin/sh") and events == []
    assert AutoExecutor(native, None).run(script).not_run == native.run(script).not_run  # --root/--snapshot: no hint
    res = AutoExecutor(native, Shell(), notify=lambda line: events.append(line)).run(script)
    assert res.output == "out\n" and res.executor == "shell"
    assert events[0].startswith("running through /bin/sh (audit not supported natively: ")
    assert events[0].endswith('): "awk \'BEGIN { print 1 }\'" ...')
    assert events[1] == f"ran {script!r}"  # the notice came first
    events.clear()
    assert AutoExecutor(native, Shell(), notify=events.append).run("echo native").output == "native\n"
    assert events == []  # what runs natively never reaches the shell
