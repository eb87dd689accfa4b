"""dash's arithmetic expansion ``$((...))``: 64-bit integers, C operators, dash's error messages."""

from __future__ import annotations

import re

from kubecis.audit.native.errors import Unsupported
from kubecis.errors import ToolError

__all__ = ["ArithError", "eval_arith"]


class ArithError(ToolError):
    """An arithmetic expression dash rejects; ``str()`` is dash's message (the shell prints it, exits 2)."""


_ARITH_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+)|([A-Za-z_]\w*)|(<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>&^|!~()?:]))"
)


def _arith_dec(digits: str) -> int:
    """A decimal literal; beyond 64 bits is the overflow the evaluator declines anyway (and never int()'s
    digit limit)."""
    if len(digits.lstrip("0")) > 19:
        raise Unsupported("arithmetic overflow")
    return int(digits)


def _arith_int(text: str) -> int:
    t = text.strip(" \t\n")
    m = re.fullmatch(r"([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", t)
    if not m:
        raise ArithError(f"Illegal number: {text}")
    digits = m.group(2)
    if digits.lower().startswith("0x"):
        v = int(digits, 16)
    elif digits.startswith("0") and len(digits) > 1:
        v = int(digits, 8)
    else:
        v = _arith_dec(digits)
    return -v if m.group(1) == "-" else v


def eval_arith(text: str, env: dict[str, str]) -> int:
    """dash's $((...)) over intmax_t: literals, variables, C operators (no assignment)."""
    toks: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _ARITH_TOKEN.match(text, pos)
        if not m:
            raise Unsupported(f"arithmetic expression {text!r}")
        if m.group(1):
            toks.append(("num", m.group(1)))
        elif m.group(2):
            toks.append(("var", m.group(2)))
        else:
            toks.append(("op", m.group(3)))
        pos = m.end()
    if not toks:
        raise Unsupported("empty arithmetic expression")
    i = 0

    def peek() -> str | None:
        return toks[i][1] if i < len(toks) and toks[i][0] == "op" else None

    def primary() -> int:
        nonlocal i
        if i >= len(toks):
            raise Unsupported("arithmetic expression: expecting primary")
        kind, val = toks[i]
        i += 1
        if kind == "num":
            if val.lower().startswith("0x"):
                return int(val, 16)
            if val.startswith("0") and len(val) > 1:
                if not re.fullmatch(r"0[0-7]+", val):
                    raise Unsupported("arithmetic: bad octal")
                return int(val, 8)
            return _arith_dec(val)
        if kind == "var":
            if i < len(toks) and toks[i][0] == "op" and toks[i][1] in ("=",):
                raise Unsupported("arithmetic assignment")
            raw = env.get(val, "")
            return _arith_int(raw) if raw.strip(" \t\n") else 0
        if val == "(":
            r = ternary()
            if peek() != ")":
                raise Unsupported("arithmetic expression: missing )")
            i += 1
            return r
        if val in ("-", "+", "!", "~"):
            v = primary()
            return {"-": -v, "+": v, "!": int(not v), "~": ~v}[val]
        raise Unsupported(f"arithmetic expression {text!r}")

    levels: list[tuple[str, ...]] = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="),
                                     ("<", "<=", ">", ">="), ("<<", ">>"), ("+", "-"), ("*", "/", "%")]

    def binary(level: int) -> int:
        nonlocal i
        if level == len(levels):
            return primary()
        left = binary(level + 1)
        while peek() in levels[level]:
            op = toks[i][1]
            i += 1
            right = binary(level + 1)
            left = _arith_op(op, left, right)
        return left

    def ternary() -> int:
        nonlocal i
        c = binary(0)
        if peek() == "?":
            i += 1
            a = ternary()
            if peek() != ":":
                raise Unsupported("arithmetic expression: expecting :")
            i += 1
            b = ternary()
            return a if c else b
        return c

    r = ternary()
    if i != len(toks):
        raise Unsupported(f"arithmetic expression {text!r}")
    if not -(2**63) <= r < 2**63:
        raise Unsupported("arithmetic overflow")
    return r


def _arith_op(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise Unsupported("arithmetic division by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q if op == "/" else a - q * b
    if op in ("<<", ">>"):
        if not 0 <= b < 64:
            raise Unsupported("arithmetic shift count")
        return a << b if op == "<<" else a >> b
    r = {
        "||": int(bool(a) or bool(b)), "&&": int(bool(a) and bool(b)), "|": a | b, "^": a ^ b, "&": a & b,
        "==": int(a == b), "!=": int(a != b), "<": int(a < b), "<=": int(a <= b), ">": int(a > b),
        ">=": int(a >= b), "+": a + b, "-": a - b, "*": a * b,
    }[op]
    if not -(2**63) <= r < 2**63:
        raise Unsupported("arithmetic overflow")
    return r
