"""A host that answers only for some node paths (a cluster scan's pod sees its hostPath mounts only).

``ScopedHost(inner, only)`` forwards queries for paths under one of ``only`` (after following symbolic
links: a link that leads outside is not followed) and raises :class:`~kubecis.host.base.NotInSnapshot`
for every other path, so that a recording never stores "no such file" for a file the pod could not see:
the check says the path was not recorded. ``/proc`` in ``only`` means the process table is the node's
(``hostPID``); without it, asking for processes raises NotInSnapshot too.

``absent``: paths that belong to other Kubernetes distributions (kube-bench's shared candidate lists name
k3s, RKE2, snap and OpenShift paths for every node). A scan does not mount them, because a container
runtime creates a missing hostPath directory on the node; they are answered "no such file" without
looking, which is what a node of this benchmark's distribution has there.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable

from kubecis.host.base import FileStat, Host, NotInSnapshot, Process

NAME_FILES = ("/etc/passwd", "/etc/group")


class ScopedHost:
    def __init__(self, inner: Host, only: Iterable[str], absent: Iterable[str] = ()) -> None:
        self.inner = inner
        self._roots = tuple(sorted({os.path.normpath(p) for p in only if p.startswith("/")}))
        self._absent = tuple(sorted({os.path.normpath(p) for p in absent if p.startswith("/")}))
        self._procs = "/proc" in self._roots
        # a mount point reached through a symbolic link (/lib -> usr/lib): its real path is visible too
        self._real = tuple(sorted({os.path.realpath(r) for r in self._roots} | set(self._roots)))

    @property
    def name(self) -> str:
        return self.inner.name

    def visible(self, path: str) -> bool:
        return _under(path, self._roots)

    def _check(self, path: str, follow: bool = True) -> None:
        if not self.visible(path):
            if _under(path, self._absent):
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
            raise NotInSnapshot(path)
        if follow and not _under(os.path.realpath(path), self._real):
            raise NotInSnapshot(path)

    def processes(self) -> list[Process]:
        if not self._procs:
            raise NotInSnapshot("process list")
        return self.inner.processes()

    def environ(self, pid: int) -> bytes:
        if not self._procs:
            raise NotInSnapshot(f"/proc/{pid}/environ")
        return self.inner.environ(pid)

    def stat(self, path: str, follow_symlinks: bool = True) -> FileStat:
        self._check(path, follow_symlinks)
        return self.inner.stat(path, follow_symlinks)

    def read(self, path: str) -> bytes:
        self._check(path)
        return self.inner.read(path)

    def listdir(self, path: str) -> list[str]:
        self._check(path)
        return self.inner.listdir(path)

    def readlink(self, path: str) -> str:
        self._check(path, follow=False)
        return self.inner.readlink(path)

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except OSError:
            return False
        return True

    def user_name(self, uid: int) -> str | None:
        if "/etc/passwd" not in self._roots:
            raise NotInSnapshot(f"user {uid}")
        return self.inner.user_name(uid)

    def group_name(self, gid: int) -> str | None:
        if "/etc/group" not in self._roots:
            raise NotInSnapshot(f"group {gid}")
        return self.inner.group_name(gid)

    def getenv(self, name: str) -> str | None:
        return self.inner.getenv(name)


def _under(path: str, roots: tuple[str, ...]) -> bool:
    p = os.path.normpath(path) if path.startswith("/") else path
    return any(p == r or p.startswith(r.rstrip("/") + "/") for r in roots)
