"""The machine kubecis runs on."""

from __future__ import annotations

import os
import socket

from kubecis.host._fs import FSHost


class LiveHost(FSHost):
    """Reads this machine: /proc, the file system, /etc/passwd and /etc/group."""

    def __init__(self) -> None:
        super().__init__("/")

    @property
    def name(self) -> str:
        return socket.gethostname()

    def _resolve(self, path: str, follow: bool = True) -> str:
        return path

    def getenv(self, name: str) -> str | None:
        return os.environ.get(name)
