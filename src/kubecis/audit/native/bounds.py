"""Bounds on one audit, whatever the script or the data it reads (hostile input stays bounded work)."""

from __future__ import annotations

import re
import time

from kubecis.audit.native.errors import LimitExceeded

__all__ = ["MAX_BUFFER", "MAX_DATA", "MAX_SECONDS", "MAX_STEPS", "Budget", "ascii_uint", "check_size"]

MAX_DATA = 8 * 1024 * 1024  # characters in one value the script builds: an expanded word, a variable, a field...
MAX_BUFFER = 256 * 1024 * 1024  # bytes in one pipe or output buffer (host data flows through: a node's journal)
MAX_STEPS = 500_000  # commands executed, loop iterations included
MAX_SECONDS = 30.0  # wall time (the shell executor's timeout)


class Budget:
    """The work one audit may do: commands executed and wall time (see ``MAX_STEPS``, ``MAX_SECONDS``)."""

    def __init__(self, max_steps: int | None = None, seconds: float | None = None) -> None:
        self.steps = 0
        self.max_steps = MAX_STEPS if max_steps is None else max_steps
        self.seconds = MAX_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise LimitExceeded(f"more than {self.max_steps} commands executed")
        if not self.steps & 0xFF:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"ran longer than {self.seconds:g} s")


_UINT = re.compile(r"[0-9]+")


def ascii_uint(text: str) -> int | None:
    """``text`` as a count: ASCII decimal digits only, at most 63 bits; None otherwise.

    ``str.isdigit``, ``\\d`` and ``int()`` also take other scripts' digits (``٣``, ``²``) and
    ``int()`` refuses more than 4300 digits with a ValueError: never feed them a utility's argument.
    """
    if not _UINT.fullmatch(text) or len(text.lstrip("0")) > 18:
        return None
    return int(text)


def check_size(n: int, what: str, limit: int | None = None) -> None:
    """Refuse data over ``limit`` (default ``MAX_DATA``) before it is built or kept."""
    bound = MAX_DATA if limit is None else limit
    if n > bound:
        raise LimitExceeded(f"{what} over {bound} bytes")
