"""``xargs``: GNU findutils' xargs (``-I``, ``-L``, ``-n``, ``-r``), running other utilities through ``Ctx.run``.
"""

from __future__ import annotations

from kubecis.audit.native.bounds import ascii_uint
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import Stream, dec

__all__ = ["u_xargs"]


def _xargs_tokens(ctx: Ctx, data: str) -> list[str] | None:
    toks: list[str] = []
    cur: list[str] = []
    have = False
    i = 0
    while i < len(data):
        c = data[i]
        if c in " \t\n":
            if have:
                toks.append("".join(cur))
                cur, have = [], False
        elif c in "'\"":
            end = data.find(c, i + 1)
            nl = data.find("\n", i + 1)
            if end < 0 or (0 <= nl < end):
                kind = "single" if c == "'" else "double"
                ctx.error(f"unmatched {kind} quote; by default quotes are special to xargs unless you use "
                          "the -0 option")
                return None
            cur.append(data[i + 1 : end])
            have = True
            i = end
        elif c == "\\" and i + 1 < len(data):
            cur.append(data[i + 1])
            have = True
            i += 1
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        toks.append("".join(cur))
    return toks


def u_xargs(ctx: Ctx, args: list[str]) -> int:
    replace: str | None = None
    no_run_empty = False
    max_lines = 0
    max_args = 0
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-r", "--no-run-if-empty"):
            no_run_empty = True
        elif a == "-I" and i + 1 < len(args):
            replace = args[i + 1]
            i += 1
        elif a.startswith("-I") and len(a) > 2:
            replace = a[2:]
        elif a == "-i" or a.startswith("--replace"):
            replace = a.partition("=")[2] or "{}" if a != "-i" else "{}"
        elif a == "-L" and i + 1 < len(args) and ascii_uint(args[i + 1]) is not None:
            max_lines = int(args[i + 1])
            i += 1
        elif a.startswith("-L") and ascii_uint(a[2:]) is not None:
            max_lines = int(a[2:])
        elif a == "-n" and i + 1 < len(args) and ascii_uint(args[i + 1]) is not None:
            max_args = int(args[i + 1])
            i += 1
        elif a.startswith("-") and a != "-":
            raise Unsupported(f"xargs {a}")
        else:
            break
        i += 1
    cmd = args[i:] or ["echo"]
    data = dec(ctx.stdin.read_all())
    invocations: list[list[str]] = []
    if replace is not None:
        for line in data.split("\n"):
            line = line.lstrip(" \t")
            if not line:
                continue
            toks = _xargs_tokens(ctx, line)
            if toks is None:
                return 1
            arg = " ".join(toks) if toks else ""
            invocations.append([x.replace(replace, arg) for x in cmd])
    elif max_lines:
        groups: list[list[str]] = []
        cur: list[str] = []
        nlines = 0
        for line in data.split("\n"):
            if line.endswith("\\"):
                raise Unsupported("xargs -L with an escaped newline")
            toks = _xargs_tokens(ctx, line)
            if toks is None:
                return 1
            if not toks:
                continue  # blank lines do not count
            cur.extend(toks)
            if line.endswith((" ", "\t")):
                continue  # GNU: a trailing blank continues the logical line on the next one
            nlines += 1
            if nlines == max_lines:
                groups.append(cur)
                cur, nlines = [], 0
        if cur:
            groups.append(cur)
        invocations = [cmd + g for g in groups]
    else:
        toks = _xargs_tokens(ctx, data)
        if toks is None:
            return 1
        if max_args:
            invocations = [cmd + toks[k : k + max_args] for k in range(0, len(toks), max_args)]
        elif toks:
            invocations = [cmd + toks]
    if not invocations and not no_run_empty and replace is None:
        invocations = [list(cmd)]
    status = 0
    for argv in invocations:
        st = ctx.run(argv, Stream(), ctx.out, ctx.err)
        if st == 255:
            ctx.error(f"{argv[0]}: exited with status 255; aborting")
            return 124
        if st == 127:
            return 127
        if st == 126:
            return 126
        if 1 <= st <= 125:
            status = 123
    return status
