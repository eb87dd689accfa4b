"""Why the native executor does not evaluate an audit: every one is an :class:`~kubecis.errors.AuditError`.

The executor turns each into ``AuditResult(not_run=...)``; the check is WARN with the reason (see
``docs/kube-bench-compat.md#state-machine``). None of them reaches the user as a run error.
"""

from __future__ import annotations

from kubecis.errors import AuditError

__all__ = ["DashSyntaxError", "Irreproducible", "LimitExceeded", "ShellSyntaxError", "Unsupported"]


class Unsupported(AuditError):
    """The script uses a construct the native executor does not implement."""


class Irreproducible(Unsupported):
    """A supported construct met a fact whose output cannot be reproduced exactly (e.g. a tool's error lines
    carrying a thread id). Declined at run time; static coverage counts the construct as supported."""


class ShellSyntaxError(Unsupported):
    """Malformed input whose shell message is not reproduced."""


class DashSyntaxError(ShellSyntaxError):
    """A syntax error whose dash message we reproduce (``Syntax error: "(" unexpected``)."""

    def __init__(self, msg: str, line: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.line = line


class LimitExceeded(AuditError):
    """An audit went over a bound of the interpreter (data size, commands, time): it is not evaluated."""
