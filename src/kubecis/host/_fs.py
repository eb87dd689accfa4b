"""Shared implementation of hosts backed by a real directory tree (``/`` or a mounted root).

``FSHost`` reads processes from ``<root>/proc`` and names from ``<root>/etc/passwd``
and ``<root>/etc/group``, parsed directly (never ``pwd``/``grp``), and formats the
``ps`` columns the way procps-ng 4 does.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import time
from collections.abc import Callable
from typing import TypeVar

from kubecis.host.base import FileStat, Process

_T = TypeVar("_T")
HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def to_filestat(st: os.stat_result) -> FileStat:
    return FileStat(
        mode=st.st_mode,
        uid=st.st_uid,
        gid=st.st_gid,
        size=st.st_size,
        nlink=st.st_nlink,
        mtime=st.st_mtime,
        ino=st.st_ino,
        dev=st.st_dev,
        blocks=st.st_blocks,
        atime=st.st_atime,
        ctime=st.st_ctime,
    )


def parse_names(data: bytes) -> dict[int, str]:
    """``name:x:id:...`` lines (passwd or group); the first entry for an id wins."""
    out: dict[int, str] = {}
    for raw in data.decode("utf-8", "replace").splitlines():
        if not raw or raw.startswith("#"):
            continue
        parts = raw.split(":")
        if len(parts) < 3 or not parts[2].isdigit():
            continue
        out.setdefault(int(parts[2]), parts[0])
    return out


def tty_name(tty_nr: int) -> str:
    """procps-style controlling terminal name for a ``tty_nr`` device number."""
    if tty_nr == 0:
        return "?"
    major = (tty_nr >> 8) & 0xFFF
    minor = (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if 136 <= major <= 143:
        return f"pts/{minor + (major - 136) * 256}"
    if major == 4:
        return f"tty{minor}" if minor < 64 else f"ttyS{minor - 64}"
    if major == 5 and minor == 1:
        return "console"
    return "?"


def format_time(ticks: int) -> str:
    """procps TIME column: cumulative CPU as ``[DD-]HH:MM:SS``."""
    t = ticks // HZ
    dd, rem = divmod(t, 86400)
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    return f"{dd}-{hh:02d}:{mm:02d}:{ss:02d}" if dd else f"{hh:02d}:{mm:02d}:{ss:02d}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NOW: list[tuple[float, time.struct_time]] = []  # the last ``now`` converted: one per process table, not per row


def _localtime_now(now: float) -> time.struct_time:
    if _NOW and _NOW[0][0] == now:
        return _NOW[0][1]
    n = time.localtime(now)
    _NOW[:] = [(now, n)]
    return n


def format_stime(start: float, now: float) -> str:
    """procps STIME: ``%H:%M`` today, ``%b%d`` this year, else ``%Y`` (C locale month names)."""
    p = time.localtime(start)
    n = _localtime_now(now)
    if n.tm_year != p.tm_year:
        return f"{p.tm_year}"
    if n.tm_yday != p.tm_yday:
        return f"{_MONTHS[p.tm_mon - 1]}{p.tm_mday:02d}"
    return f"{p.tm_hour:02d}:{p.tm_min:02d}"


def parse_process(pid: int, stat_text: str, status: str, cmdline: bytes, btime: int, uptime: float,
                  now: float) -> Process:
    """Build a :class:`Process` from the raw contents of /proc/PID/{stat,status,cmdline}."""
    lpar = stat_text.index("(")
    rpar = stat_text.rindex(")")
    comm = stat_text[lpar + 1 : rpar]
    fields = stat_text[rpar + 2 :].split()
    ppid = int(fields[1])
    tty_nr = int(fields[4])
    utime, stime_ = int(fields[11]), int(fields[12])
    starttime = int(fields[19])
    uid = 0
    at = 0 if status.startswith("Uid:") else status.find("\nUid:") + 1  # the Uid: line (the kernel's lines end in \n)
    if at >= 0 and status.startswith("Uid:", at):
        end = status.find("\n", at)
        uid = int(status[at : end if end >= 0 else None].split()[2])  # effective uid
    if cmdline.endswith(b"\0"):
        cmdline = cmdline[:-1]
    argv = tuple(a.decode("utf-8", "surrogateescape") for a in cmdline.split(b"\0")) if cmdline else ()
    total = utime + stime_
    seconds = int(uptime) - starttime // HZ
    pcpu = min(99, (total * 100 // HZ) // seconds) if seconds > 0 else 0
    return Process(
        pid=pid,
        ppid=ppid,
        uid=uid,
        comm=comm,
        cmdline=argv,
        tty=tty_name(tty_nr),
        start=format_stime(btime + starttime // HZ, now),
        time=format_time(total),
        pcpu=pcpu,
    )


def rewrap(exc: OSError, filename: str) -> OSError:
    """The same kind of OSError, naming the node path instead of the backing path."""
    err = exc.errno if exc.errno is not None else errno.EIO
    new = type(exc)(err, os.strerror(err), filename)
    return new


class ProcDir:
    """A process table directory (``/proc`` of the node): names, and the files of one process.

    The base implementation reads by path under ``root`` (the live machine); :mod:`kubecis.host.rooted`
    reads through file descriptors held under the mounted root."""

    def __init__(self, path: str) -> None:
        self.path = path

    def names(self) -> list[str]:
        return os.listdir(self.path)

    def read(self, name: str, pid: str | None = None) -> bytes:
        """``/proc/NAME`` or ``/proc/PID/NAME``. Raises OSError."""
        where = os.path.join(self.path, pid, name) if pid is not None else os.path.join(self.path, name)
        with open(where, "rb") as f:
            return f.read()

    def close(self) -> None:
        pass


class FSHost:
    """Base for hosts backed by a directory tree. Subclasses implement the ``_``-prefixed primitives; the
    public methods add the node path to every error."""

    def __init__(self, root: str = "/") -> None:
        self._root = os.path.abspath(root)
        self._users: dict[int, str] | None = None
        self._groups: dict[int, str] | None = None
        self._procs: list[Process] | None = None

    # --- primitives (node paths in, OSError out) ------------------------------
    def _stat(self, path: str, follow: bool) -> os.stat_result:
        raise NotImplementedError

    def _read(self, path: str) -> bytes:
        raise NotImplementedError

    def _listdir(self, path: str) -> list[str]:
        raise NotImplementedError

    def _readlink(self, path: str) -> str:
        raise NotImplementedError

    def _open_read(self, path: str) -> int:
        raise NotImplementedError

    def _proc_dir(self) -> ProcDir:
        return ProcDir(os.path.join(self._root, "proc"))

    def _call(self, path: str, fn: Callable[[str], _T]) -> _T:
        if "\0" in path:  # no file name holds a NUL; the os module would raise ValueError
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        try:
            return fn(path)
        except OSError as exc:
            raise rewrap(exc, path) from None

    # --- files --------------------------------------------------------------
    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        return to_filestat(self._call(path, lambda p: self._stat(p, follow_symlinks)))

    def read(self, path: str) -> bytes:
        return self._call(path, self._read)

    def open_read(self, path: str) -> int:
        """A read-only file descriptor of a regular file (the caller closes it): for readers that map
        large files (journal) instead of copying them."""
        return self._call(path, self._open_read)

    def listdir(self, path: str) -> list[str]:
        return self._call(path, self._listdir)

    def readlink(self, path: str) -> str:
        return self._call(path, self._readlink)

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except OSError:
            return False
        return True

    # --- names --------------------------------------------------------------
    def _names(self, which: str) -> dict[int, str]:
        try:
            return parse_names(self.read(which))
        except OSError:
            return {}

    def user_name(self, uid: int) -> str | None:
        if self._users is None:
            self._users = self._names("/etc/passwd")
        return self._users.get(uid)

    def group_name(self, gid: int) -> str | None:
        if self._groups is None:
            self._groups = self._names("/etc/group")
        return self._groups.get(gid)

    # --- processes ------------------------------------------------------------
    def processes(self) -> list[Process]:
        """The process table, read once per host object (one run): every audit of a run sees the same
        table, as with a snapshot, and a node with many processes is not re-read for each `ps`."""
        if self._procs is None:
            self._procs = self._read_processes()
        return list(self._procs)

    def _read_processes(self) -> list[Process]:
        try:
            proc = self._proc_dir()
        except OSError:
            return []
        try:
            try:
                names = proc.names()
            except OSError:
                return []
            btime = 0
            uptime = 0.0
            try:
                for line in proc.read("stat").decode("ascii", "replace").splitlines():
                    if line.startswith("btime "):
                        btime = int(line.split()[1])
                uptime = float(proc.read("uptime").split()[0])
            except (OSError, ValueError, IndexError):
                pass
            now = time.time()
            out: list[Process] = []
            for name in sorted((n for n in names if n.isdigit()), key=int):
                try:
                    st = proc.read("stat", name).decode("utf-8", "surrogateescape")
                    status = proc.read("status", name).decode("utf-8", "surrogateescape")
                    cmd = proc.read("cmdline", name)
                    out.append(parse_process(int(name), st, status, cmd, btime, uptime, now))
                except (OSError, ValueError, IndexError):
                    continue  # exited meanwhile or unreadable
            return out
        finally:
            proc.close()

    def environ(self, pid: int) -> bytes:
        try:
            proc = self._proc_dir()
            try:
                return proc.read("environ", str(pid))
            finally:
                proc.close()
        except OSError as exc:
            raise rewrap(exc, f"/proc/{pid}/environ") from None


def is_dir(st: FileStat) -> bool:
    return _stat.S_ISDIR(st.mode)
