"""jq values: JSON as Python objects (every number a float), jq 1.6's ordering, output and errors."""

from __future__ import annotations

import math
import sys
from functools import cmp_to_key
from typing import Any

from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import dec, enc
from kubecis.errors import ToolError

Value = Any  # None | bool | float | str | list[Value] | dict[str, Value]
DBL_MAX = sys.float_info.max


class JqError(ToolError):
    """A jq runtime error carrying its message value (jq prints it; ``try`` catches it)."""

    def __init__(self, msg: Value) -> None:
        super().__init__(msg)
        self.msg = msg


class JqCompileError(Unsupported):
    """A jq program outside the subset, or one jq 1.6 would not compile."""


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


