"""Go formatting rules that kube-bench's output depends on.

kube-bench is written in Go; several strings in its reports are produced by Go's
``%q`` verb, ``%v`` of a float64 and ``encoding/json``. These helpers reproduce
them so our reports are byte-identical.
"""

from __future__ import annotations

import math
import re
import unicodedata

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


_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


# What Go's encoder does not write raw (DEL is raw, as in Go).
_JSON_ESCAPED = re.compile('["\\\\<>&\x00-\x1f\u2028\u2029\ud800-\udfff]')


def _json_escape(m: re.Match[str]) -> str:
    ch = m.group()
    cp = ord(ch)
    if ch in _JSON_SHORT:
        return _JSON_SHORT[ch]
    if ch in _JSON_HTML:
        return _JSON_HTML[ch]
    if cp < 0x20:
        return f"\\u00{cp:02x}"
    return "\\ufffd"  # a lone surrogate: invalid UTF-8 in Go's input


def go_json_string(text: str) -> str:
    """A JSON string literal exactly as Go 1.22+ ``json.Marshal`` writes it: HTML characters and U+2028/9
    as ``\\uXXXX``; ``\\b \\f \\n \\r \\t`` short; other control characters ``\\u00xx``; invalid UTF-8
    (lone surrogates from ``surrogateescape``) as ``\\ufffd``; all else raw UTF-8."""
    return '"' + _JSON_ESCAPED.sub(_json_escape, text) + '"'
