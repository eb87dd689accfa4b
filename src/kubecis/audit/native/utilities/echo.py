"""``echo`` run as a command (``/bin/echo``, from ``xargs``/``find -exec``): GNU coreutils' echo.
"""

from __future__ import annotations

import re

from kubecis.audit.native.builtins import echo_escapes
from kubecis.audit.native.context import Ctx

__all__ = ["u_echo"]


def u_echo(ctx: Ctx, args: list[str]) -> int:
    newline, interp = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args[0][1:]:
            newline = newline and c != "n"
            interp = True if c == "e" else False if c == "E" else interp
        args = args[1:]
    text = " ".join(args)
    if interp:
        text, stop = echo_escapes(text)
        newline = newline and not stop
    ctx.write(text + ("\n" if newline else ""))
    return 0
