"""``head``: GNU coreutils' head (``-n``, ``-N``).
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.common import (
    count_arg,
    short_opts,
    text_in,
)

__all__ = ["u_head"]


def u_head(ctx: Ctx, args: list[str]) -> int:
    opts, files = short_opts(args, "n", "#", "head")
    n = 10
    if "n" in opts:
        n = count_arg(opts["n"][-1])
    if "#" in opts:
        n = count_arg(opts["#"][-1])
    if len(files) > 1:
        raise Unsupported("head with several files")
    data, st = text_in(ctx, files)
    lines = data.split(b"\n")
    keep = b"\n".join(lines[:n])
    if len(lines) > n:
        keep += b"\n"
    ctx.write(keep)
    return st
