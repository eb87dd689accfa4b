"""The machine kubecis runs on."""

from __future__ import annotations

import os

from kubecis.host._fs import FSHost


def _read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class LiveHost(FSHost):
    """Reads this machine: /proc, the file system, /etc/passwd and /etc/group."""

    def __init__(self) -> None:
        super().__init__("/")

    @property
    def name(self) -> str:
        import socket  # only reports name the host

        return socket.gethostname()

    def _stat(self, path: str, follow: bool) -> os.stat_result:
        return os.stat(path, follow_symlinks=follow)

    def _read(self, path: str) -> bytes:
        return _read_file(path)

    def _listdir(self, path: str) -> list[str]:
        return os.listdir(path)

    def _readlink(self, path: str) -> str:
        return os.readlink(path)

    def _open_read(self, path: str) -> int:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)

    def getenv(self, name: str) -> str | None:
        return os.environ.get(name)
