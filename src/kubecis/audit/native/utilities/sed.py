"""``sed``: GNU sed's commands audits use (``s``, ``p``, ``d``, addresses, ``-n``, ``-E``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kubecis.audit.native.bounds import ascii_uint, check_size
from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.regex import PosixRegexError, compile_posix
from kubecis.audit.native.streams import TextSink, dec
from kubecis.audit.native.utilities.common import (
    short_opts,
    text_in,
)

__all__ = ["u_sed"]


class _SedCmd:
    def __init__(self, addr: object, cmd: str, rx: re.Pattern[str] | None = None, repl: str = "",
                 glob: bool = False, pflag: bool = False, negate: bool = False) -> None:
        self.addr = addr
        self.negate = negate  # `ADDR!cmd`: run where the address does not match
        self.cmd = cmd
        self.rx = rx
        self.repl = repl
        self.glob = glob
        self.pflag = pflag


def _sed_parse(script: str, ext: bool) -> list[_SedCmd]:
    cmds: list[_SedCmd] = []
    i = 0
    n = len(script)
    while i < n:
        while i < n and script[i] in " \t\n;":
            i += 1
        if i >= n:
            break
        addr: object = None
        m = re.match(r"[0-9]+", script[i:])
        if m:
            addr = ascii_uint(m.group(0))
            if addr is None:
                raise Unsupported(f"sed: line number {m.group(0)[:20]}... out of range")
            i += m.end()
        elif script[i] == "$":
            addr = "$"
            i += 1
        elif script[i] == "/":
            end = i + 1
            while end < n and script[end] != "/":
                end += 2 if script[end] == "\\" else 1
            if end >= n:
                raise Unsupported("sed: unterminated address regex")
            try:
                addr = compile_posix(script[i + 1 : end], ext)
            except PosixRegexError as exc:
                raise Unsupported(f"sed regex: {exc}") from None
            i = end + 1
        negate = False
        if addr is not None and i < n and script[i] == "!":
            negate = True
            i += 1
            while i < n and script[i] in " \t":
                i += 1
        if i >= n:
            raise Unsupported("sed: missing command")
        c = script[i]
        i += 1
        if c in "pdq":
            cmds.append(_SedCmd(addr, c, negate=negate))
            continue
        if c != "s":
            raise Unsupported(f"sed command {c}")
        if i >= n:
            raise Unsupported("sed: unterminated s")
        delim = script[i]
        i += 1
        pieces: list[str] = []
        for _ in range(2):
            buf: list[str] = []
            while True:
                if i >= n:
                    raise Unsupported("sed: unterminated s")
                ch = script[i]
                if ch == "\\" and i + 1 < n:
                    nxt = script[i + 1]
                    buf.append(nxt if nxt == delim else "\\" + nxt)
                    i += 2
                    continue
                if ch == delim:
                    i += 1
                    break
                buf.append(ch)
                i += 1
            pieces.append("".join(buf))
        flags = re.match(r"[gpI0-9]*", script[i:])
        fl = flags.group(0) if flags else ""
        i += len(fl)
        if any(ch.isdigit() for ch in fl):
            raise Unsupported("sed s numeric flag")
        try:
            rx = compile_posix(pieces[0], ext, "I" in fl)
        except PosixRegexError as exc:
            raise Unsupported(f"sed regex: {exc}") from None
        refs = [int(d) for d in re.findall(r"\\([1-9])", pieces[1].replace("\\\\", ""))]
        if refs and max(refs) > rx.groups:
            raise Unsupported(f"sed: invalid reference \\{max(refs)} on `s' command's RHS")
        cmds.append(_SedCmd(addr, "s", rx, pieces[1], "g" in fl, "p" in fl, negate))
    return cmds


def _sed_repl(repl: str) -> Callable[[re.Match[str]], str]:
    parts: list[tuple[str, str]] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            d = repl[i + 1]
            if d in "0123456789":
                parts.append(("g", d))
            elif d == "n":
                parts.append(("t", "\n"))
            elif d == "t":
                parts.append(("t", "\t"))
            else:
                parts.append(("t", d))
            i += 2
        elif c == "&":
            parts.append(("g", "0"))
            i += 1
        else:
            parts.append(("t", c))
            i += 1

    made = 0

    def fn(m: re.Match[str]) -> str:
        nonlocal made
        text = "".join(v if k == "t" else (m.group(int(v)) or "") for k, v in parts)
        made += len(text)
        check_size(made, "sed pattern space")  # before a growing replacement is built, not after
        return text

    return fn


def u_sed(ctx: Ctx, args: list[str]) -> int:
    opts, rest = short_opts(args, "e", "nEr", "sed")
    scripts = opts.get("e", [])
    if not scripts:
        if not rest:
            raise Unsupported("sed without a script")
        scripts = [rest[0]]
        rest = rest[1:]
    ext = "E" in opts or "r" in opts
    cmds = _sed_parse("\n".join(scripts), ext)
    data, st = text_in(ctx, rest)
    lines = data.split(b"\n")
    last_nl = bool(lines) and lines[-1] == b""
    if last_nl:
        lines.pop()
    out = TextSink()
    quiet = "n" in opts
    total = len(lines)
    for num, raw in enumerate(lines, 1):
        ps = dec(raw)
        deleted = False
        quit_now = False
        is_last = num == total
        for c in cmds:
            a = c.addr
            if a is not None:
                if isinstance(a, int):
                    hit = a == num
                elif a == "$":
                    hit = is_last
                else:
                    assert isinstance(a, re.Pattern)
                    hit = a.search(ps) is not None
                if hit == c.negate:
                    continue
            if c.cmd == "p":
                out.append(ps + "\n")
            elif c.cmd == "d":
                deleted = True
                break
            elif c.cmd == "q":
                quit_now = True
                break
            else:
                assert c.rx is not None
                new, k = c.rx.subn(_sed_repl(c.repl), ps, count=0 if c.glob else 1)
                if k:
                    check_size(len(new), "sed pattern space")
                    ps = new
                    if c.pflag:
                        out.append(ps + "\n")
        if not deleted and not quiet:
            out.append(ps + ("\n" if (not is_last or last_nl) else ""))
        if quit_now:
            break
    text = "".join(out)
    if out and not last_nl and not quiet and not text.endswith("\n"):
        pass
    ctx.write(text)
    return st
