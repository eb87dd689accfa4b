"""``dirname``: GNU coreutils' dirname.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported

__all__ = ["u_dirname"]


def u_dirname(ctx: Ctx, args: list[str]) -> int:
    if not args or any(a.startswith("-") for a in args):
        raise Unsupported("dirname form")
    for a in args:
        p = a.rstrip("/")
        if not p:
            d = "/" if a else "."
        elif "/" not in p:
            d = "."
        else:
            d = p.rsplit("/", 1)[0].rstrip("/") or "/"
        ctx.write(d + "\n")
    return 0
