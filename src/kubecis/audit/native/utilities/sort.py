"""``sort``: GNU coreutils' sort in the forms audits use.
"""

from __future__ import annotations

import re

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.utilities.common import (
    short_opts,
    split_lines,
    text_in,
)

__all__ = ["u_sort"]


def u_sort(ctx: Ctx, args: list[str]) -> int:
    opts, files = short_opts(args, "", "urn", "sort")
    data, st = text_in(ctx, files)
    lines = split_lines(data)
    if "n" in opts:
        def key(b: bytes) -> tuple[float, bytes]:
            m = re.match(rb"\s*(-?\d+(?:\.\d+)?)", b)
            return (float(m.group(1)) if m else 0.0, b)
        lines.sort(key=key)
    else:
        lines.sort()
    if "r" in opts:
        lines.reverse()
    if "u" in opts:
        seen: list[bytes] = []
        for ln in lines:
            if not seen or seen[-1] != ln:
                seen.append(ln)
        lines = seen
    ctx.write(b"".join(ln + b"\n" for ln in lines))
    return st
