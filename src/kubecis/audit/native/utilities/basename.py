"""``basename``: GNU coreutils' basename (``NAME [SUFFIX]``).
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported

__all__ = ["u_basename"]


def u_basename(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0].startswith("-") or len(args) > 2:
        raise Unsupported("basename form")
    p = args[0].rstrip("/") or ("/" if args[0] else "")
    b = p.rsplit("/", 1)[-1] if p != "/" else "/"
    if len(args) == 2 and b.endswith(args[1]) and b != args[1]:
        b = b[: -len(args[1])]
    ctx.write(b + "\n")
    return 0
