"""The host interface: processes, stat, read, list, environment.

Implementations: :mod:`kubecis.host.live` (this machine). Others (a mounted root,
a recorded snapshot) implement the same protocol. Paths are always absolute paths
*as seen on the node*; an implementation maps them where it needs to.

Errors are the built-in ``OSError`` subclasses (``FileNotFoundError``,
``PermissionError``, ``NotADirectoryError``, ``IsADirectoryError``) with
``filename`` set, exactly like the ``os`` module, so callers can reproduce the
messages of the tools they stand in for.
"""

from __future__ import annotations

from typing import Protocol

from kubecis.errors import HostError
from kubecis.records import dataclass


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    ppid: int
    uid: int
    comm: str  # kernel command name (/proc/PID/comm, at most 15 characters)
    cmdline: tuple[str, ...]  # argv; empty for kernel threads
    tty: str = "?"
    start: str = ""  # ps STIME column as procps prints it
    time: str = "00:00:00"  # ps TIME column
    pcpu: int = 0  # ps C column (integer %CPU over the process lifetime, capped at 99)

    @property
    def cmd(self) -> str:
        """What ``ps -o cmd`` prints: argv joined by spaces, or ``[comm]`` when argv is empty."""
        return " ".join(self.cmdline) if self.cmdline else f"[{self.comm}]"


@dataclass(frozen=True, slots=True)
class FileStat:
    mode: int  # st_mode (type and permission bits)
    uid: int
    gid: int
    size: int
    nlink: int = 1
    mtime: float = 0.0
    ino: int = 0
    dev: int = 0
    blocks: int = 0
    atime: float = 0.0
    ctime: float = 0.0


class Host(Protocol):
    """Read-only view of one node."""

    @property
    def name(self) -> str: ...

    def processes(self) -> list[Process]: ...

    def environ(self, pid: int) -> bytes:
        """Raw /proc/PID/environ (NUL-separated). Raises OSError."""
        ...

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat: ...

    def read(self, path: str) -> bytes: ...

    def listdir(self, path: str) -> list[str]: ...

    def readlink(self, path: str) -> str: ...

    def exists(self, path: str) -> bool: ...

    def user_name(self, uid: int) -> str | None:
        """Name of a uid in the node's /etc/passwd, or None."""
        ...

    def group_name(self, gid: int) -> str | None: ...

    def getenv(self, name: str) -> str | None:
        """An environment variable of the process running the audit."""
        ...


class NotInSnapshot(HostError):
    """A query a snapshot never recorded (distinct from "the file does not exist").

    ``str()`` is the path (or query) that was asked for.
    """
