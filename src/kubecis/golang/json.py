"""Go's encoding/json output: string escaping, float64 encoding, Marshal and MarshalIndent of decoded values.

Go 1.22+ escapes HTML characters and U+2028/9, writes float64 in 'f' format (or 'e' outside [1e-6, 1e21)),
sorts map keys and refuses NaN, infinities and maps with non-string keys (a YAML mapping).
"""

from __future__ import annotations

import re
from typing import Any

from kubecis.golang.errors import UnsupportedValueError
from kubecis.golang.fmt import go_float
from kubecis.golang.values import YamlMap

__all__ = ["go_json_float", "go_json_indent", "go_json_marshal", "go_json_string"]

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


def go_json_float(value: float) -> str:
    """encoding/json's float64 encoding: 'f' format, or 'e' outside [1e-6, 1e21), with e-07 → e-7."""
    if value != value or value in (float("inf"), float("-inf")):
        raise UnsupportedValueError(f"json: unsupported value: {go_float(value)}")
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    from decimal import Decimal  # rare (only floats are encoded through it): not at import

    magnitude = abs(value)
    dec = Decimal(repr(value)).normalize()
    if magnitude < 1e-6 or magnitude >= 1e21:
        text = f"{dec:e}"
        mantissa, _, exp = text.partition("e")
        sign, digits = exp[0], exp[1:]
        if sign == "+" and len(digits) < 2:
            digits = digits.rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return f"{dec:f}"


def go_json_marshal(value: Any) -> str:
    """encoding/json.Marshal of a decoded value (compact, sorted keys, HTML-escaped)."""
    if isinstance(value, YamlMap):
        raise UnsupportedValueError("json: unsupported type: map[interface {}]interface {}")
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0])
        return "{" + ",".join(f"{go_json_string(k)}:{go_json_marshal(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json_marshal(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_json_float(value)
    return go_json_string(str(value))


def go_json_indent(value: Any, depth: int = 0) -> str:
    """encoding/json MarshalIndent(v, "", "    ") of a decoded value (sorted keys, HTML-escaped)."""
    pad = "    "
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ",\n".join(
            pad * (depth + 1) + go_json_string(k) + ": " + go_json_indent(value[k], depth + 1) for k in sorted(value)
        )
        return "{\n" + inner + "\n" + pad * depth + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = ",\n".join(pad * (depth + 1) + go_json_indent(v, depth + 1) for v in value)
        return "[\n" + inner + "\n" + pad * depth + "]"
    return go_json_marshal(value)
