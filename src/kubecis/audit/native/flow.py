"""The shell's control flow: ``exit``, ``return``, ``break`` / ``continue``.

These are not errors (they are not :class:`~kubecis.errors.KubecisError`s): builtins raise them and the
interpreter (:mod:`kubecis.audit.native.shell`) catches them; none leaves an audit.
"""

from __future__ import annotations

__all__ = ["ExitShell", "LoopControl", "ReturnFunc", "ShellSignal"]


class ShellSignal(Exception):
    """Base of the shell's control flow."""


class ExitShell(ShellSignal):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ReturnFunc(ShellSignal):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class LoopControl(ShellSignal):
    """``break``/``continue`` n: unwinds to the n-th enclosing loop."""

    def __init__(self, cont: bool, n: int) -> None:
        super().__init__(cont, n)
        self.cont = cont
        self.n = n
