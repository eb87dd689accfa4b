"""Interruption, output paths and command-line values: the CLI's contract with a careless or hostile user."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubecis.cli.main import main

KUBECIS = Path(sys.executable).with_name("kubecis")


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def sleepy_cfg(tmp_path: Path, cfg_dir: Path) -> Path:
    """A benchmark whose one audit starts a background child that records its pid, then sleeps."""
    d = tmp_path / "cfg"
    d.mkdir()
    text = (cfg_dir / "config.yaml").read_text()
    (d / "config.yaml").write_text(text.replace("target_mapping:", 'target_mapping:\n  "sleepy":\n    - "node"', 1))
    (d / "sleepy").mkdir()
    pidfile = tmp_path / "child.pid"
    (d / "sleepy" / "node.yaml").write_text(f"""---
controls:
version: "x"
id: 4
text: "Worker Node Security Configuration"
type: "node"
groups:
  - id: 4.1
    text: "g"
    checks:
      - id: 4.1.1
        text: "sleeps"
        audit: "sleep 300 & echo $! > {pidfile}; wait"
        tests:
          test_items:
            - flag: "x"
              set: true
        scored: true
""")
    return d


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its reaper is gone for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"),
                                                   (signal.SIGINT, 130, "interrupted")])
def test_signal_stops_audit_group_and_leaves_no_file(sleepy_cfg: Path, tmp_path: Path, sig: signal.Signals,
                                                      code: int, word: str) -> None:
    if not KUBECIS.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    out = tmp_path / "report.json"
    proc = subprocess.Popen([str(KUBECIS), "run", "-D", str(sleepy_cfg), "--benchmark", "sleepy", "--targets", "node",
                             "--executor", "shell", "--json", "--outputfile", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pidfile = tmp_path / "child.pid"
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline, "the audit never started"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    child = int(pidfile.read_text())
    assert _alive(child)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code
    shell_notice, rest = stderr.split("\n", 1)  # --executor shell says so before the first audit
    assert shell_notice == "kubecis: --executor shell: every audit runs through /bin/sh"
    assert one_line(rest) == f"kubecis: error: {word}"
    assert stdout == ""
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the audit's background process outlived kubecis"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "child.pid"]  # no report, no temp file


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device", "dangling-symlink"])
def test_output_never_replaces_links_or_special_files(kind: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out"
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    if kind == "symlink":
        target.symlink_to(victim)
    elif kind == "dangling-symlink":
        target.symlink_to(tmp_path / "nowhere")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target = Path("/dev/full")
    before = os.lstat(target)
    rc = main(["run", "--snapshot", "example", "--json", "--outputfile", str(target)])
    err = capsys.readouterr().err
    assert rc == 1
    line = one_line(err)
    assert line.startswith(f"kubecis: error: --outputfile {target}: ")
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert victim.read_text() == "keep me"


def test_snapshot_record_output_refuses_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "node.snap"
    link.symlink_to(tmp_path / "elsewhere")
    assert main(["snapshot", "record", "-o", str(link), "--benchmark", "cis-1.12"]) == 1
    assert "is a symbolic link" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize(("args", "needle"), [
    (["run", "--exit-code", "256"], "argument --exit-code: 256 is out of range (0-255)"),
    (["run", "--exit-code", "-1"], "argument --exit-code"),
    (["run", "--version", "1." + "9" * 5000], "is not a Kubernetes version"),
    (["run", "--version", "1.33;id"], "is not a Kubernetes version"),
    (["run", "--timeout", "nan"], "argument --timeout"),
    (["run", "--scored=maybe"], "invalid boolean value 'maybe'"),
    (["run", "--nope"], "No such option: --nope (see 'kubecis run --help')"),
    (["benchmarks"], "missing subcommand"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_values_are_one_line(args: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(args)
    out, err = capsys.readouterr()
    assert rc == 2
    assert needle in one_line(err)
    assert out == ""


def test_exit_code_255_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--snapshot", "example", "--json", "--exit-code", "255"]) == 255  # the example FAILs
    capsys.readouterr()


def test_scored_false_like_cobra(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    main(["run", "--snapshot", "example", "--json", "--scored=false"])
    data = json.loads(capsys.readouterr().out)
    checks = [c for ctl in data["Controls"] for g in ctl["tests"] for c in g["results"]]
    assert checks and not any(c["scored"] for c in checks)


def test_unwritable_output_as_non_root_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not KUBECIS.exists() or shutil.which("setpriv") is None:
        pytest.skip("needs root (to become nobody), setpriv and the console script")
    probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c",
                            "pass"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:  # e.g. an interpreter whose libpython lives under /root
        pytest.skip(f"nobody cannot run this Python: {probe.stderr.strip()[-200:]}")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o755)
    cp = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(KUBECIS), "run",
                         "--snapshot", "example", "--outputfile", str(locked / "sub" / "r.txt")],
                        capture_output=True, text=True, check=False, env={**os.environ, "HOME": "/nonexistent"})
    assert cp.returncode == 1, cp.stderr
    assert "--outputfile" in one_line(cp.stderr)


def test_terminal_escapes_from_data_are_shown_escaped() -> None:
    from kubecis.report import ReportOptions, render
    from kubecis.results.model import CheckResult, ControlsResult, Counts, GroupResult, RunResult, State

    check = CheckResult(id="1.1.1", text="evil \x1b]0;pwned\x07 title \x9b2J", state=State.FAIL,
                        remediation="fix \x1b[2J it\n", actual_value="line\x1b[31m")
    group = GroupResult(id="1.1", text="g", checks=[check], counts=Counts(fail=1))
    run = RunResult(benchmark="x", controls=[ControlsResult(id="1", version="v", text="t", node_type="master",
                                                            groups=[group], counts=Counts(fail=1))])
    run = run.sorted()
    shown = render("text", run, ReportOptions(escape_controls=True, color=True, include_test_output=True))
    assert "\\x1b]0;pwned\\x07" in shown and "\\x9b2J" in shown and "\\x1b[2J" in shown
    data_escapes = shown.replace("\x1b[32m", "").replace("\x1b[31m", "").replace("\x1b[33m", "")
    data_escapes = data_escapes.replace("\x1b[34m", "").replace("\x1b[0m", "")
    assert "\x1b" not in data_escapes and "\x9b" not in data_escapes and "\x07" not in data_escapes
    plain = render("text", run, ReportOptions())
    assert "\x1b]0;pwned\x07" in plain  # files and pipes get the bytes kube-bench would write
