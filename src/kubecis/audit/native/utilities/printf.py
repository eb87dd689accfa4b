"""``printf`` run as a command: GNU coreutils' printf (the format rules are dash's builtin's).
"""

from __future__ import annotations

from kubecis.audit.native.builtins import printf_format
from kubecis.audit.native.context import Ctx

__all__ = ["u_printf"]


def u_printf(ctx: Ctx, args: list[str]) -> int:
    if not args:
        ctx.error("missing operand\nTry 'printf --help' for more information.")
        return 1
    text, ok = printf_format(args[0], args[1:])
    ctx.write(text)
    return 0 if ok else 1
