"""``wc``: GNU coreutils' wc (``-l``).
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.common import (
    short_opts,
    text_in,
)

__all__ = ["u_wc"]


def u_wc(ctx: Ctx, args: list[str]) -> int:
    opts, files = short_opts(args, "", "lwc", "wc")
    if len(opts) != 1 or len(files) > 1:
        raise Unsupported("wc form")
    data, st = text_in(ctx, files)
    if st:
        return st
    key = next(iter(opts))
    n = data.count(b"\n") if key == "l" else len(data.split()) if key == "w" else len(data)
    ctx.write(f"{n}" + (f" {files[0]}" if files else "") + "\n")
    return 0
