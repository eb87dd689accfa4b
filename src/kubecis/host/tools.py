"""The node's own tools as a source of facts: what ``kubectl version`` / ``kubelet --version`` answer.

Benchmark selection may ask them when nothing else tells the Kubernetes version. Only the live machine can
answer (:class:`LiveTools`); a mounted root or a snapshot never starts a program, so for them the engine
passes no tools at all. This is the one place outside the shell executor where kubecis starts a process
(no shell; argv as given; a short timeout).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from typing import Protocol

__all__ = ["TIMEOUT", "LiveTools", "VersionTools"]

TIMEOUT = 10.0


class VersionTools(Protocol):
    """Programs on the node whose output is a fact (a version)."""

    def on_path(self, name: str) -> bool:
        """Whether ``name`` would be found on PATH."""
        ...

    def output(self, argv: Sequence[str]) -> str | None:
        """The program's stdout when it exits 0; None when it cannot be run, fails or times out."""
        ...


class LiveTools:
    """This machine's PATH."""

    def on_path(self, name: str) -> bool:
        return shutil.which(name) is not None

    def output(self, argv: Sequence[str]) -> str | None:
        try:
            cp = subprocess.run(list(argv), capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return cp.stdout if cp.returncode == 0 else None
