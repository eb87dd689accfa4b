"""``false`` run as a command.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx

__all__ = ["u_false"]


def u_false(ctx: Ctx, args: list[str]) -> int:
    return 1
