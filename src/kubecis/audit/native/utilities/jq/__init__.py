"""A subset of jq 1.6, interpreted in-process, with jq 1.6's output bytes and error messages.

Values are JSON values as Python objects, with every number a ``float`` (jq numbers
are doubles). Programs outside the subset raise :class:`Unsupported`; runtime errors
behave as in jq 1.6, including its backtracking quirk: an error raised downstream of a
``try`` (or ``?``) whose body can still produce values is caught by that ``try``.

Why hand-written: the ``jq`` bindings on PyPI embed libjq 1.7, whose number output and error messages differ
from jq 1.6's (what kube-bench's image runs and audits compare); in-process, every step is also bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc
from kubecis.audit.native.utilities.jq.interp import Interp
from kubecis.audit.native.utilities.jq.parser import Node, compile_program
from kubecis.audit.native.utilities.jq.values import JqError, Value, dump, format_number

__all__ = ["JqError", "compile_program", "dump", "format_number", "run_jq", "u_jq"]

# --- the command line ---------------------------------------------------------------

_SHORT = set("srjacCMSenhVRf")  # jq 1.6's single-letter options (L takes an argument)
_MINE = set("srjcMen")
_LONG = {"--slurp": "s", "--raw-output": "r", "--join-output": "j", "--compact-output": "c",
         "--monochrome-output": "M", "--exit-status": "e", "--null-input": "n"}
_BUFSIZ = 4096


class _Input:
    """stdin split into JSON values, each with jq 1.6's line position when it completes."""

    def __init__(self, data: bytes) -> None:
        try:
            self.text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Unsupported("jq input is not valid UTF-8") from None
        self.data = data
        # jq 1.6 reads with fgets into a 4096-byte buffer and counts a line when memchr finds '\n'
        # anywhere in the (stale) buffer.
        self.chunks: list[tuple[int, bool]] = []
        buf = bytearray(_BUFSIZ)
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos, pos + _BUFSIZ - 1)
            end = nl + 1 if nl >= 0 else min(len(data), pos + _BUFSIZ - 1)
            chunk = data[pos:end]
            buf[: len(chunk)] = chunk
            buf[len(chunk)] = 0
            has_nl = b"\n" in buf
            if has_nl and nl < 0 and end == len(data) and b"\n" in buf[len(chunk) :]:
                raise Unsupported("jq 1.6 stale-buffer input quirk")
            self.chunks.append((end, has_nl))
            pos = end

    def line_at(self, byte_pos: int | None) -> int:
        n = 0
        for end, counted in self.chunks:
            n += counted
            if byte_pos is not None and end > byte_pos:
                break
        return n

    def values(self) -> Iterator[tuple[Value, int]]:
        dec_ = json.JSONDecoder(parse_float=float, parse_int=float, parse_constant=_bad_constant)
        t = self.text
        i = 0
        n = len(t)
        while True:
            while i < n and t[i] in " \t\r\n":
                i += 1
            if i >= n:
                return
            try:
                v, j = dec_.raw_decode(t, i)
            except (ValueError, RecursionError):
                raise Unsupported("jq input that is not plain JSON") from None
            scalar = t[i] not in "[{\""
            if scalar and j < n and t[j] not in " \t\r\n[{]},:\"":
                raise Unsupported("jq input that is not plain JSON")
            _check_value(v, 0)
            done: int | None = j - 1
            done = (len(t[:j + 1].encode()) - 1 if j < n else None) if scalar else len(t[:j].encode()) - 1
            yield v, self.line_at(done)
            i = j


def _bad_constant(s: str) -> Value:
    raise ValueError(s)


def _check_value(v: Value, depth: int) -> None:
    if depth > 200:
        raise Unsupported("jq input nested too deeply")
    if isinstance(v, str):
        if any(0xD800 <= ord(c) < 0xE000 for c in v):
            raise Unsupported("jq input with lone surrogates")
    elif isinstance(v, list):
        for x in v:
            _check_value(x, depth + 1)
    elif isinstance(v, dict):
        for k, x in v.items():
            _check_value(k, depth)
            _check_value(x, depth + 1)


class _Writer:
    """jq's stdout is fully buffered when it is a pipe: errors (unbuffered) overtake it."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.buf = bytearray()

    def write(self, s: str) -> None:
        self.buf += enc(s)
        while len(self.buf) >= _BUFSIZ:
            self.ctx.out.write(bytes(self.buf[:_BUFSIZ]))
            del self.buf[:_BUFSIZ]

    def error(self, s: str) -> None:
        self.ctx.err.write(enc(s))

    def flush(self) -> None:
        self.ctx.out.write(bytes(self.buf))
        self.buf.clear()


def run_jq(ctx: Ctx, args: list[str]) -> int:
    flags: set[str] = set()
    named: dict[str, Value] = {}
    program: str | None = None
    files: list[str] = []
    i = 0
    args_done = False
    while i < len(args):
        a = args[i]
        i += 1
        optish = not args_done and len(a) > 1 and a[0] == "-" and (a[1] == "-" or (a[1].isascii() and a[1].isalpha()))
        if a == "--" and not args_done:
            if program is None:
                raise Unsupported("jq -- before the program")
            args_done = True
            continue
        if not optish:
            if program is None:
                program = a
            else:
                files.append(a)
            continue
        if a.startswith("--"):
            if a in _LONG:
                flags.add(_LONG[a])
            elif a == "--arg":
                if i + 1 >= len(args):
                    raise Unsupported("jq --arg without its values")
                named[args[i]] = args[i + 1]
                i += 2
            else:
                raise Unsupported(f"jq option {a}")
            continue
        letters = a[1:]
        known = [c for c in _SHORT if c in letters]
        if len(letters) != len(known):
            ctx.err.write(enc(
                f"{ctx.prog}: Unknown option {a}\nUse {ctx.prog} --help for help with command-line options,\n"
                "or see the jq manpage, or online docs  at https://stedolan.github.io/jq\n"
            ))
            return 2
        if any(c not in _MINE for c in letters):
            raise Unsupported(f"jq option {a}")
        flags.update(letters)
    if files:
        raise Unsupported("jq with input files")
    if program is None:
        program = "."
    node = compile_program(program)
    w = _Writer(ctx)
    try:
        return _run(ctx, w, node, flags, named)
    finally:
        w.flush()


def _run(ctx: Ctx, w: _Writer, node: Node, flags: set[str], named: dict[str, Value]) -> int:
    it = Interp(named, ctx.audit.budget)
    indent = 0 if "c" in flags else 2
    if "n" in flags:
        inputs: Iterator[tuple[Value, int | None]] = iter([(None, None)])
    elif "s" in flags:
        src = _Input(ctx.stdin.read_all())
        vals = list(src.values())
        inputs = iter([([v for v, _ in vals], src.line_at(None))])
    else:
        inputs = _Input(ctx.stdin.read_all()).values()
    ret = 0
    for value, line in inputs:
        ret = 14
        where = "<unknown>" if line is None else f"<stdin>:{line}"
        try:
            for out in it.ev(node, value, it.root):
                if "r" in flags and isinstance(out, str):
                    w.write(out)
                    ret = 0
                else:
                    w.write(dump(out, indent))
                    ret = 11 if out is None or out is False else 0
                if "j" not in flags:
                    w.write("\n")
        except JqError as e:
            if e.msg is None:
                raise Unsupported("jq error(null)") from None
            if isinstance(e.msg, str):
                w.error(f"jq: error (at {where}): {e.msg}\n")
            else:
                w.error(f"jq: error (at {where}) (not a string): {dump(e.msg)}\n")
            ret = 5
        except RecursionError:
            raise Unsupported("jq program nested too deeply") from None
    if ret >= 10:
        return ret - 10 if "e" in flags else 0
    return ret


def u_jq(ctx: Ctx, args: list[str]) -> int:
    """jq 1.6 (the subset the benchmark audits use)."""
    return run_jq(ctx, args)
