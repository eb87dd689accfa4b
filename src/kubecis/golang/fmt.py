"""Go's fmt and strconv formatting that kube-bench's and kubectl's output depends on.

Several strings in kube-bench's reports are produced by Go's ``%q`` verb and ``%v`` of a float64 or of a
decoded value (``map[a:1]``); these reproduce them byte for byte.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from kubecis.golang.values import INVALID

__all__ = ["go_float", "go_quote", "sprint"]

_Q_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def _printable(ch: str) -> bool:
    """Go's strconv.IsPrint for one rune (letters, marks, numbers, punct, symbols, ASCII space)."""
    if ch == " ":
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "LMNPS"


_Q_PLAIN = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII other than '"' and '\\'


def go_quote(text: str | bytes) -> str:
    """Go's ``%q`` / ``strconv.Quote`` of a string (invalid UTF-8 bytes become ``\\xNN``)."""
    if isinstance(text, str) and _Q_PLAIN.fullmatch(text):  # the usual case: nothing to escape
        return f'"{text}"'
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    out = ['"']
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            ch = chr(b)
            if ch in _Q_ESCAPES:
                out.append(_Q_ESCAPES[ch])
            elif 0x20 <= b < 0x7F:
                out.append(ch)
            else:
                out.append(f"\\x{b:02x}")
            i += 1
            continue
        # decode one UTF-8 sequence
        length = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 0
        chunk = data[i : i + length] if length else b""
        try:
            ch = chunk.decode("utf-8") if chunk else ""
        except UnicodeDecodeError:
            ch = ""
        if len(ch) != 1:
            out.append(f"\\x{b:02x}")
            i += 1
            continue
        cp = ord(ch)
        if _printable(ch):
            out.append(ch)
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
        i += length
    out.append('"')
    return "".join(out)


def go_float(value: float) -> str:
    """Go's ``%v`` of a float64: strconv 'g' with shortest digits; exponent form when exp < -4 or >= 6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    r = repr(value)  # shortest round-trip digits
    mantissa, _, exp_s = r.partition("e")
    sign = ""
    if mantissa.startswith("-"):
        sign, mantissa = "-", mantissa[1:]
    int_part, _, frac_part = mantissa.partition(".")
    if frac_part == "0":
        frac_part = ""
    exp = int(exp_s) if exp_s else 0
    digits = (int_part + frac_part).lstrip("0")
    # decimal exponent of the first significant digit
    if int_part.strip("0"):
        point = len(int_part.lstrip("0")) + exp
    else:
        point = exp - (len(frac_part) - len(frac_part.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    x = point - 1  # exponent in d.ddd form
    if x < -4 or x >= 6:
        head, tail = digits[0], digits[1:]
        m = head + ("." + tail if tail else "")
        es = "-" if x < 0 else "+"
        ax = abs(x)
        return f"{sign}{m}e{es}{ax:02d}"
    if point <= 0:
        return f"{sign}0.{'0' * (-point)}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _sort_key(key: Any) -> tuple[str, Any]:
    return (type(key).__name__, key if isinstance(key, str | int | float) else str(key))


def sprint(value: Any) -> str:
    """fmt.Sprint (``%v``) of a decoded value; maps print as ``map[k:v ...]`` with sorted keys."""
    if value is None:
        return "<nil>"
    if value is INVALID:
        return "<invalid reflect.Value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(sprint(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=_sort_key)
        return "map[" + " ".join(f"{sprint(k)}:{sprint(value[k])}" for k in keys) + "]"
    return str(value)
