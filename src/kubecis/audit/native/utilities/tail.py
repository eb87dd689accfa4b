"""``tail``: GNU coreutils' tail (``-n``, ``-N``).
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.common import (
    count_arg,
    short_opts,
    text_in,
)

__all__ = ["u_tail"]


def u_tail(ctx: Ctx, args: list[str]) -> int:
    opts, files = short_opts(args, "n", "#", "tail")
    n = 10
    from_start = False
    if "n" in opts:
        v = opts["n"][-1]
        if v.startswith("+"):
            from_start = True
            v = v[1:]
        n = count_arg(v)
    if "#" in opts:
        n = count_arg(opts["#"][-1])
    if len(files) > 1:
        raise Unsupported("tail with several files")
    data, st = text_in(ctx, files)
    lines = data.split(b"\n")
    trailing = bool(lines) and lines[-1] == b""
    if trailing:
        lines.pop()
    sel = lines[max(n - 1, 0) :] if from_start else (lines[-n:] if n else [])
    out = b"\n".join(sel)
    if sel and trailing:
        out += b"\n"
    ctx.write(out)
    return st
