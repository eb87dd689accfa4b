"""``awk``: the small programs audits use (``-F``, ``{ print $N }``, one condition), as GNU awk runs them.
"""

from __future__ import annotations

import re

from kubecis.audit.native.bounds import ascii_uint
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.regex import PosixRegexError, compile_posix
from kubecis.audit.native.streams import TextSink, dec
from kubecis.audit.native.utilities.common import (
    split_lines,
    text_in,
)

__all__ = ["u_awk"]


def u_awk(ctx: Ctx, args: list[str]) -> int:
    fs = " "
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        a = args[i]
        if a == "-F" and i + 1 < len(args):
            fs = args[i + 1]
            i += 2
        elif a.startswith("-F"):
            fs = a[2:]
            i += 1
        else:
            raise Unsupported(f"awk {a}")
    if i >= len(args):
        raise Unsupported("awk without a program")
    prog = args[i]
    files = args[i + 1 :]
    m = re.fullmatch(r"\s*\{\s*print((?:\s+[^;{}]*)?)\s*;?\s*\}\s*", prog)
    if not m:
        return _awk_small(ctx, prog, files, fs)
    items: list[list[str]] = []  # comma-separated groups of concatenated terms
    expr = m.group(1).strip()
    if expr:
        for group in re.split(r"\s*,\s*", expr):
            terms = re.findall(r'\$(?:NF|[0-9]+)|"[^"\\]*"', group)
            if "".join(terms).replace(" ", "") != group.replace(" ", ""):
                raise Unsupported(f"awk expression {group!r}")
            items.append(terms)
    else:
        items = [["$0"]]
    fs = fs.replace("\\t", "\t")
    if fs == " ":
        def split(line: str) -> list[str]:
            return line.split()
    elif len(fs) == 1 and fs != "\\":
        def split(line: str) -> list[str]:
            return line.split(fs) if line else []
    else:
        try:
            frx = compile_posix(fs, True)
        except PosixRegexError as exc:
            raise Unsupported(f"awk FS: {exc}") from None

        def split(line: str) -> list[str]:
            return frx.split(line) if line else []
    data, st = text_in(ctx, files)
    out = TextSink()
    for raw in split_lines(data):
        line = dec(raw)
        fields = split(line)

        def term(t: str, line: str = line, fields: list[str] = fields) -> str:
            if t.startswith('"'):
                return t[1:-1]
            if t == "$NF":
                return fields[-1] if fields else ""
            k = ascii_uint(t[1:])
            if k == 0:
                return line
            return fields[k - 1] if k is not None and k <= len(fields) else ""

        out.append(" ".join("".join(term(t) for t in g) for g in items) + "\n")
    ctx.write("".join(out))
    return st


_AWK_TOK = re.compile(r'\s*(\$NF|\$[0-9]+|"[^"\\]*"|[0-9]+(?:\.[0-9]+)?|==|!=|<=|>=|[<>(){};,]|if\b|else\b|print\b)')


_AWK_NUM = re.compile(r"[ \t\n]*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ \t\n]*")


def _awk_small(ctx: Ctx, prog: str, files: list[str], fs: str) -> int:
    """mawk for ``[COND] { if (COND) { print ... } else { print ... } ... }`` over fields and constants."""
    toks: list[str] = []
    pos = 0
    while pos < len(prog):
        if not prog[pos:].strip():
            break
        mt = _AWK_TOK.match(prog, pos)
        if not mt:
            raise Unsupported("awk program other than { print ... }")
        toks.append(mt.group(1))
        pos = mt.end()
    k = 0

    def peek() -> str:
        return toks[k] if k < len(toks) else ""

    def take(t: str | None = None) -> str:
        nonlocal k
        if k >= len(toks) or (t is not None and toks[k] != t):
            raise Unsupported("awk program other than { print ... }")
        k += 1
        return toks[k - 1]

    def operand() -> tuple[str, str]:
        t = take()
        if t.startswith("$"):
            return ("field", t)
        if t.startswith('"'):
            return ("str", t[1:-1])
        if t[0].isdigit():
            return ("num", t)
        raise Unsupported("awk program other than { print ... }")

    Cond = tuple[tuple[str, str], str, tuple[str, str] | None]

    def cond() -> Cond:
        a = operand()
        if peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = take()
            return (a, op, operand())
        return (a, "", None)

    def stmt() -> list[object]:
        if peek() == "{":
            take("{")
            body: list[object] = []
            while peek() != "}":
                body.extend(stmt())
                while peek() == ";":
                    take(";")
            take("}")
            return body
        if peek() == "if":
            take("if")
            take("(")
            c = cond()
            take(")")
            then = stmt()
            while peek() == ";":
                take(";")
            els: list[object] = []
            if peek() == "else":
                take("else")
                els = stmt()
            return [("if", c, then, els)]
        take("print")
        groups: list[list[tuple[str, str]]] = []  # comma-separated (OFS), each a concatenation
        while peek() and peek() not in (";", "}"):
            if groups and peek() == ",":
                take(",")
                groups.append([])
            if not groups:
                groups.append([])
            groups[-1].append(operand())
        if any(not g for g in groups):
            raise Unsupported("awk print with an empty expression")
        return [("print", groups)]

    pattern: Cond | None = None
    if peek() != "{":
        pattern = cond()
    action = stmt()
    if k != len(toks):
        raise Unsupported("awk program other than { print ... }")
    if fs != " ":
        raise Unsupported("awk -F with a conditional program")
    data, st = text_in(ctx, files)
    out = TextSink()
    for raw in split_lines(data):
        line = dec(raw)
        fields = line.split()

        def value(o: tuple[str, str], line: str = line, fields: list[str] = fields) -> tuple[str, bool]:
            """(text, numeric?) of an operand; fields are strnums."""
            kind_, t = o
            if kind_ == "str":
                return t, False
            if kind_ == "num":
                return t, True
            idx = len(fields) if t == "$NF" else ascii_uint(t[1:])
            v = line if idx == 0 else (fields[idx - 1] if idx is not None and idx <= len(fields) else "")
            return v, bool(_AWK_NUM.fullmatch(v))

        def truth(c: Cond) -> bool:
            a, op, b = c
            va, na = value(a)
            if b is None:
                return float(va) != 0 if na else va != ""
            vb, nb = value(b)
            if na and nb:
                r = (float(va) > float(vb)) - (float(va) < float(vb))
            else:
                if a[0] == "num" or b[0] == "num":
                    raise Unsupported("awk number/string comparison")
                r = (va > vb) - (va < vb)
            return {"==": r == 0, "!=": r != 0, "<": r < 0, "<=": r <= 0, ">": r > 0, ">=": r >= 0}[op]

        def run(body: list[object], line: str = line) -> None:
            for s_ in body:
                assert isinstance(s_, tuple)
                if s_[0] == "print":
                    text = " ".join("".join(value(o)[0] for o in g) for g in s_[1]) if s_[1] else line
                    out.append(text + "\n")
                else:
                    run(s_[2] if truth(s_[1]) else s_[3])

        if pattern is None or truth(pattern):
            run(action)
    ctx.write("".join(out))
    return st
