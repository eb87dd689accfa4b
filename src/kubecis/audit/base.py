"""The executor interface every audit runs through.

An executor takes one audit script (after variable substitution) and returns the
combined stdout+stderr text and an exit status, like kube-bench's ``/bin/sh``.
Executors never raise for a failing audit; ``AuditResult`` carries what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kubecis.gofmt import go_quote

# An audit printing more than this is cut and the check is not evaluated.
MAX_OUTPUT_BYTES = 1 << 20
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class AuditResult:
    output: str
    returncode: int = 0
    executor: str = ""
    # Set when the audit was not run to completion; the check becomes WARN with this reason.
    not_run: str = ""

    def error_text(self, script: str) -> str:
        """kube-bench's error for a non-zero exit, or "" when the audit succeeded."""
        if self.returncode == 0:
            return ""
        return (
            f"failed to run: {go_quote(script)}, output: {go_quote(self.output)}, "
            f"error: exit status {self.returncode}"
        )


class Executor(Protocol):
    """Runs audit scripts. ``name`` is shown in reports (``shell``, ``native``...)."""

    @property
    def name(self) -> str: ...

    def run(self, script: str) -> AuditResult: ...
