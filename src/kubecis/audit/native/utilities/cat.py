"""``cat``: GNU coreutils' cat.
"""

from __future__ import annotations

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.utilities.common import (
    errstr,
    read_input,
    shell_quote,
    short_opts,
)

__all__ = ["u_cat"]


def u_cat(ctx: Ctx, args: list[str]) -> int:
    _opts, files = short_opts(args, "", "u", "cat")
    status = 0
    for f in files or ["-"]:
        try:
            ctx.write(read_input(ctx, f))
        except IsADirectoryError:
            ctx.error(f"{shell_quote(f)}: Is a directory")
            status = 1
        except OSError as exc:
            ctx.error(f"{shell_quote(f)}: {errstr(exc)}")
            status = 1
    return status
