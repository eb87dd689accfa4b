"""Executor policy: ``native`` never starts a process; ``auto`` falls back to the real shell.

The fallback happens only for audits the native interpreter does not support, and
only on a live host (with ``--root`` or ``--snapshot`` nothing ever runs in a
shell: those audits stay WARN with the reason). The result names the executor that
produced it, so reports can list the checks that needed the shell.
"""

from __future__ import annotations

from kubecis.audit.base import AuditResult, Executor
from kubecis.host.base import Host

UNSUPPORTED_PREFIX = "audit not supported natively"


def native_executor(host: Host) -> Executor:
    from kubecis.audit.native import NativeExecutor

    return NativeExecutor(host)


class AutoExecutor:
    """Native first; the shell (if given) for audits outside the native subset."""

    def __init__(self, native: Executor, shell: Executor | None) -> None:
        self.native = native
        self.shell = shell

    @property
    def name(self) -> str:
        return "auto"

    def run(self, script: str) -> AuditResult:
        res = self.native.run(script)
        if self.shell is not None and res.not_run.startswith(UNSUPPORTED_PREFIX):
            return self.shell.run(script)
        return res
