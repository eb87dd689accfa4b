"""The jq program lexer and parser (jq 1.6's grammar, the subset audits use) into tuple nodes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubecis.audit.native.utilities.jq.values import JqCompileError

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


