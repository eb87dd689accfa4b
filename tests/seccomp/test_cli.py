"""End to end: learn -> enforce/audit -> export/diff/show through the real CLI, real strace, real filters."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kubecis.cli.main import main
from kubecis.seccomp.base import RUNTIME_BASE_SET

from .test_groups_export import validate_spo

WRITE_READ = (
    "import sys; p = sys.argv[1]; open(p, 'w').write('kubecis'); assert open(p).read() == 'kubecis'; print('ok')"
)
MKDIR = "import os, sys; os.mkdir(sys.argv[1]); print('made')"
MKDIR_NAMES = {"mkdir", "mkdirat"}  # python's os.mkdir is mkdir on x86_64, mkdirat on aarch64
# The console script installed beside the interpreter running the tests (the venv the README installs into).
KUBECIS = str(Path(sys.executable).with_name("kubecis"))


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory, needs_ptrace: None, needs_seccomp: None) -> Path:
    """One real learning run of a python program that writes and reads a file."""
    d = tmp_path_factory.mktemp("learn")
    out = d / "profile.json"
    rc = main(["seccomp", "learn", "-o", str(out), "--", sys.executable, "-B", "-c", WRITE_READ, str(d / "f")])
    assert rc == 0
    return out


def _names(path: Path) -> set[str]:
    data = json.loads(path.read_text())
    return {n for rule in data["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" for n in rule["names"]}


def test_learned_profile_shape(learned: Path) -> None:
    data = json.loads(learned.read_text())
    assert data["defaultAction"] == "SCMP_ACT_ERRNO"
    assert data["defaultErrnoRet"] == 1
    assert data["architectures"] == ["SCMP_ARCH_X86_64"] if os.uname().machine == "x86_64" else data["architectures"]
    assert len(data["syscalls"]) == 1 and data["syscalls"][0]["action"] == "SCMP_ACT_ALLOW"
    names = data["syscalls"][0]["names"]
    assert names == sorted(names) and len(names) == len(set(names))
    assert set(names) >= RUNTIME_BASE_SET
    assert {"openat", "write", "read"} <= set(names)
    assert not (MKDIR_NAMES & set(names)), "the learning run must not have created directories"


def test_learn_passes_output_and_exit_code(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_ptrace: None
) -> None:
    out = tmp_path / "p.json"
    rc = main(
        [
            "seccomp",
            "learn",
            "-o",
            str(out),
            "--",
            sys.executable,
            "-B",
            "-c",
            "import sys; print('to-stdout'); print('to-stderr', file=sys.stderr); sys.exit(7)",
        ]
    )
    assert rc == 7
    cap = capfd.readouterr()
    assert "to-stdout" in cap.out and "to-stderr" in cap.err
    assert "kubecis seccomp learn: wrote" in cap.err
    assert out.exists()  # the profile is written even when the command fails


def test_enforce_same_command_succeeds(learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "again"
    rc = main(
        [
            "seccomp",
            "run",
            "--mode",
            "enforce",
            "--profile",
            str(learned),
            "--",
            sys.executable,
            "-B",
            "-c",
            WRITE_READ,
            str(target),
        ]
    )
    assert rc == 0
    assert target.read_text() == "kubecis"
    assert "ok" in capfd.readouterr().out


def test_enforce_blocks_mkdir_with_eperm(learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "newdir"
    code = (
        "import os, sys\n"
        "try:\n    os.mkdir(sys.argv[1])\n"
        "except OSError as e:\n    print('errno', e.errno); sys.exit(3)\n"
    )
    rc = main(
        [
            "seccomp",
            "run",
            "--mode",
            "enforce",
            "-p",
            str(learned),
            "--",
            sys.executable,
            "-B",
            "-c",
            code,
            str(d),
        ]
    )
    assert rc == 3
    assert "errno 1" in capfd.readouterr().out  # EPERM, from defaultErrnoRet
    assert not d.exists()


def test_audit_allows_and_reports_mkdir(learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "auditdir"
    rc = main(
        [
            "seccomp",
            "run",
            "--mode",
            "audit",
            "-p",
            str(learned),
            "--",
            sys.executable,
            "-B",
            "-c",
            MKDIR,
            str(d),
        ]
    )
    assert rc == 0
    assert d.is_dir()
    cap = capfd.readouterr()
    assert "made" in cap.out
    report = [line for line in cap.err.splitlines() if line.strip().split(" ")[0] in MKDIR_NAMES]
    assert len(report) == 1, cap.err
    assert "1x" in report[0] and "python" in report[0] and "pid " in report[0]
    # Nothing the learned run did is reported: only the new syscall(s).
    assert "syscall(s) outside" in cap.err


def test_audit_clean_run_and_exit_code(learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = WRITE_READ + "; sys.exit(5)"
    rc = main(
        [
            "seccomp",
            "run",
            "--mode",
            "audit",
            "-p",
            str(learned),
            "--",
            sys.executable,
            "-B",
            "-c",
            code,
            str(tmp_path / "f"),
        ]
    )
    assert rc == 5
    assert "no syscalls outside" in capfd.readouterr().err


def test_audit_follows_forks_and_names_first_process(
    learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The shell forks a child (`mkdir` binary); the report must name that child and its comm.
    sh = shutil.which("sh")
    assert sh
    rc = main(
        [
            "seccomp",
            "run",
            "--mode",
            "audit",
            "-p",
            str(learned),
            "--",
            sh,
            "-c",
            f"mkdir {tmp_path / 'x'}; echo done",
        ]
    )
    assert rc == 0
    err = capfd.readouterr().err
    line = next(li for li in err.splitlines() if li.strip().split(" ")[0] in MKDIR_NAMES)
    assert "(mkdir)" in line


def test_merge_is_union(tmp_path: Path, needs_ptrace: None, needs_seccomp: None) -> None:
    a, b, m = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "m.json"
    assert main(["seccomp", "learn", "-o", str(a), "--", sys.executable, "-B", "-c", MKDIR, str(tmp_path / "d")]) == 0
    assert (
        main(
            [
                "seccomp",
                "learn",
                "-o",
                str(b),
                "--",
                sys.executable,
                "-B",
                "-c",
                "import socket; socket.socket().close()",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "seccomp",
                "learn",
                "-o",
                str(m),
                "--merge",
                str(a),
                "--",
                sys.executable,
                "-B",
                "-c",
                "import socket; socket.socket().close()",
            ]
        )
        == 0
    )
    na, nb, nm = _names(a), _names(b), _names(m)
    assert MKDIR_NAMES & na and "socket" in nb and "socket" not in na
    assert nm == na | nb


def test_duration_stops_command_and_writes_profile(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_ptrace: None, needs_seccomp: None
) -> None:
    out = tmp_path / "p.json"
    start = time.monotonic()
    rc = main(
        [
            "seccomp",
            "learn",
            "-o",
            str(out),
            "--duration",
            "1.5",
            "--",
            sys.executable,
            "-B",
            "-c",
            "import time\nwhile True: time.sleep(0.1)",
        ]
    )
    elapsed = time.monotonic() - start
    assert rc == 0 and elapsed < 20
    assert "stopped after 1.5s" in capfd.readouterr().err
    assert "clock_nanosleep" in _names(out) or "select" in _names(out) or "nanosleep" in _names(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, deadline: float) -> int:
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/")
            status = c.getresponse().status
            c.close()
            return status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_walkthrough_http_server(tmp_path: Path, needs_ptrace: None, needs_seccomp: None) -> None:
    """docs/seccomp.md: learn a real server under load, then enforce the profile and serve again."""
    prof = tmp_path / "http.json"
    port = _free_port()
    server = [
        sys.executable,
        "-B",
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        str(tmp_path),
        str(port),
    ]
    learn = subprocess.Popen(
        [KUBECIS, "seccomp", "learn", "-o", str(prof), "--duration", "6", "--", *server],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert _get(port, time.monotonic() + 30) == 200
    _, err = learn.communicate(timeout=60)
    assert learn.returncode == 0, err
    assert {"socket", "bind", "listen"} <= _names(prof)
    enforced = subprocess.Popen(
        [KUBECIS, "seccomp", "run", "--profile", str(prof), "--", *server],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _get(port, time.monotonic() + 30) == 200
    finally:
        enforced.terminate()  # forwarded to the server by kubecis
        rc = enforced.wait(timeout=30)
    assert rc in (0, 143, -15)


# ---- bad input: one clear line, non-zero exit ------------------------------------------------------


def _one_error_line(err: str) -> str:
    lines = [li for li in err.splitlines() if li.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("kubecis: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("sub", [["learn", "-o", "OUT"], ["run", "-p", "PROFILE"]])
def test_missing_command(sub: list[str], learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    argv = [
        "seccomp",
        *[str(tmp_path / "o.json") if a == "OUT" else str(learned) if a == "PROFILE" else a for a in sub],
    ]
    assert main(argv) != 0
    assert "missing command" in _one_error_line(capfd.readouterr().err)
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize(
    "sub", [["learn", "-o", "OUT"], ["run", "-p", "PROFILE"], ["run", "--mode", "audit", "-p", "PROFILE"]]
)
def test_command_does_not_exist(
    sub: list[str], learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "seccomp",
        *[str(tmp_path / "o.json") if a == "OUT" else str(learned) if a == "PROFILE" else a for a in sub],
        "--",
        "kubecis-no-such-command",
    ]
    assert main(argv) == 1
    assert "command not found: kubecis-no-such-command" in _one_error_line(capfd.readouterr().err)
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON: line 1 column 2"),
        (
            '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "frobnicate"], '
            '"action": "SCMP_ACT_ALLOW"}]}',
            "unknown syscall 'frobnicate'",
        ),
        (None, "is a directory"),
        ("MISSING", "no such profile file"),
    ],
)
@pytest.mark.parametrize("sub", ["show", "export", "diff", "run", "merge"])
def test_bad_profile_every_command(
    content: str | None,
    message: str,
    sub: str,
    tmp_path: Path,
    learned: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    p = tmp_path / "bad.json"
    if content is None:
        p.mkdir()
    elif content != "MISSING":
        p.write_text(content)
    out = tmp_path / "out.json"
    argv = {
        "show": ["seccomp", "show", str(p)],
        "export": ["seccomp", "export", "--format", "k8s", "--name", "x", str(p)],
        "diff": ["seccomp", "diff", str(learned), str(p)],
        "run": ["seccomp", "run", "-p", str(p), "--", "true"],
        "merge": ["seccomp", "learn", "-o", str(out), "--merge", str(p), "--", "true"],
    }[sub]
    assert main(argv) == 1
    line = _one_error_line(capfd.readouterr().err)
    assert message in line and str(p) in line
    assert not out.exists()


def test_export_show_diff(learned: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["seccomp", "export", "--format", "docker", str(learned)]) == 0
    assert json.loads(capfd.readouterr().out) == json.loads(learned.read_text())
    out = tmp_path / "sp.yaml"
    assert (
        main(
            [
                "seccomp",
                "export",
                "--format",
                "k8s",
                "--name",
                "writer",
                "-n",
                "prod",
                "-o",
                str(out),
                str(learned),
            ]
        )
        == 0
    )
    obj = yaml.safe_load(out.read_text())
    validate_spo(obj)
    assert set(obj["spec"]["syscalls"][0]["names"]) == _names(learned)
    assert "operator/prod/writer.json" in out.read_text()
    assert main(["seccomp", "export", "--format", "k8s", str(learned)]) == 1
    assert "needs --name" in _one_error_line(capfd.readouterr().err)
    assert main(["seccomp", "show", str(learned)]) == 0
    shown = capfd.readouterr().out
    assert "file (" in shown and "openat" in shown
    other = tmp_path / "other.json"
    data = json.loads(learned.read_text())
    data["syscalls"][0]["names"] = [*data["syscalls"][0]["names"], "mkdir"]
    other.write_text(json.dumps(data))
    assert main(["seccomp", "diff", str(learned), str(other)]) == 0
    assert main(["seccomp", "diff", "--exit-code", str(learned), str(other)]) == 1
    assert "+ mkdir" in capfd.readouterr().out


def test_console_script_bad_input(tmp_path: Path, learned: Path) -> None:
    """Once through the installed `kubecis` console script, as a separate process."""
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    r = subprocess.run([KUBECIS, "seccomp", "run", "-p", str(bad), "--", "true"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "not valid JSON" in _one_error_line(r.stderr)
    r = subprocess.run([KUBECIS, "seccomp", "learn", "-o", str(tmp_path / "o.json")], capture_output=True, text=True)
    assert r.returncode == 1 and "missing command" in _one_error_line(r.stderr)
    # Unreadable: root reads anything, so drop to nobody for this one.
    setpriv = shutil.which("setpriv")
    as_nobody = [setpriv or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if os.geteuid() == 0 and setpriv and subprocess.run([*as_nobody, sys.executable, "-c", "pass"]).returncode == 0:
        secret = tmp_path / "secret.json"
        secret.write_text(learned.read_text())
        secret.chmod(0o600)
        tmp_path.chmod(0o755)
        r = subprocess.run(
            [
                setpriv,
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                KUBECIS,
                "seccomp",
                "show",
                str(secret),
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 1, r.stderr
        assert "cannot read profile: permission denied" in _one_error_line(r.stderr)


@pytest.mark.parametrize("mode", ["learn", "audit"])
def test_no_ptrace_is_a_clear_error(mode: str, learned: Path, tmp_path: Path) -> None:
    """Deny ptrace with a real kernel filter around kubecis: learn/audit must fail clearly, write nothing."""
    noptrace = tmp_path / "noptrace.json"
    noptrace.write_text(
        '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}'
    )
    out = tmp_path / "o.json"
    inner = ["learn", "-o", str(out)] if mode == "learn" else ["run", "--mode", "audit", "-p", str(learned)]
    r = subprocess.run(
        [KUBECIS, "seccomp", "run", "-p", str(noptrace), "--", KUBECIS, "seccomp", *inner, "--", "/bin/true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("kubecis: error: strace could not trace the command"), r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()
