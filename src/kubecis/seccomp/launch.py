"""Start a command with restrictions installed in the child right before ``execve``, and tell apart
"the command ran and failed" from "the restrictions stopped it before it started".

The child renames itself (``PR_SET_NAME``) to a marker before installing anything. ``execve``
replaces the name with the program's, before the exec closes Python's close-on-exec error pipe.
So when :class:`subprocess.Popen` returns (the pipe reached EOF: exec succeeded or the child
died) and the child still carries the marker, it died before its program started: a filter
killed a syscall of the exec path itself (``execve``, ``close_range``...), which otherwise
looks like an ordinary exit 159 (SIGSYS) with no message.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import signal
import subprocess
from collections.abc import Callable, Sequence

from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.trace import exit_code, resolve_command, signals_to_child

_PR_SET_NAME = 15
_PR_SET_NO_NEW_PRIVS = 38
MARKER = b"kubecis-preexec"  # 15 bytes: the kernel keeps TASK_COMM_LEN - 1


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl.restype = ctypes.c_int
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return libc


def no_new_privs_step() -> Callable[[], None]:
    """``prctl(PR_SET_NO_NEW_PRIVS)``: required before an unprivileged seccomp or Landlock restriction."""
    libc = _libc()

    def step() -> None:
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "prctl(PR_SET_NO_NEW_PRIVS)")

    return step


def _mark_step() -> Callable[[], None]:
    libc = _libc()
    name = ctypes.create_string_buffer(MARKER)
    addr = ctypes.addressof(name)

    def step() -> None:
        _ = name  # keep the buffer alive
        libc.prctl(_PR_SET_NAME, addr, 0, 0, 0)

    return step


def _comm(pid: int) -> bytes | None:
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read().rstrip(b"\n")
    except OSError:
        return None


def _signame(rc: int) -> str:
    if rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            return f"signal {-rc}"
    return f"exit {rc}"


class Confined:
    """A running command started by :func:`start`."""

    def __init__(self, proc: subprocess.Popen[bytes], name: str, started: bool) -> None:
        self.proc = proc
        self.name = name
        self.started = started

    def wait(self) -> int:
        """Wait (forwarding SIGTERM/SIGHUP), return the shell-style exit code."""
        with signals_to_child(lambda: [self.proc.pid]):
            self.proc.wait()
        return exit_code(self.proc.returncode)


def start(cmd: Sequence[str], steps: Sequence[Callable[[], None]], *, what: str, hint: str) -> Confined:
    """Run ``steps`` in the child after fork, then exec ``cmd``.

    ``what`` names the restrictions in messages ("the seccomp profile p.json"); ``hint`` is appended to
    the error when they stop the command before it starts. Every failure is one :class:`SeccompError`.
    """
    exe = resolve_command(cmd)
    mark = _mark_step()
    all_steps = [mark, *steps]

    def preexec() -> None:
        for step in all_steps:
            step()

    try:
        proc = subprocess.Popen([exe, *cmd[1:]], executable=exe, preexec_fn=preexec)
    except PermissionError as e:
        raise SeccompError(f"{what} stopped {cmd[0]} before it started: exec failed with {e.strerror}; "
                           f"{hint}") from None
    except OSError as e:
        raise SeccompError(f"cannot start {cmd[0]}: {e.strerror or e}") from None
    except subprocess.SubprocessError as e:
        raise SeccompError(f"cannot install {what}: {e}") from None
    started = _comm(proc.pid) != MARKER
    if not started:
        proc.wait()
        raise SeccompError(f"{what} stopped {cmd[0]} before it started: killed by {_signame(proc.returncode)} "
                           f"on the way to exec; {hint}")
    return Confined(proc, cmd[0], started)
