"""Issue 9, item 9: each class of hostile or careless seccomp input the red team tried, as a test.

Names (NUL, strace expression syntax, unknown), allow-all profiles, profiles that stop the command before
it starts, `learn` on a command that never started, and bounded parsing (nesting, size, huge numbers,
FIFOs). Everything ends in one line on stderr and a non-zero exit, never a traceback, never a hang,
never an unconfined run without a word.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kubecis.cli.main import main
from kubecis.seccomp import libseccomp
from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import MAX_JSON_DEPTH, MAX_PROFILE_BYTES, Profile, Rule, load, loads

KUBECIS = str(Path(sys.executable).with_name("kubecis"))


def _one_error_line(err: str) -> str:
    lines = [li for li in err.splitlines() if li.strip()]
    assert "Traceback" not in err, err
    errors = [li for li in lines if li.startswith("kubecis: error: ")]
    assert len(errors) == 1, err
    return errors[0]


def _profile(names: list[str], *, default: str = "SCMP_ACT_ERRNO", action: str = "SCMP_ACT_ALLOW") -> str:
    return json.dumps({"defaultAction": default, "syscalls": [{"names": names, "action": action}]})


# ---- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "read\x00x",  # C sees "read": passed libseccomp validation, then crashed audit mode
        "\x00",
        "read,write",  # strace -e trace= list syntax
        "!read",
        "?read",
        "%file",  # strace syscall classes
        "/rea.*/",  # strace regex
        "READ",
        "read ",
        "réad",
        "a" * 65,
        "read\n",
    ],
)
def test_malformed_syscall_names_rejected_by_shape(name: str) -> None:
    with pytest.raises(SeccompError) as ei:
        loads(_profile(["write", name]), source="p.json")
    msg = str(ei.value)
    assert msg.startswith("p.json: syscalls[0]: names: invalid syscall name ")
    assert "\n" not in msg and "\x00" not in msg
    assert not libseccomp.syscall_known(name)


def test_unknown_but_well_formed_name_rejected_by_libseccomp(needs_seccomp: None) -> None:
    p = loads(_profile(["read", "frobnicate"]), source="p.json")
    with pytest.raises(SeccompError, match="unknown syscall 'frobnicate'"):
        libseccomp.validate_names(p, source="p.json")


@pytest.mark.parametrize("arch", ["SCMP_ARCH_X86_64\x00", "SCMP_ARCH_x86_64", "SCMP_ARCH_", "SCMP_ARCH_X86 64"])
def test_malformed_architecture_rejected(arch: str) -> None:
    text = json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "architectures": [arch]})
    with pytest.raises(SeccompError, match="unknown architecture"):
        loads(text, source="p.json")


@pytest.mark.parametrize("mode", ["audit", "enforce"])
def test_nul_name_through_cli_is_one_line(mode: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "nul.json"
    p.write_text(_profile(["execve", "read\x00x"]))
    assert main(["seccomp", "run", "--mode", mode, "-p", str(p), "--", "true"]) == 1
    assert "invalid syscall name 'read\\x00x'" in _one_error_line(capfd.readouterr().err)


# ---- bounded parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
        + "}",
        "[" * 1_000_000,  # unterminated
    ],
)
def test_deep_nesting_is_refused_before_decoding(text: str) -> None:
    with pytest.raises(SeccompError, match="nested deeper than"):
        loads(text, source="deep.json")


def test_brackets_inside_strings_do_not_count() -> None:
    names = ["read"]
    text = json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW",
                                                                        "comment": "[" * 500 + '\\"{' * 100}]})
    assert loads(text, source="ok.json").allowed_names() == {"read"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": NaN}', "must be an integer errno"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1e400}', "must be an integer errno"),
        ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}', "out of range"),
        (" " * (MAX_PROFILE_BYTES + 1), "too large"),
    ],
)
def test_hostile_values(text: str, message: str) -> None:
    with pytest.raises(SeccompError, match=message):
        loads(text, source="p.json")


def test_oversized_file_and_fifo_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(MAX_PROFILE_BYTES + 10)
    with pytest.raises(SeccompError, match="too large"):
        load(big)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(SeccompError, match="not a regular file"):
        load(fifo)  # would block forever if it were opened for a blocking read


def test_deep_file_through_console_script(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    r = subprocess.run([KUBECIS, "seccomp", "show", str(deep)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "nested deeper than" in _one_error_line(r.stderr)


# ---- allow-all profiles ---------------------------------------------------------------------------------


ALLOW_ALL = [
    {"defaultAction": "SCMP_ACT_ALLOW"},
    {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]},
    {"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_LOG"}]},
]


@pytest.mark.parametrize("data", ALLOW_ALL)
def test_allow_all_refused_under_enforce(
    data: dict[str, object], tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_seccomp: None
) -> None:
    p = tmp_path / "all.json"
    p.write_text(json.dumps(data))
    marker = tmp_path / "ran"
    assert main(["seccomp", "run", "-p", str(p), "--", "touch", str(marker)]) == 1
    line = _one_error_line(capfd.readouterr().err)
    assert "allows every syscall" in line and "unconfined" in line
    assert not marker.exists()


@pytest.mark.parametrize("sub", ["show", "export", "audit"])
def test_allow_all_warned_elsewhere(
    sub: str, tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_seccomp: None, needs_ptrace: None
) -> None:
    p = tmp_path / "all.json"
    p.write_text(json.dumps(ALLOW_ALL[0]))
    argv = {
        "show": ["seccomp", "show", str(p)],
        "export": ["seccomp", "export", str(p)],
        "audit": ["seccomp", "run", "--mode", "audit", "-p", str(p), "--", "true"],
    }[sub]
    assert main(argv) == 0
    assert "allows every syscall" in capfd.readouterr().err


def test_deny_list_is_not_allow_all() -> None:
    p = Profile("SCMP_ACT_ALLOW", None, (), (Rule("SCMP_ACT_ERRNO", frozenset({"ptrace"}), None),))
    assert not p.confines_nothing
    assert Profile("SCMP_ACT_ALLOW").confines_nothing


# ---- profiles that stop the command before it starts -----------------------------------------------------


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO"])
def test_execve_denied_is_refused_with_a_hint(
    action: str, tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_seccomp: None
) -> None:
    p = tmp_path / "noexec.json"
    p.write_text(_profile(["execve"], default="SCMP_ACT_ALLOW", action=action))
    marker = tmp_path / "ran"
    assert main(["seccomp", "run", "-p", str(p), "--", "touch", str(marker)]) == 1
    line = _one_error_line(capfd.readouterr().err)
    assert "execve is not allowed" in line and "--mode audit" in line
    assert not marker.exists()


def test_killed_on_the_way_to_exec_is_detected(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_seccomp: None
) -> None:
    """The filter kills close_range/close, which the child calls after installing it and before execve:
    without detection this is an unexplained exit 159."""
    p = tmp_path / "noclose.json"
    p.write_text(_profile(["close_range", "close"], default="SCMP_ACT_ALLOW", action="SCMP_ACT_KILL_PROCESS"))
    marker = tmp_path / "ran"
    assert main(["seccomp", "run", "-p", str(p), "--", "touch", str(marker)]) == 1
    line = _one_error_line(capfd.readouterr().err)
    assert "stopped touch before it started: killed by SIGSYS" in line and "--mode audit" in line
    assert not marker.exists()


def test_killed_after_start_is_explained(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_seccomp: None
) -> None:
    p = tmp_path / "nouname.json"
    p.write_text(_profile(["uname"], default="SCMP_ACT_ALLOW", action="SCMP_ACT_KILL_PROCESS"))
    rc = main(["seccomp", "run", "-p", str(p), "--", sys.executable, "-B", "-c", "import os; print('up'); os.uname()"])
    assert rc == 128 + 31
    cap = capfd.readouterr()
    assert "up" in cap.out
    assert "was killed by SIGSYS" in cap.err and "--mode audit" in cap.err


# ---- learn/audit on a command that never started ----------------------------------------------------------


def _bad_commands(tmp_path: Path) -> dict[str, Path]:
    shebang = tmp_path / "bad-shebang"
    shebang.write_text("#!/nonexistent/interpreter\n")
    elf = tmp_path / "bad-elf"
    elf.write_bytes(b"\x7fELF" + b"\x00" * 60)
    for f in (shebang, elf):
        f.chmod(0o755)
    return {"shebang": shebang, "elf": elf}


@pytest.mark.parametrize("kind", ["shebang", "elf"])
@pytest.mark.parametrize("sub", ["learn", "audit"])
def test_never_started_writes_nothing(
    kind: str, sub: str, tmp_path: Path, capfd: pytest.CaptureFixture[str], needs_ptrace: None, needs_seccomp: None
) -> None:
    cmd = str(_bad_commands(tmp_path)[kind])
    out = tmp_path / "out.json"
    good = tmp_path / "good.json"
    good.write_text(_profile(["execve", "read"]))
    argv = (["seccomp", "learn", "-o", str(out), "--", cmd] if sub == "learn"
            else ["seccomp", "run", "--mode", "audit", "-p", str(good), "--", cmd])
    assert main(argv) == 1
    assert f"{cmd} never started" in _one_error_line(capfd.readouterr().err)
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == sorted(["bad-shebang", "bad-elf", "good.json"])  # no temp file left


@pytest.mark.parametrize("what", ["missing", "directory", "not-executable"])
def test_learn_unrunnable_path(what: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "cmd"
    if what == "directory":
        target.mkdir()
    elif what == "not-executable":
        target.write_text("#!/bin/sh\n")
    out = tmp_path / "out.json"
    assert main(["seccomp", "learn", "-o", str(out), "--", str(target)]) == 1
    line = _one_error_line(capfd.readouterr().err)
    assert ("command not found" if what == "missing" else "not executable") in line
    assert not out.exists()


def test_forwarding_signals_survives_non_utf8_process_names() -> None:
    """SIGTERM forwarding walks /proc/*/stat; a process named with arbitrary bytes must not crash it."""
    from kubecis.seccomp.trace import _descendants

    code = ("import ctypes, sys, time; libc = ctypes.CDLL(None); libc.prctl(15, ctypes.c_char_p(b'\\xf4bad\\xff)x'), "
            "0, 0, 0); print('ready', flush=True); time.sleep(30)")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as child:
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
            assert Path(f"/proc/{child.pid}/comm").read_bytes().startswith(b"\xf4bad")
            assert child.pid in _descendants(os.getpid())
        finally:
            child.kill()
