"""strace output parsing (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.trace import exit_code, parse_strace, resolve_command

SAMPLE = """\
100<strace> execve("/usr/bin/python3", [...], 0x7ffd /* 3 vars */) = 0
100<python3> openat(AT_FDCWD, "", O_RDONLY|O_CLOEXEC) = 3
100<python3> read(3,  <unfinished ...>
101<worker 1> futex(0x7f, FUTEX_WAIT, 0, NULL <unfinished ...>
100<python3> <... read resumed>"", 832) = 832
100<python3> --- SIGCHLD {si_signo=SIGCHLD} ---
101<worker 1> <... futex resumed>) = 0
[ Process PID=102 runs in 32 bit mode. ]
102<old32> _llseek(3, 0, [0], SEEK_SET) = 0
102<old32> syscall_0x1b3(0x1, 0x2) = -1 ENOSYS (Function not implemented)
100<python3> mkdir("", 0777) = -1 EPERM (Operation not permitted)
100<python3> +++ exited with 0 +++
"""


def test_parse_counts_per_arch_and_skips_resumed() -> None:
    obs = parse_strace(SAMPLE.splitlines(), native="SCMP_ARCH_X86_64", exec_name="python3")
    assert obs.by_arch["SCMP_ARCH_X86_64"] == {"execve": 1, "openat": 1, "read": 1, "futex": 1, "mkdir": 1}
    assert obs.by_arch["SCMP_ARCH_X86"] == {"_llseek": 1}
    assert obs.first["futex"] == (101, "worker 1")
    assert obs.first["execve"] == (100, "python3")  # strace's own comm replaced by the command
    assert obs.unknown == {"syscall_0x1b3": 1}
    assert obs.arch_first["SCMP_ARCH_X86"] == (102, "old32")


@pytest.mark.parametrize(
    ("lines", "started"),
    [
        (["9 execve(0x1, 0x2, 0x3) = -1 ENOENT (No such file or directory)", "9 +++ exited with 1 +++"], False),
        (["9 execve(0x1, 0x2, 0x3) = -1 ENOEXEC (Exec format error)"], False),
        (["9 execve(0x1, 0x2, 0x3) = 0", "9 brk(0) = 0x5"], True),
        (["9<strace> execve(0x1, 0x2, 0x3 <unfinished ...>", "9<true> <... execve resumed>) = 0"], True),
        (["9<strace> execve(0x1, 0x2, 0x3 <unfinished ...>", "9<x> <... execve resumed>) = -1 EACCES (x)"], False),
        (["9 execveat(3, 0x2, 0x3, 0x4, 0x1000) = 0"], True),
        (["9 write(1, 0x1, 3) = 0"], False),
    ],
)
def test_exec_success_is_recorded(lines: list[str], started: bool) -> None:
    assert parse_strace(lines, native="SCMP_ARCH_X86_64").exec_ok is started


def test_parse_without_comm() -> None:
    obs = parse_strace(['7 write(1, "", 3) = 3', "7 exit_group(0) = ?"], native="SCMP_ARCH_AARCH64")
    assert obs.names() == {"write", "exit_group"}
    assert obs.first["write"] == (7, "")


def test_resolve_command_errors(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    plain.chmod(0o644)
    with pytest.raises(SeccompError, match="missing command"):
        resolve_command([])
    with pytest.raises(SeccompError, match="command not found: no-such-cmd-kubecis"):
        resolve_command(["no-such-cmd-kubecis"])
    with pytest.raises(SeccompError, match="command not found: /nonexistent/x"):
        resolve_command(["/nonexistent/x"])
    with pytest.raises(SeccompError, match="not executable"):
        resolve_command([str(plain)])
    with pytest.raises(SeccompError, match="not executable"):
        resolve_command([str(tmp_path)])


def test_exit_code() -> None:
    assert exit_code(3) == 3
    assert exit_code(-15) == 143
