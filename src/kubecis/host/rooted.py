"""A node's file system mounted somewhere else (``--root DIR``).

Every node path is resolved under the root; symlinks are followed *within* the
root (an absolute target restarts at the root, ``..`` never climbs above it), so
nothing outside the root is ever read.
"""

from __future__ import annotations

import errno
import os
import stat as _stat

from kubecis.errors import HostError
from kubecis.host._fs import FSHost

_MAX_LINKS = 40


class RootedHost(FSHost):
    def __init__(self, root_dir: str) -> None:
        if not os.path.isdir(root_dir):
            raise HostError(f"root {root_dir!r} is not a directory")
        super().__init__(root_dir)

    @property
    def name(self) -> str:
        for f in ("/etc/hostname",):
            try:
                text = self.read(f).decode("utf-8", "replace").strip()
            except OSError:
                continue
            if text:
                return text
        return self._root

    def getenv(self, name: str) -> str | None:
        return None

    def _resolve(self, path: str, follow: bool = True) -> str:
        """The backing path for a node path; raises OSError like the kernel would."""
        if not path:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        pending = [p for p in path.split("/") if p]
        trailing_slash = path.endswith("/")
        parts: list[str] = []  # resolved components under root, none of them a symlink
        links = 0
        while pending:
            comp = pending.pop(0)
            if comp == ".":
                continue
            if comp == "..":
                if parts:
                    parts.pop()
                continue
            real = os.path.join(self._root, *parts, comp)
            last = not pending
            try:
                st = os.lstat(real)
            except OSError as exc:
                if exc.errno == errno.ENOENT and last:
                    parts.append(comp)  # let the caller's own call report it
                    break
                raise
            if _stat.S_ISLNK(st.st_mode) and (follow or not last or trailing_slash):
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                target = os.readlink(real)
                if target.startswith("/"):
                    parts = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            if not last and not _stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
            parts.append(comp)
        out = os.path.join(self._root, *parts)
        if trailing_slash and parts:
            out += "/"
        return out
