"""``tr``: GNU coreutils' tr (sets, ranges, ``-d``, ``-s``).
"""

from __future__ import annotations

import re

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.common import (
    short_opts,
)

__all__ = ["u_tr"]


def _tr_set(s: str) -> list[int]:
    out: list[int] = []
    i = 0
    classes = {"upper": range(65, 91), "lower": range(97, 123), "digit": range(48, 58),
               "space": [32, 9, 10, 11, 12, 13], "blank": [32, 9]}
    while i < len(s):
        if s.startswith("[:", i):
            end = s.find(":]", i)
            name = s[i + 2 : end] if end > 0 else ""
            if name not in classes:
                raise Unsupported(f"tr class {name}")
            out.extend(classes[name])
            i = end + 2
            continue
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            d = s[i + 1]
            m = re.match(r"[0-7]{1,3}", s[i + 1 :])
            if m:
                code = int(m.group(0), 8)
                i += 1 + m.end()
            else:
                code = ord({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f",
                            "v": "\v"}.get(d, d))
                i += 2
        else:
            code = ord(c)
            i += 1
        if i + 1 < len(s) and s[i] == "-":
            hi = ord(s[i + 1])
            if hi < code:
                raise Unsupported("tr reverse range")
            out.extend(range(code, hi + 1))
            i += 2
        else:
            out.append(code)
    return out


def u_tr(ctx: Ctx, args: list[str]) -> int:
    opts, sets = short_opts(args, "", "ds", "tr")
    data = ctx.stdin.read_all()
    if "d" in opts and "s" not in opts:
        if len(sets) != 1:
            raise Unsupported("tr -d form")
        table = bytes(b for b in _tr_set(sets[0]) if b < 256)
        ctx.write(data.translate(None, table))
        return 0
    if set(opts) == {"s"} and len(sets) == 1:
        squeeze = set(_tr_set(sets[0]))
        res = bytearray()
        for byte in data:
            if res and byte == res[-1] and byte in squeeze:
                continue
            res.append(byte)
        ctx.write(bytes(res))
        return 0
    if opts or len(sets) != 2:
        raise Unsupported("tr form")
    a, b = _tr_set(sets[0]), _tr_set(sets[1])
    if not b:
        raise Unsupported("tr empty set2")
    b = b + [b[-1]] * (len(a) - len(b))
    mapping = list(range(256))
    for x, y in zip(a, b, strict=False):
        if x < 256 and y < 256:
            mapping[x] = y
    ctx.write(data.translate(bytes(mapping)))
    return 0
