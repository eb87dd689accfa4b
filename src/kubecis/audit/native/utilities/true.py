"""``true`` run as a command.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx

__all__ = ["u_true"]


def u_true(ctx: Ctx, args: list[str]) -> int:
    return 0
