"""Helpers the GNU utilities share: option parsing, input reading, GNU's quoting of file names.
"""

from __future__ import annotations

import re

from kubecis.audit.native.bounds import ascii_uint
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported

__all__ = [
    "count_arg", "errstr", "read_input", "shell_quote", "shell_quote_always", "short_opts", "split_lines", "text_in"
]


def errstr(exc: OSError) -> str:
    return exc.strerror or "Input/output error"


def shell_quote_always(name: str) -> str:
    """GNU quoting style ``shell-escape-always`` (stat, ls errors)."""
    if "'" not in name:
        return f"'{name}'"
    if not any(c in name for c in '"$`\\'):
        return f'"{name}"'
    return "'" + name.replace("'", "'\\''") + "'"


def shell_quote(name: str) -> str:
    """GNU ``shell-escape`` quoting: only when needed (cat, head... error messages)."""
    if name and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", name):
        return name
    return shell_quote_always(name)


def read_input(ctx: Ctx, name: str) -> bytes:
    if name == "-":
        return ctx.stdin.read_all()
    return ctx.host.read(ctx.path(name))


def split_lines(data: bytes) -> list[bytes]:
    """Lines without their terminators (a final unterminated line counts)."""
    if not data:
        return []
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    return parts


def short_opts(
    args: list[str], with_arg: str, flags: str, prog: str, order: list[tuple[str, str]] | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """Parse -abc / -o VAL / -oVAL style options; stops at '--' or first operand (GNU permutes: we don't).

    ``order``, when given, receives every option with an argument as (letter, value) in command-line order.
    """
    opts: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1 :])
            break
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            j = 1
            while j < len(a):
                c = a[j]
                if c in with_arg:
                    val = a[j + 1 :]
                    if not val:
                        i += 1
                        if i >= len(args):
                            raise Unsupported(f"{prog}: option -{c} without argument")
                        val = args[i]
                    opts.setdefault(c, []).append(val)
                    if order is not None:
                        order.append((c, val))
                    break
                if c in flags:
                    opts.setdefault(c, []).append("")
                    j += 1
                    continue
                if c in "0123456789" and "#" in flags:
                    m = re.match(r"[0-9]+", a[j:])
                    assert m
                    opts.setdefault("#", []).append(m.group(0))
                    j += m.end()
                    continue
                raise Unsupported(f"{prog} -{c}")
            i += 1
            continue
        if a.startswith("--"):
            raise Unsupported(f"{prog} {a}")
        rest.append(a)
        i += 1
    return opts, rest


def text_in(ctx: Ctx, files: list[str]) -> tuple[bytes, int]:
    chunks: list[bytes] = []
    status = 0
    for f in files or ["-"]:
        try:
            chunks.append(read_input(ctx, f))
        except OSError as exc:
            kind = "read error" if isinstance(exc, IsADirectoryError) else ""
            if kind:
                ctx.error(f"{shell_quote(f)}: Is a directory")
            else:
                ctx.error(f"cannot open {shell_quote_always(f)} for reading: {errstr(exc)}")
            status = 1
    return b"".join(chunks), status


def count_arg(v: str) -> int:
    n = ascii_uint(v)
    if n is None:
        raise Unsupported(f"count {v}")
    return n
