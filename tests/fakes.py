"""An in-memory Host for unit tests (the snapshot host is the real replay implementation)."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field

from kubecis.audit.base import AuditResult
from kubecis.host.base import FileStat, Process


@dataclass
class FakeHost:
    files: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    procs: list[Process] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return "fake"

    def add_process(self, argv: list[str], pid: int | None = None) -> None:
        comm = os.path.basename(argv[0])[:15]
        self.procs.append(Process(pid or 100 + len(self.procs), 1, 0, comm, tuple(argv)))

    def processes(self) -> list[Process]:
        return list(self.procs)

    def environ(self, pid: int) -> bytes:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", f"/proc/{pid}/environ")

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        if path in self.denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        if path in self.files:
            return FileStat(stat.S_IFREG | self.modes.get(path, 0o644), 0, 0, len(self.files[path]))
        if path in self.dirs:
            return FileStat(stat.S_IFDIR | 0o755, 0, 0, 4096)
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)

    def read(self, path: str) -> bytes:
        self.stat(path)
        if path in self.dirs:
            raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
        return self.files[path]

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted({p[len(prefix):].split("/")[0] for p in [*self.files, *self.dirs] if p.startswith(prefix)})

    def readlink(self, path: str) -> str:
        raise OSError(errno.EINVAL, "Invalid argument", path)

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.dirs

    def user_name(self, uid: int) -> str | None:
        return "root" if uid == 0 else None

    def group_name(self, gid: int) -> str | None:
        return "root" if gid == 0 else None

    def getenv(self, name: str) -> str | None:
        return None


@dataclass
class ScriptedExecutor:
    """Maps audit scripts to canned (output, returncode); records what ran."""

    outputs: dict[str, tuple[str, int]] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "scripted"

    def run(self, script: str) -> AuditResult:
        self.ran.append(script)
        out, rc = self.outputs.get(script, ("", 0))
        return AuditResult(out, rc, self.name)
