"""The executor interface every audit runs through.

An executor takes one audit script (after variable substitution) and returns the
combined stdout+stderr text and an exit status, like kube-bench's ``/bin/sh``.
Executors never raise for a failing audit; ``AuditResult`` carries what happened.
"""

from __future__ import annotations

from typing import Protocol

from kubecis.errors import AuditError
from kubecis.golang.fmt import go_quote
from kubecis.records import dataclass

# An audit printing more than this is cut and the check is not evaluated.
MAX_OUTPUT_BYTES = 1 << 20
DEFAULT_TIMEOUT = 30.0

# Go's names for the signals an audit can die of (syscall.Signal.String()).
_SIGNAL_NAMES = {
    1: "hangup", 2: "interrupt", 3: "quit", 4: "illegal instruction", 6: "aborted", 7: "bus error",
    8: "floating point exception", 9: "killed", 11: "segmentation fault", 13: "broken pipe",
    14: "alarm clock", 15: "terminated",
}


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
        if self.returncode < 0:  # killed by a signal: Go's ExitError says "signal: <name>"
            status = f"signal: {_SIGNAL_NAMES.get(-self.returncode, f'signal {-self.returncode}')}"
        else:
            status = f"exit status {self.returncode}"
        return f"failed to run: {go_quote(script)}, output: {go_quote(self.output)}, error: {status}"


def internal_error_reason(exc: BaseException) -> str:
    """The one-line reason a check gets when an exception escaped its audit or evaluation (a bug)."""
    detail = " ".join(str(exc).split())
    if len(detail) > 300:
        detail = detail[:300] + "..."
    return f"internal error in audit: {type(exc).__name__}" + (f": {detail}" if detail else "")


class Executor(Protocol):
    """Runs audit scripts. ``name`` is shown in reports (``shell``, ``native``...)."""

    @property
    def name(self) -> str: ...

    def run(self, script: str) -> AuditResult: ...


class AuditUndecided(AuditError):
    """An in-process audit could not decide (e.g. a probe without access to the objects it needs).

    The native executor turns it into ``AuditResult(not_run=str(exc))``: the check is WARN with that reason.
    """
