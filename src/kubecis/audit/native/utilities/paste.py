"""``paste``: GNU coreutils' paste (``-s``, ``-d``) in the forms audits use.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc
from kubecis.audit.native.utilities.common import (
    errstr,
    read_input,
    shell_quote,
    short_opts,
    split_lines,
)

__all__ = ["u_paste"]


def u_paste(ctx: Ctx, args: list[str]) -> int:
    """``paste -s [-d LIST] [FILE|-]...``: each file's lines joined by the (cycled) delimiters."""
    opts, rest = short_opts(args, "d", "s", "paste")
    if "s" not in opts:
        raise Unsupported("paste without -s")
    delims = opts.get("d", ["\t"])[-1]
    if not delims or "\\" in delims:
        raise Unsupported("paste -d with escapes or an empty list")
    status = 0
    for name in rest or ["-"]:
        try:
            data = read_input(ctx, name)
        except OSError as exc:
            ctx.error(f"{shell_quote(name)}: {errstr(exc)}")
            status = 1
            continue
        lines = split_lines(data)
        out: list[bytes] = []
        for k, line in enumerate(lines):
            if k:
                out.append(enc(delims[(k - 1) % len(delims)]))
            out.append(line)
        ctx.write(b"".join(out) + b"\n")
    return status
