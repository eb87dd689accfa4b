"""``cut``: GNU coreutils' cut (``-d``, ``-f``, ``-c``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kubecis.audit.native.bounds import ascii_uint
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc
from kubecis.audit.native.utilities.common import (
    short_opts,
    split_lines,
    text_in,
)

__all__ = ["u_cut"]


def _cut_list(spec: str) -> Callable[[int], bool]:
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        m = re.fullmatch(r"([0-9]*)(-?)([0-9]*)", part)
        if not m or not part or part == "-":
            raise Unsupported(f"cut list {spec}")
        lo_n = ascii_uint(m.group(1)) if m.group(1) else 1
        hi_n = ascii_uint(m.group(3)) if m.group(3) else (lo_n if not m.group(2) else 1 << 62)
        if lo_n is None or hi_n is None:
            raise Unsupported(f"cut list {spec}: number out of range")
        lo, hi = lo_n, hi_n
        ranges.append((lo, hi))
    return lambda k: any(lo <= k <= hi for lo, hi in ranges)


def u_cut(ctx: Ctx, args: list[str]) -> int:
    opts, files = short_opts(args, "dfc", "s", "cut")
    data, st = text_in(ctx, files)
    out: list[bytes] = []
    if "f" in opts:
        delim = enc(opts.get("d", ["\t"])[-1])
        if len(delim) != 1:
            raise Unsupported("cut delimiter")
        want = _cut_list(opts["f"][-1])
        for ln in split_lines(data):
            if delim not in ln:
                if "s" not in opts:
                    out.append(ln + b"\n")
                continue
            fields = ln.split(delim)
            out.append(delim.join(f for k, f in enumerate(fields, 1) if want(k)) + b"\n")
    elif "c" in opts:
        want = _cut_list(opts["c"][-1])
        for ln in split_lines(data):
            out.append(bytes(b for k, b in enumerate(ln, 1) if want(k)) + b"\n")
    else:
        raise Unsupported("cut without -f/-c")
    ctx.write(b"".join(out))
    return st
