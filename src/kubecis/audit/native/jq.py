"""A subset of jq 1.6, interpreted in-process, with jq 1.6's output bytes and error messages.

Values are JSON values as Python objects, with every number a ``float`` (jq numbers
are doubles). Programs outside the subset raise :class:`Unsupported`; runtime errors
behave as in jq 1.6, including its backtracking quirk: an error raised downstream of a
``try`` (or ``?``) whose body can still produce values is caught by that ``try``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cmp_to_key
from typing import Any

from kubecis.audit.native.interp import MAX_DATA, Ctx, check_size, current_budget, dec, enc
from kubecis.audit.native.parser import Unsupported

__all__ = ["JqError", "compile_program", "dump", "format_number", "run_jq", "u_jq"]

Value = Any  # None | bool | float | str | list[Value] | dict[str, Value]
DBL_MAX = sys.float_info.max


class JqError(Exception):
    """A jq runtime error carrying its message value."""

    def __init__(self, msg: Value) -> None:
        super().__init__(msg)
        self.msg = msg


class JqCompileError(Unsupported):
    pass


# --- output --------------------------------------------------------------------


def format_number(d: float) -> str:
    """jq 1.6's jvp_dtoa_fmt: shortest round-trip digits, exponent when decpt <= -4 or > ndigits + 15."""
    if d != d:
        return "null"
    if d > DBL_MAX:
        d = DBL_MAX
    elif d < -DBL_MAX:
        d = -DBL_MAX
    sign = "-" if math.copysign(1.0, d) < 0 else ""
    if d == 0:
        return sign + "0"
    r = repr(abs(d))
    mant, _, e = r.partition("e")
    exp = int(e) if e else 0
    ip, _, fp = mant.partition(".")
    raw = ip + fp
    stripped = raw.lstrip("0")
    decpt = len(ip) + exp - (len(raw) - len(stripped))
    digits = stripped.rstrip("0") or "0"
    n = len(digits)
    if decpt <= -4 or decpt > n + 15:
        x = decpt - 1
        body = digits[0] + ("." + digits[1:] if n > 1 else "")
        return f"{sign}{body}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if decpt <= 0:
        return sign + "0." + "0" * (-decpt) + digits
    if n <= decpt:
        return sign + digits + "0" * (decpt - n)
    return sign + digits[:decpt] + "." + digits[decpt:]


_ESC = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _dump_str(s: str) -> str:
    out = ['"']
    for c in s:
        e = _ESC.get(c)
        if e is not None:
            out.append(e)
        elif c < " " or c == "\x7f":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def dump(v: Value, indent: int = 0, level: int = 0) -> str:
    """jq's serialisation: compact when indent is 0, else pretty with ``indent`` spaces."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return format_number(v)
    if isinstance(v, str):
        return _dump_str(v)
    if isinstance(v, list):
        if not v:
            return "[]"
        if not indent:
            return "[" + ",".join(dump(x) for x in v) + "]"
        pad = "\n" + " " * (indent * (level + 1))
        return "[" + ",".join(pad + dump(x, indent, level + 1) for x in v) + "\n" + " " * (indent * level) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        if not indent:
            return "{" + ",".join(_dump_str(k) + ":" + dump(x) for k, x in v.items()) + "}"
        pad = "\n" + " " * (indent * (level + 1))
        items = (pad + _dump_str(k) + ": " + dump(x, indent, level + 1) for k, x in v.items())
        return "{" + ",".join(items) + "\n" + " " * (indent * level) + "}"
    raise TypeError(f"not a jq value: {type(v).__name__}")  # pragma: no cover


def _trunc(v: Value) -> str:
    """jv_dump_string_trunc with jq 1.6's 15-byte buffer (used in error messages)."""
    s = enc(dump(v))
    if len(s) > 14:
        # the cut can split a UTF-8 sequence: jq's string validation makes the partial tail one U+FFFD
        return s[:11].decode("utf-8", "replace") + "..."
    return dec(s)


def kind(v: Value) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _desc(v: Value) -> str:
    return f"{kind(v)} ({_trunc(v)})"


def _truthy(v: Value) -> bool:
    return not (v is None or v is False)


_ORDER = {"null": 0, "boolean": 1, "number": 3, "string": 4, "array": 5, "object": 6}


def _rank(v: Value) -> int:
    if v is True:
        return 2
    return _ORDER[kind(v)]


def compare(a: Value, b: Value) -> int:
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if isinstance(a, (float, str)):
        return -1 if a < b else (1 if a > b else 0)
    if isinstance(a, list):
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if isinstance(a, dict):
        ka, kb = sorted(a), sorted(b)
        c = compare(ka, kb)
        if c:
            return c
        for k in ka:
            c = compare(a[k], b[k])
            if c:
                return c
        return 0
    return 0


_KEY = cmp_to_key(compare)


def equal(a: Value, b: Value) -> bool:
    return compare(a, b) == 0


# --- program lexer and parser ------------------------------------------------------

_KEYWORDS = {"def", "if", "then", "elif", "else", "end", "as", "reduce", "foreach", "try", "catch", "label",
             "import", "include", "and", "or", "__loc__"}
_OPS2 = ["?//", "!=", "==", "//=", "//", "|=", "+=", "-=", "*=", "/=", "%=", "<=", ">=", ".."]
_NUM_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_IDENT_RE = re.compile(r"[a-zA-Z_][a-zA-Z_0-9]*(?:::[a-zA-Z_][a-zA-Z_0-9]*)*")


@dataclass
class Tok:
    kind: str  # OP IDENT FIELD VAR NUM STR KW EOF
    value: Any
    pos: int


def _lex(src: str, start: int = 0, interp: bool = False) -> tuple[list[Tok], int]:
    """Tokens from ``start``; for an interpolation ``\\(...)`` stop at the unmatched ')' (returns the end after it)."""
    toks: list[Tok] = []
    i = start
    n = len(src)
    depth = 0
    while True:
        while i < n:
            c = src[i]
            if c in " \t\r\n":
                i += 1
            elif c == "#":
                while i < n and src[i] != "\n":
                    i += 1
            else:
                break
        if i >= n:
            if interp:
                raise JqCompileError("jq program: unterminated interpolation")
            toks.append(Tok("EOF", None, i))
            return toks, i
        c = src[i]
        if c == '"':
            parts, j = _lex_string(src, i + 1)
            toks.append(Tok("STR", parts, i))
            i = j
            continue
        if c == "." and i + 1 < n and (src[i + 1].isalpha() or src[i + 1] == "_"):
            m = _IDENT_RE.match(src, i + 1)
            assert m is not None
            if "::" in m.group(0):
                raise JqCompileError("jq modules")
            toks.append(Tok("FIELD", m.group(0), i))
            i = m.end()
            continue
        if c == "$":
            m = _IDENT_RE.match(src, i + 1)
            if m is None:
                raise JqCompileError("jq program: bad $")
            toks.append(Tok("VAR", m.group(0), i))
            i = m.end()
            continue
        if c == "@":
            raise JqCompileError("jq @format strings")
        m = _NUM_RE.match(src, i)
        if m and (c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit())):
            toks.append(Tok("NUM", float(m.group(0)), i))
            i = m.end()
            continue
        if c.isalpha() or c == "_":
            m = _IDENT_RE.match(src, i)
            assert m is not None
            word = m.group(0)
            if "::" in word:
                raise JqCompileError("jq modules")
            toks.append(Tok("KW" if word in _KEYWORDS else "IDENT", word, i))
            i = m.end()
            continue
        for op in _OPS2:
            if src.startswith(op, i):
                toks.append(Tok("OP", op, i))
                i += len(op)
                break
        else:
            if c not in ".[]{}()|,:;=<>+-*/%?":
                raise JqCompileError(f"jq program: unexpected character {c!r}")
            if interp and c in "([{":
                depth += 1
            elif interp and c in ")]}":
                if depth == 0:
                    if c != ")":
                        raise JqCompileError("jq program: unbalanced interpolation")
                    toks.append(Tok("EOF", None, i))
                    return toks, i + 1
                depth -= 1
            toks.append(Tok("OP", c, i))
            i += 1


def _lex_string(src: str, i: int) -> tuple[list[Any], int]:
    """A string literal from after its opening quote: parts are str or parsed interpolations."""
    parts: list[Any] = []
    buf: list[str] = []
    n = len(src)
    simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    while True:
        if i >= n:
            raise JqCompileError("jq program: unterminated string")
        c = src[i]
        if c == '"':
            if buf or not parts:
                parts.append("".join(buf))
            return parts, i + 1
        if c == "\\":
            if i + 1 >= n:
                raise JqCompileError("jq program: bad escape")
            d = src[i + 1]
            if d in simple:
                buf.append(simple[d])
                i += 2
            elif d == "u":
                h = src[i + 2 : i + 6]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", h):
                    raise JqCompileError("jq program: bad \\u escape")
                cp = int(h, 16)
                if 0xD800 <= cp < 0xE000:
                    raise JqCompileError("jq program: surrogate escape")
                buf.append(chr(cp))
                i += 6
            elif d == "(":
                if buf:
                    parts.append("".join(buf))
                    buf.clear()
                toks, i = _lex(src, i + 2, interp=True)
                p = _Parser(toks)
                parts.append(p.parse_program())
            else:
                raise JqCompileError(f"jq program: invalid escape \\{d}")
            continue
        buf.append(c)
        i += 1


# AST nodes are tuples: (tag, ...). Kept simple for speed of writing and evaluation.
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Tok:
        t = self.peek()
        self.i += 1
        return t

    def at(self, value: str, kind: str = "OP") -> bool:
        t = self.peek()
        return t.kind == kind and t.value == value

    def at_kw(self, value: str) -> bool:
        return self.at(value, "KW")

    def expect(self, value: str, kind: str = "OP") -> None:
        t = self.next()
        if t.kind != kind or t.value != value:
            raise JqCompileError(f"jq program: expected {value!r}")

    # grammar
    def parse_program(self) -> Node:
        e = self.parse_pipe()
        if self.peek().kind != "EOF":
            raise JqCompileError("jq program: trailing input")
        return e

    def parse_pipe(self) -> Node:
        if self.at_kw("def"):
            name, params, body = self.parse_def()
            rest = self.parse_pipe()
            return ("def", name, params, body, rest)
        left = self.parse_comma()
        if self.at_kw("as"):
            raise JqCompileError("jq program: 'as' binding without a term")
        if self.at("|"):
            self.next()
            return ("pipe", left, self.parse_pipe())
        return left

    def parse_def(self) -> tuple[str, list[str], Node]:
        self.expect("def", "KW")
        t = self.next()
        if t.kind not in ("IDENT", "KW"):
            raise JqCompileError("jq program: bad def")
        params: list[str] = []
        if self.at("("):
            self.next()
            while True:
                p = self.next()
                if p.kind == "VAR":
                    params.append("$" + p.value)
                elif p.kind == "IDENT":
                    params.append(p.value)
                else:
                    raise JqCompileError("jq program: bad def parameter")
                if self.at(";"):
                    self.next()
                    continue
                self.expect(")")
                break
        self.expect(":")
        body = self.parse_pipe()
        self.expect(";")
        return t.value, params, body

    def parse_comma(self) -> Node:
        left = self.parse_alt()
        while self.at(","):
            self.next()
            left = ("comma", left, self.parse_alt())
        return left

    def parse_alt(self) -> Node:
        left = self.parse_or()
        if self.at("//"):
            self.next()
            return ("alt", left, self.parse_alt())
        for op in ("=", "|=", "+=", "-=", "*=", "/=", "%=", "//=", "?//"):
            if self.at(op):
                raise JqCompileError(f"jq operator {op}")
        return left

    def parse_or(self) -> Node:
        left = self.parse_and()
        while self.at_kw("or"):
            self.next()
            left = ("or", left, self.parse_and())
        return left

    def parse_and(self) -> Node:
        left = self.parse_cmp()
        while self.at_kw("and"):
            self.next()
            left = ("and", left, self.parse_cmp())
        return left

    def parse_cmp(self) -> Node:
        left = self.parse_add()
        t = self.peek()
        if t.kind == "OP" and t.value in ("==", "!=", "<", "<=", ">", ">="):
            self.next()
            right = self.parse_add()
            t2 = self.peek()
            if t2.kind == "OP" and t2.value in ("==", "!=", "<", "<=", ">", ">="):
                raise JqCompileError("jq program: chained comparison")
            return ("bin", t.value, left, right)
        return left

    def parse_add(self) -> Node:
        left = self.parse_mul()
        while self.peek().kind == "OP" and self.peek().value in ("+", "-"):
            op = self.next().value
            left = ("bin", op, left, self.parse_mul())
        return left

    def parse_mul(self) -> Node:
        left = self.parse_unary()
        while self.peek().kind == "OP" and self.peek().value in ("*", "/", "%"):
            op = self.next().value
            right = self.parse_unary()
            if op in "/%" and left[0] == "lit" and right[0] == "lit" and right[1] == 0:
                raise JqCompileError("jq constant folding of / and %")
            left = ("bin", op, left, right)
        return left

    def parse_unary(self) -> Node:
        if self.at("-"):
            self.next()
            return ("neg", self.parse_unary())
        return self.parse_postfix_as()

    def parse_postfix_as(self) -> Node:
        if self.at_kw("reduce") or self.at_kw("foreach"):
            kw = self.next().value
            src = self.parse_postfix()
            self.expect("as", "KW")
            var = self.next()
            if var.kind != "VAR":
                raise JqCompileError("jq destructuring patterns")
            self.expect("(")
            init = self.parse_pipe()
            self.expect(";")
            update = self.parse_pipe()
            extract: Node | None = None
            if kw == "foreach" and self.at(";"):
                self.next()
                extract = self.parse_pipe()
            self.expect(")")
            if kw == "reduce":
                return ("reduce", src, var.value, init, update)
            return ("foreach", src, var.value, init, update, extract)
        if self.at_kw("if"):
            return self.parse_if()
        if self.at_kw("try"):
            self.next()
            body = self.parse_postfix()
            handler: Node | None = None
            if self.at_kw("catch"):
                self.next()
                handler = self.parse_postfix()
            return ("try", body, handler)
        if self.at_kw("label"):
            raise JqCompileError("jq label")
        term = self.parse_postfix()
        if self.at_kw("as"):
            self.next()
            var = self.next()
            if var.kind != "VAR":
                raise JqCompileError("jq destructuring patterns")
            self.expect("|")
            body = self.parse_pipe()
            return ("as", term, var.value, body)
        return term

    def parse_if(self) -> Node:
        self.expect("if", "KW")
        cond = self.parse_pipe()
        self.expect("then", "KW")
        then = self.parse_pipe()
        if self.at_kw("elif"):
            # rewrite "elif" as a nested if sharing our "end"
            self.toks[self.i] = Tok("KW", "if", self.peek().pos)
            els = self.parse_if()
            return ("if", cond, then, els)
        if self.at_kw("else"):
            self.next()
            els = self.parse_pipe()
            self.expect("end", "KW")
            return ("if", cond, then, els)
        raise JqCompileError("jq 1.6 requires else in if")

    def parse_postfix(self) -> Node:
        term = self.parse_primary()
        while True:
            t = self.peek()
            if t.kind == "FIELD":
                self.next()
                term = self._opt_index(term, ("lit", t.value))
            elif t.kind == "OP" and t.value == "." and self.peek(1).kind == "STR":
                self.next()
                term = self._opt_index(term, self._string(self.next()))
            elif t.kind == "OP" and t.value == "[":
                self.next()
                if self.at("]"):
                    self.next()
                    opt = self._take_opt()
                    term = ("each", term, opt)
                    continue
                if self.at(":"):
                    raise JqCompileError("jq slices")
                idx = self.parse_pipe()
                if self.at(":"):
                    raise JqCompileError("jq slices")
                self.expect("]")
                term = self._opt_index(term, idx)
            elif t.kind == "OP" and t.value == "?":
                self.next()
                term = ("try", term, None)
            else:
                return term

    def _take_opt(self) -> bool:
        if self.at("?"):
            self.next()
            return True
        return False

    def _opt_index(self, term: Node, key: Node) -> Node:
        return ("index", term, key, self._take_opt())

    def _string(self, t: Tok) -> Node:
        parts = t.value
        if len(parts) == 1 and isinstance(parts[0], str):
            return ("lit", parts[0])
        return ("fmt", parts)

    def parse_primary(self) -> Node:
        t = self.next()
        if t.kind == "NUM":
            return ("lit", t.value)
        if t.kind == "STR":
            return self._string(t)
        if t.kind == "FIELD":
            return self._opt_index(("id",), ("lit", t.value))
        if t.kind == "VAR":
            if t.value == "__loc__":
                raise JqCompileError("jq $__loc__")
            return ("var", t.value)
        if t.kind == "OP":
            if t.value == ".":
                nt = self.peek()
                if nt.kind == "STR":
                    self.next()
                    return self._opt_index(("id",), self._string(nt))
                return ("id",)
            if t.value == "..":
                return ("call", "recurse", [])
            if t.value == "(":
                e = self.parse_pipe()
                self.expect(")")
                return e
            if t.value == "[":
                if self.at("]"):
                    self.next()
                    return ("lit", [])
                e = self.parse_pipe()
                self.expect("]")
                return ("collect", e)
            if t.value == "{":
                return self.parse_object()
        if t.kind == "IDENT":
            args: list[Node] = []
            if self.at("("):
                self.next()
                while True:
                    args.append(self.parse_pipe())
                    if self.at(";"):
                        self.next()
                        continue
                    self.expect(")")
                    break
            return ("call", t.value, args)
        if t.kind == "KW" and t.value in ("if", "reduce", "foreach", "try"):
            self.i -= 1
            return self.parse_postfix_as()
        raise JqCompileError(f"jq program: unexpected {t.value!r}")

    def parse_object(self) -> Node:
        entries: list[tuple[Node, Node]] = []
        if self.at("}"):
            self.next()
            return ("object", entries)
        while True:
            t = self.next()
            key: Node
            value: Node | None = None
            if t.kind == "VAR":
                key = ("lit", t.value)
                value = ("var", t.value)
            elif t.kind in ("IDENT", "KW"):
                key = ("lit", t.value)
            elif t.kind == "STR":
                key = self._string(t)
            elif t.kind == "NUM":
                raise JqCompileError("jq program: number as object key")
            elif t.kind == "OP" and t.value == "(":
                key = self.parse_pipe()
                self.expect(")")
            else:
                raise JqCompileError("jq program: bad object key")
            if self.at(":"):
                self.next()
                value = self.parse_objval()
            elif value is None:
                if t.kind == "OP":
                    raise JqCompileError("jq program: object key needs a value")
                value = ("index", ("id",), key, False)
            entries.append((key, value))
            if self.at(","):
                self.next()
                continue
            self.expect("}")
            return ("object", entries)

    def parse_objval(self) -> Node:
        # ExpD: ExpD '|' ExpD | '-' ExpD | Term
        if self.at("-"):
            self.next()
            return ("neg", self.parse_objval())
        left = self.parse_postfix()
        if self.at("|"):
            self.next()
            return ("pipe", left, self.parse_objval())
        return left


def compile_program(src: str) -> Node:
    toks, _ = _lex(src)
    return _Parser(toks).parse_program()


# --- evaluation -------------------------------------------------------------------


@dataclass
class Closure:
    params: list[str]
    body: Node
    env: Env | None  # None: resolved lazily to the defining env (recursion)
    name: str = ""


@dataclass
class Env:
    vars: dict[str, Value] = field(default_factory=dict)
    funcs: dict[tuple[str, int], Closure] = field(default_factory=dict)

    def bind(self, name: str, value: Value) -> Env:
        v = dict(self.vars)
        v[name] = value
        return Env(v, self.funcs)


Gen = Iterator[Value]
MAX_STEPS = 5_000_000


def _throw(gen: Gen, err: JqError) -> Value:
    """Backtrack into gen with a raising error (a plain iterator has no choice points: re-raise)."""
    throw = getattr(gen, "throw", None)
    if throw is None:
        raise err
    return throw(err)


def _bind(gen: Gen, f: Callable[[Value], Gen]) -> Gen:
    """Each output of gen through f; an error downstream backtracks into gen (jq's raising)."""
    err: JqError | None = None
    while True:
        try:
            a = _throw(gen, err) if err is not None else next(gen)
        except StopIteration:
            return
        err = None
        try:
            yield from f(a)
        except JqError as e:
            err = e


def _index(v: Value, k: Value) -> Value:
    if isinstance(k, str):
        if v is None:
            return None
        if isinstance(v, dict):
            return v.get(k)
        raise JqError(f'Cannot index {kind(v)} with string "{k}"')
    if isinstance(k, float):
        if v is None:
            return None
        if isinstance(v, list):
            if k != k or k != math.floor(k):
                return None
            i = int(k)
            if i < 0:
                i += len(v)
            return v[i] if 0 <= i < len(v) else None
        raise JqError(f"Cannot index {kind(v)} with number")
    if isinstance(k, list) and isinstance(v, list):
        return _indices(v, k)
    if isinstance(k, dict) and (v is None or isinstance(v, list)):
        raise Unsupported("jq slice objects")
    raise JqError(f"Cannot index {kind(v)} with {kind(k)}")


def _indices(v: list[Value], sub: list[Value]) -> Value:
    if not sub:
        return None
    out: list[Value] = []
    for i in range(len(v) - len(sub) + 1):
        if all(equal(v[i + j], sub[j]) for j in range(len(sub))):
            out.append(float(i))
    return out


def _each(v: Value) -> list[Value]:
    if isinstance(v, list):
        return list(v)
    if isinstance(v, dict):
        return list(v.values())
    raise JqError(f"Cannot iterate over {_desc(v)}" if v is not None else "Cannot iterate over null (null)")


def _add(a: Value, b: Value) -> Value:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, float) and isinstance(b, float):
        return a + b
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **b}
    raise JqError(f"{_desc(a)} and {_desc(b)} cannot be added")


def _deep_merge(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _arith(op: str, a: Value, b: Value) -> Value:
    if op == "+":
        return _add(a, b)
    if op == "-":
        if isinstance(a, float) and isinstance(b, float):
            return a - b
        if isinstance(a, list) and isinstance(b, list):
            return [x for x in a if not any(equal(x, y) for y in b)]
        raise JqError(f"{_desc(a)} and {_desc(b)} cannot be subtracted")
    if op == "*":
        if isinstance(a, float) and isinstance(b, float):
            return a * b
        if (isinstance(a, str) and isinstance(b, float)) or (isinstance(a, float) and isinstance(b, str)):
            s, n = (a, b) if isinstance(a, str) else (b, a)
            assert isinstance(s, str) and isinstance(n, float)
            if n <= 0:
                return None
            if not s:
                return s
            reps = 1 + max(0, int(n - 1)) if n < MAX_DATA else MAX_DATA + 1
            check_size(len(s) * reps, "jq string")
            return s * reps
        if isinstance(a, dict) and isinstance(b, dict):
            return _deep_merge(a, b)
        raise JqError(f"{_desc(a)} and {_desc(b)} cannot be multiplied")
    if op == "/":
        if isinstance(a, float) and isinstance(b, float):
            if b == 0:
                raise JqError(f"{_desc(a)} and {_desc(b)} cannot be divided because the divisor is zero")
            return a / b
        if isinstance(a, str) and isinstance(b, str):
            return _split(a, b)
        raise JqError(f"{_desc(a)} and {_desc(b)} cannot be divided")
    if op == "%":
        if isinstance(a, float) and isinstance(b, float):
            ia, ib = _toint(a), _toint(b)
            if ib == 0:
                raise JqError(f"{_desc(a)} and {_desc(b)} cannot be divided because the divisor is zero")
            r = abs(ia) % abs(ib)
            return float(-r if ia < 0 else r)
        raise JqError(f"{_desc(a)} and {_desc(b)} cannot be divided")
    c = compare(a, b)
    return {"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]


def _toint(x: float) -> int:
    """C's (intmax_t) cast; out-of-range values are undefined behaviour in jq, so decline them."""
    if x != x or not -(2.0**63) <= x < 2.0**63:
        raise Unsupported("jq % on a number outside the int64 range")
    return int(x)


def _split(s: str, sep: str) -> list[Value]:
    if s == "":
        return []
    if sep == "":
        raise Unsupported("jq split on empty separator")
    return list(s.split(sep))


def _tostring(v: Value) -> str:
    return v if isinstance(v, str) else dump(v)


def _length(v: Value) -> Value:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        raise JqError(f"{_desc(v)} has no length")
    if isinstance(v, float):
        return abs(v)
    return float(len(v))


def _keys(v: Value, sort: bool = True) -> list[Value]:
    if isinstance(v, dict):
        return sorted(v) if sort else list(v)
    if isinstance(v, list):
        return [float(i) for i in range(len(v))]
    raise JqError(f"{_desc(v)} has no keys")


def _has(v: Value, k: Value) -> bool:
    if isinstance(v, dict) and isinstance(k, str):
        return k in v
    if isinstance(v, list) and isinstance(k, float):
        return 0 <= k < len(v)
    raise JqError(f"Cannot check whether {kind(v)} has a {kind(k)} key")


def _contains_inner(a: Value, b: Value) -> bool:
    if _rank(a) != _rank(b):
        return False
    if isinstance(a, dict):
        return all(k in a and _contains_inner(a[k], bv) for k, bv in b.items())
    if isinstance(a, list):
        return all(any(_contains_inner(x, y) for x in a) for y in b)
    if isinstance(a, str):
        return b.split("\0")[0] in a.split("\0")[0]  # jq 1.6 uses strstr
    return equal(a, b)


def _contains(a: Value, b: Value) -> bool:
    if _rank(a) != _rank(b):
        raise JqError(f"{_desc(a)} and {_desc(b)} cannot have their containment checked")
    return _contains_inner(a, b)


_REGEX_OK = re.compile(r"(?:[^\\(]|\\[sSdDwWbB.\\/^$*+?()\[\]{}|tnr-]|\((?!\?))*")


def _regex(pattern: Value, flags: Value) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise JqError(f"{_desc(pattern)} cannot be matched, as it is not a string")
    if flags is not None and (not isinstance(flags, str) or flags.strip("gx")):
        raise Unsupported(f"jq regex flags {flags!r}")
    if not _REGEX_OK.fullmatch(pattern) or "[[:" in pattern:
        raise Unsupported("jq regex syntax")
    try:
        return re.compile(pattern, re.X if flags and "x" in flags else 0)
    except re.error as exc:
        raise Unsupported(f"jq regex: {exc}") from None


class _Interp:
    def __init__(self, named_args: dict[str, Value]) -> None:
        self.steps = 0
        self.root = Env(dict(named_args), {})

    # -- core
    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Unsupported("jq program too expensive")
        if not self.steps & 0xFFF and (budget := current_budget.get()) is not None:
            budget.check_time()

    def ev(self, node: Node, inp: Value, env: Env) -> Gen:
        self.step()
        tag = node[0]
        if tag == "id":
            yield inp
        elif tag == "lit":
            yield node[1]
        elif tag == "fmt":
            yield from self._fmt(node[1], 0, inp, env, "")
        elif tag == "var":
            if node[1] not in env.vars:
                raise Unsupported(f"jq: ${node[1]} is not defined")
            yield env.vars[node[1]]
        elif tag == "pipe":
            yield from _bind(self.ev(node[1], inp, env), lambda v: self.ev(node[2], v, env))
        elif tag == "comma":
            yield from self.ev(node[1], inp, env)
            yield from self.ev(node[2], inp, env)
        elif tag == "index":
            _, term, key, opt = node
            yield from _bind(self.ev(term, inp, env), lambda t: self._index_gen(t, key, opt, inp, env))
        elif tag == "each":
            _, term, opt = node
            yield from _bind(self.ev(term, inp, env), lambda t: self._each_gen(t, opt))
        elif tag == "try":
            yield from self._try(node[1], node[2], inp, env)
        elif tag == "collect":
            yield list(self.ev(node[1], inp, env))
        elif tag == "object":
            yield from self._object(node[1], 0, inp, env, {})
        elif tag == "neg":
            yield from _bind(self.ev(node[1], inp, env), self._neg)
        elif tag == "bin":
            _, op, left, right = node
            yield from _bind(
                self.ev(right, inp, env),
                lambda b: _bind(self.ev(left, inp, env), lambda a: iter([_arith(op, a, b)])),
            )
        elif tag in ("and", "or"):
            _, left, right = node
            yield from _bind(self.ev(left, inp, env), lambda a: self._logic(tag, a, right, inp, env))
        elif tag == "alt":
            yield from self._alt(node[1], node[2], inp, env)
        elif tag == "if":
            _, cond, then, els = node
            yield from _bind(
                self.ev(cond, inp, env), lambda c: self.ev(then if _truthy(c) else els, inp, env)
            )
        elif tag == "as":
            _, term, var, body = node
            yield from _bind(self.ev(term, inp, env), lambda v: self.ev(body, inp, env.bind(var, v)))
        elif tag == "reduce":
            _, src, var, init, update = node
            yield from _bind(self.ev(init, inp, env), lambda acc: self._reduce(src, var, update, acc, inp, env))
        elif tag == "foreach":
            raise Unsupported("jq foreach")
        elif tag == "def":
            _, name, params, body, rest = node
            newenv = Env(env.vars, dict(env.funcs))
            clo = Closure(params, body, None, name)
            clo.env = newenv
            newenv.funcs[(name, len(params))] = clo
            yield from self.ev(rest, inp, newenv)
        elif tag == "call":
            yield from self._call(node[1], node[2], inp, env)
        else:  # pragma: no cover
            raise Unsupported(f"jq node {tag}")

    def _neg(self, v: Value) -> Gen:
        if not isinstance(v, float):
            raise JqError(f"{_desc(v)} cannot be negated")
        yield -v

    def _index_gen(self, t: Value, key: Node, opt: bool, inp: Value, env: Env) -> Gen:
        def one(k: Value) -> Gen:
            try:
                r = _index(t, k)
            except JqError:
                if opt:
                    return
                raise
            yield r

        return _bind(self.ev(key, inp, env), one)

    def _each_gen(self, t: Value, opt: bool) -> Gen:
        try:
            items = _each(t)
        except JqError:
            if opt:
                return
            raise
        yield from items

    def _try(self, body: Node, handler: Node | None, inp: Value, env: Env) -> Gen:
        gen = self.ev(body, inp, env)
        err: JqError | None = None
        while True:
            try:
                v = _throw(gen, err) if err is not None else next(gen)
            except StopIteration:
                return
            except JqError as e:
                if handler is not None:
                    yield from self.ev(handler, e.msg, env)
                return
            err = None
            try:
                yield v
            except JqError as e:
                err = e

    def _logic(self, tag: str, a: Value, right: Node, inp: Value, env: Env) -> Gen:
        if tag == "and" and not _truthy(a):
            yield False
            return
        if tag == "or" and _truthy(a):
            yield True
            return
        yield from _bind(self.ev(right, inp, env), lambda b: iter([_truthy(b)]))

    def _alt(self, left: Node, right: Node, inp: Value, env: Env) -> Gen:
        found = False
        gen = self.ev(left, inp, env)
        err: JqError | None = None
        while True:
            try:
                v = _throw(gen, err) if err is not None else next(gen)
            except StopIteration:
                break
            err = None
            if _truthy(v):
                found = True
                try:
                    yield v
                except JqError as e:
                    err = e
        if not found:
            yield from self.ev(right, inp, env)

    def _reduce(self, src: Node, var: str, update: Node, acc: Value, inp: Value, env: Env) -> Gen:
        state: list[Value] = [acc]
        for v in self.ev(src, inp, env):
            outs = list(self.ev(update, state[0], env.bind(var, v)))
            state = outs[-1:] if outs else [None]
        yield state[0]

    def _fmt(self, parts: list[Any], i: int, inp: Value, env: Env, acc: str) -> Gen:
        # jq builds interpolations right to left: the last one varies slowest... verified: "a\(1,2)b\(3,4)"
        # gives a1b3 a2b3 a1b4 a2b4, i.e. the later interpolation is the outer loop.
        if i == len(parts):
            yield acc
            return
        idx = len(parts) - 1 - i
        p = parts[idx]
        if isinstance(p, str):
            yield from self._fmt(parts, i + 1, inp, env, p + acc)
            return
        yield from _bind(self.ev(p, inp, env), lambda v: self._fmt(parts, i + 1, inp, env, _tostring(v) + acc))

    def _object(self, entries: list[tuple[Node, Node]], i: int, inp: Value, env: Env, acc: dict[str, Value]) -> Gen:
        if i == len(entries):
            yield dict(acc)
            return
        knode, vnode = entries[i]

        def with_key(k: Value) -> Gen:
            if not isinstance(k, str):
                raise JqError(f"Cannot use {_desc(k)} as object key")

            def with_value(v: Value) -> Gen:
                nxt = dict(acc)
                nxt[k] = v
                return self._object(entries, i + 1, inp, env, nxt)

            return _bind(self.ev(vnode, inp, env), with_value)

        yield from _bind(self.ev(knode, inp, env), with_key)

    # -- functions
    def _call(self, name: str, args: list[Node], inp: Value, env: Env) -> Gen:
        clo = env.funcs.get((name, len(args)))
        if clo is not None:
            yield from self._call_closure(clo, args, inp, env)
            return
        fn = _BUILTINS.get((name, len(args)))
        if fn is None:
            raise Unsupported(f"jq function {name}/{len(args)}")
        yield from fn(self, args, inp, env)

    def _call_closure(self, clo: Closure, args: list[Node], inp: Value, env: Env) -> Gen:
        base = clo.env if clo.env is not None else env
        fenv = Env(base.vars, dict(base.funcs))
        values: list[tuple[str, Node]] = []
        for p, a in zip(clo.params, args, strict=True):
            pname = p.lstrip("$")
            fenv.funcs[(pname, 0)] = Closure([], a, env, pname)
            if p.startswith("$"):
                values.append((pname, a))
        if len(fenv.funcs) > 10_000:
            raise Unsupported("jq recursion")

        def bind_values(k: int, e: Env) -> Gen:
            if k == len(values):
                return self.ev(clo.body, inp, e)
            pname, a = values[k]
            return _bind(self.ev(a, inp, env), lambda v: bind_values(k + 1, e.bind(pname, v)))

        yield from bind_values(0, fenv)

    def values_of(self, node: Node, inp: Value, env: Env) -> Gen:
        return self.ev(node, inp, env)


Builtin = Callable[[_Interp, list[Node], Value, Env], Gen]
_BUILTINS: dict[tuple[str, int], Builtin] = {}


def _builtin(name: str, arity: int = 0) -> Callable[[Builtin], Builtin]:
    def deco(fn: Builtin) -> Builtin:
        _BUILTINS[(name, arity)] = fn
        return fn

    return deco


def _simple(name: str, fn: Callable[[Value], Value]) -> None:
    def b(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
        yield fn(inp)

    _BUILTINS[(name, 0)] = b


def _cartesian1(name: str, fn: Callable[[Value, Value], Value]) -> None:
    """A one-argument C builtin: the argument's outputs each applied to the input."""

    def b(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
        return _bind(it.ev(args[0], inp, env), lambda a: iter([fn(inp, a)]))

    _BUILTINS[(name, 1)] = b


def _type_err(v: Value, what: str) -> JqError:
    return JqError(f"{_desc(v)} {what}")


def _not(v: Value) -> Value:
    return not _truthy(v)


def _sort(v: Value) -> Value:
    if not isinstance(v, list):
        raise _type_err(v, "cannot be sorted, as it is not an array")
    return sorted(v, key=_KEY)


def _unique(v: Value) -> Value:
    out: list[Value] = []
    for x in _sort(v):
        if not out or not equal(out[-1], x):
            out.append(x)
    return out


def _minmax(v: Value, sign: int) -> Value:
    if not isinstance(v, list):
        raise Unsupported("jq min/max of a non-array")
    if not v:
        return None
    best = v[0]
    for x in v[1:]:
        c = compare(x, best)
        if (sign < 0 and c < 0) or (sign > 0 and c >= 0):
            best = x
    return best


def _tonumber(v: Value) -> Value:
    if isinstance(v, float):
        return v
    if isinstance(v, str):
        s = v.strip(" \t\n\r")
        if re.fullmatch(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", s):
            return float(s)
        raise Unsupported("jq tonumber on a non-numeric string")
    raise _type_err(v, "cannot be parsed as a number")


def _type(v: Value) -> Value:
    return kind(v)


def _add_all(v: Value) -> Value:
    acc: Value = None
    for x in _each(v):
        acc = _add(acc, x)
    return acc


def _to_entries(v: Value) -> Value:
    return [{"key": k, "value": _index(v, k)} for k in _keys(v, sort=False)]


def _from_entries(v: Value) -> Value:
    """jq 1.6: map({(.key // .name // .Name // .Key): .value}) | add + {} // {}."""
    out: dict[str, Value] = {}
    for e in _each(v):
        key: Value = None
        for kname in ("key", "name", "Name", "Key"):
            key = _index(e, kname)
            if _truthy(key):
                break
        value = _index(e, "value")
        if not isinstance(key, str):
            raise JqError(f"Cannot use {_desc(key)} as object key")
        out[key] = value
    return out


def _ascii(v: Value, upper: bool) -> Value:
    if not isinstance(v, str):
        raise _type_err(v, "cannot be lowercased" if not upper else "cannot be uppercased")
    return "".join((c.upper() if upper else c.lower()) if c.isascii() else c for c in v)


def _tojson(v: Value) -> Value:
    return dump(v)


def _join(v: Value, sep: Value) -> Value:
    acc: Value = None
    for x in _each(v):
        s = "" if x is None else (x if isinstance(x, str) else dump(x))
        acc = _add("" if acc is None else _add(acc, sep), s)
    return "" if acc is None else acc


def _startswith(v: Value, a: Value) -> Value:
    if not isinstance(v, str) or not isinstance(a, str):
        raise JqError("startswith() requires string inputs")
    return v.startswith(a)


def _endswith(v: Value, a: Value) -> Value:
    if not isinstance(v, str) or not isinstance(a, str):
        raise JqError("endswith() requires string inputs")
    return v.endswith(a)


def _ltrimstr(v: Value, a: Value) -> Value:
    if isinstance(v, str) and isinstance(a, str) and v.startswith(a):
        return v[len(a) :]
    return v


def _rtrimstr(v: Value, a: Value) -> Value:
    if isinstance(v, str) and isinstance(a, str) and v.endswith(a) and a:
        return v[: len(v) - len(a)]
    return v


def _split1(v: Value, sep: Value) -> Value:
    if not isinstance(v, str) or not isinstance(sep, str):
        raise JqError("split input and separator must be strings")
    return _split(v, sep)


def _index_of(v: Value, a: Value, last: bool = False) -> Value:
    if v is None:
        return None
    if isinstance(v, str) and isinstance(a, str):
        if not a:
            return None
        raw, sub = v.encode(), a.encode()
        pos = [float(i) for i in range(len(raw) - len(sub) + 1) if raw[i : i + len(sub)] == sub]
    elif isinstance(v, list):
        r = _indices(v, a if isinstance(a, list) else [a])
        pos = r if isinstance(r, list) else []
        if r is None:
            return None
    else:
        raise JqError(f"Cannot index {kind(v)} with {kind(a)}")
    if not pos:
        return None
    return pos[-1] if last else pos[0]


def _test(v: Value, rx: Value, flags: Value = None) -> Value:
    if not isinstance(v, str):
        raise _type_err(v, "cannot be matched, as it is not a string")
    return _regex(rx, flags).search(v) is not None


for _n, _f in {
    "not": _not,
    "length": _length,
    "keys": _keys,
    "keys_unsorted": lambda v: _keys(v, sort=False),
    "sort": _sort,
    "unique": _unique,
    "min": lambda v: _minmax(v, -1),
    "max": lambda v: _minmax(v, 1),
    "tostring": _tostring,
    "tonumber": _tonumber,
    "type": _type,
    "add": _add_all,
    "to_entries": _to_entries,
    "from_entries": _from_entries,
    "ascii_downcase": lambda v: _ascii(v, False),
    "ascii_upcase": lambda v: _ascii(v, True),
    "tojson": _tojson,
    "reverse": lambda v: v[::-1] if isinstance(v, list | str) else ([] if v is None else _each(v)[::-1]),
    "floor": lambda v: float(math.floor(v)) if isinstance(v, float) else _raise(_type_err(v, "number required")),
}.items():
    _simple(_n, _f)

for _n, _g in {
    "has": _has,
    "contains": _contains,
    "join": _join,
    "startswith": _startswith,
    "endswith": _endswith,
    "ltrimstr": _ltrimstr,
    "rtrimstr": _rtrimstr,
    "split": _split1,
    "index": _index_of,
    "rindex": lambda v, a: _index_of(v, a, True),
    "test": _test,
    "inside": lambda v, a: _contains(a, v),
}.items():
    _cartesian1(_n, _g)


def _raise(e: Exception) -> Value:
    raise e


@_builtin("empty")
def _b_empty(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return iter(())


@_builtin("error")
def _b_error0(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    raise JqError(inp)


@_builtin("error", 1)
def _b_error1(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    def raise_it(v: Value) -> Gen:
        raise JqError(v)

    return _bind(it.ev(args[0], inp, env), raise_it)


@_builtin("null")
def _b_null(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield None


@_builtin("true")
def _b_true(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield True


@_builtin("false")
def _b_false(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield False


@_builtin("select", 1)
def _b_select(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _bind(it.ev(args[0], inp, env), lambda c: iter([inp] if _truthy(c) else []))


@_builtin("map", 1)
def _b_map(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    out: list[Value] = []
    for x in _each(inp):
        out.extend(it.ev(args[0], x, env))
    yield out


@_builtin("map_values", 1)
def _b_map_values(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    raise Unsupported("jq map_values")


@_builtin("recurse")
def _b_recurse(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    def rec(v: Value) -> Gen:
        yield v
        if isinstance(v, list | dict):
            for x in _each(v):
                yield from rec(x)

    return rec(inp)


@_builtin("values")
def _b_values(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    if inp is not None:
        yield inp


@_builtin("first", 1)
def _b_first(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    for v in it.ev(args[0], inp, env):
        yield v
        return


@_builtin("first")
def _b_first0(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield _index(inp, 0.0)


@_builtin("last")
def _b_last0(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield _index(inp, -1.0)


def _reduce_or(it: _Interp, inp: Value, cond: Node | None, env: Env, is_any: bool) -> Gen:
    """jq 1.6 any/all with 0 or 1 arguments: a reduce over every element (no short circuit)."""
    acc = not is_any
    for x in _each(inp):
        outs = [x] if cond is None else list(it.ev(cond, x, env))
        for c in outs:
            acc = (acc or _truthy(c)) if is_any else (acc and _truthy(c))
    yield acc


def _label_anyall(it: _Interp, gen: Gen, cond: Node, env: Env, is_any: bool) -> Gen:
    """jq 1.6 any/all(gen; cond): a foreach that breaks one output after the deciding one."""
    decided = False
    for v in gen:
        for c in it.ev(cond, v, env):
            if decided:
                yield is_any
                return
            if _truthy(c) == is_any:
                decided = True
    yield decided == is_any


@_builtin("any")
def _b_any0(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, None, env, True)


@_builtin("all")
def _b_all0(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, None, env, False)


@_builtin("any", 1)
def _b_any1(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, args[0], env, True)


@_builtin("all", 1)
def _b_all1(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, args[0], env, False)


@_builtin("any", 2)
def _b_any2(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _label_anyall(it, it.ev(args[0], inp, env), args[1], env, True)


@_builtin("all", 2)
def _b_all2(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _label_anyall(it, it.ev(args[0], inp, env), args[1], env, False)


def _keyed(it: _Interp, f: Node, inp: Value, env: Env) -> list[tuple[Value, Value]]:
    if not isinstance(inp, list):
        raise _type_err(inp, "cannot be sorted, as it is not an array")
    return [(list(it.ev(f, x, env)), x) for x in inp]


@_builtin("sort_by", 1)
def _b_sort_by(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    pairs = _keyed(it, args[0], inp, env)
    yield [x for _, x in sorted(pairs, key=lambda p: _KEY(p[0]))]


@_builtin("group_by", 1)
def _b_group_by(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    pairs = sorted(_keyed(it, args[0], inp, env), key=lambda p: _KEY(p[0]))
    out: list[list[Value]] = []
    last: Value = None
    for k, x in pairs:
        if out and equal(k, last):
            out[-1].append(x)
        else:
            out.append([x])
        last = k
    yield out


@_builtin("unique_by", 1)
def _b_unique_by(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    for group in _b_group_by(it, args, inp, env):
        yield [g[0] for g in group]


@_builtin("with_entries", 1)
def _b_with_entries(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    out: list[Value] = []
    for x in _to_entries(inp):
        out.extend(it.ev(args[0], x, env))
    yield _from_entries(out)


@_builtin("range", 1)
def _b_range(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    def go(n: Value) -> Gen:
        if not isinstance(n, float):
            raise JqError("Range bounds must be numeric")
        i = 0.0
        while i < n:
            it.step()  # every number is work: [range(1e9)] must stay bounded
            yield i
            i += 1

    return _bind(it.ev(args[0], inp, env), go)


def _sub(it: _Interp, args: list[Node], inp: Value, env: Env, flags: Value) -> Gen:
    if not isinstance(inp, str):
        raise _type_err(inp, "cannot be matched, as it is not a string")

    def with_re(rx_v: Value) -> Gen:
        rx = _regex(rx_v, flags)
        if rx.groups or (rx.search("") is not None and "g" in (flags or "")):
            raise Unsupported("jq sub/gsub with captures or empty matches")

        def with_repl(r: Value) -> Gen:
            if not isinstance(r, str):
                raise JqError(f"{_desc(inp)} and {_desc(r)} cannot be added")
            yield rx.sub(lambda m: r, inp, count=0 if "g" in (flags or "") else 1)

        return _bind(it.ev(args[1], {}, env), with_repl)

    return _bind(it.ev(args[0], inp, env), with_re)


@_builtin("sub", 2)
def _b_sub(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _sub(it, args, inp, env, "")


@_builtin("gsub", 2)
def _b_gsub(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _sub(it, args, inp, env, "g")


@_builtin("test", 2)
def _b_test2(it: _Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _bind(
        it.ev(args[1], inp, env), lambda fl: _bind(it.ev(args[0], inp, env), lambda rx: iter([_test(inp, rx, fl)]))
    )


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
    it = _Interp(named)
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
