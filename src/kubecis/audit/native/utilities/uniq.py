"""``uniq``: GNU coreutils' uniq in the forms audits use.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.common import (
    short_opts,
    split_lines,
    text_in,
)

__all__ = ["u_uniq"]


def u_uniq(ctx: Ctx, args: list[str]) -> int:
    opts, files = short_opts(args, "", "c", "uniq")
    if len(files) > 1:
        raise Unsupported("uniq output file")
    data, st = text_in(ctx, files)
    groups: list[list[bytes]] = []
    for ln in split_lines(data):
        if groups and groups[-1][0] == ln:
            groups[-1].append(ln)
        else:
            groups.append([ln])
    for g in groups:
        ctx.write((f"{len(g):>7} ".encode() if "c" in opts else b"") + g[0] + b"\n")
    return st
