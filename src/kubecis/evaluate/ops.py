"""kube-bench's compare operators, one pure function each.

Every op takes the extracted value ``v``, the benchmark's compare value ``c`` and
the label ``name`` (flag, path or env name) and returns ``(passed, expectation)``
with kube-bench's exact expectation text (kube-bench-compat.md#compare-operators). The Go parsing rules
(``strconv.Atoi``, ``strconv.ParseInt(x, 8, 64)``, ``strings.TrimSpace``) are
reproduced exactly because they decide pass/fail on odd values such as ``+5``,
``0644``, ``1_000`` or ``10Mi``.

The one departure from kube-bench: an invalid ``regex`` value panics kube-bench;
here it raises :class:`~kubecis.golang.regexp.RegexpError`, which the
evaluator turns into a check error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kubecis.golang.regexp import compile_go

OpFn = Callable[[str, str, str], tuple[bool, str]]

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property (Python's
# str.isspace also counts \x1c-\x1f, which Go does not).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_DECIMAL = re.compile(r"[+-]?[0-9]+")
_OCTAL = re.compile(r"[+-]?[0-7]+")


def go_trim_space(s: str) -> str:
    """strings.TrimSpace."""
    start, end = 0, len(s)
    while start < end and s[start] in _GO_SPACE:
        start += 1
    while end > start and s[end - 1] in _GO_SPACE:
        end -= 1
    return s[start:end]


def go_atoi(s: str) -> int | None:
    """strconv.Atoi on a 64-bit platform: optional sign, ASCII decimal digits, int64 range."""
    if not _DECIMAL.fullmatch(s):
        return None
    value = int(s)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def go_parse_octal(s: str) -> int | None:
    """strconv.ParseInt(s, 8, 64): explicit base, so no prefix and no underscores; a leading 0 is a digit."""
    if not _OCTAL.fullmatch(s):
        return None
    value = int(s, 8)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _bool_equal(v: str, c: str) -> bool:
    """eq's rule: a boolean-looking value is lower-cased; the compare value never is."""
    lowered = v.lower()
    if lowered in ("true", "false"):
        return lowered == c
    return v == c


def op_eq(v: str, c: str, name: str) -> tuple[bool, str]:
    return _bool_equal(v, c), f"'{name}' is equal to '{c}'"


def op_noteq(v: str, c: str, name: str) -> tuple[bool, str]:
    return not _bool_equal(v, c), f"'{name}' is not equal to '{c}'"


def _numeric(v: str, c: str, name: str, test: Callable[[int, int], bool], wording: str) -> tuple[bool, str]:
    a = go_atoi(go_trim_space(v))
    b = go_atoi(go_trim_space(c))
    if a is None or b is None:
        return False, f"Invalid Number(s) used for comparison: '{v}' '{c}'"
    return test(a, b), f"'{name}' is {wording} {c}"


def op_gt(v: str, c: str, name: str) -> tuple[bool, str]:
    return _numeric(v, c, name, lambda a, b: a > b, "greater than")


def op_gte(v: str, c: str, name: str) -> tuple[bool, str]:
    return _numeric(v, c, name, lambda a, b: a >= b, "greater or equal to")


def op_lt(v: str, c: str, name: str) -> tuple[bool, str]:
    return _numeric(v, c, name, lambda a, b: a < b, "lower than")


def op_lte(v: str, c: str, name: str) -> tuple[bool, str]:
    return _numeric(v, c, name, lambda a, b: a <= b, "lower or equal to")


def op_has(v: str, c: str, name: str) -> tuple[bool, str]:
    return c in v, f"'{name}' has '{c}'"


def op_nothave(v: str, c: str, name: str) -> tuple[bool, str]:
    return c not in v, f"'{name}' does not have '{c}'"


def op_regex(v: str, c: str, name: str) -> tuple[bool, str]:
    """Unanchored RE2 search; raises RegexpError for a pattern Go could not compile."""
    return compile_go(c).search(v) is not None, f"'{name}' matched by regex expression '{c}'"


def split_elements(s: str) -> list[str]:
    """splitAndRemoveLastSeparator: trim, drop trailing commas, split on ',', trim each."""
    clean = go_trim_space(s).rstrip(",")
    if not clean:
        return []
    return [go_trim_space(part) for part in clean.split(",")]


def op_valid_elements(v: str, c: str, name: str) -> tuple[bool, str]:
    values, allowed = split_elements(v), split_elements(c)
    if not values or not allowed:
        # Both empty passes; exactly one empty fails.
        return not values and not allowed, f"'{name}' contains valid elements from '{c}'"
    return all(x in allowed for x in values), f"'{name}' contains valid elements from '{c}'"


def op_bitmask(v: str, c: str, name: str) -> tuple[bool, str]:
    """Pass when v grants no permission bit that c does not (v is a subset of c)."""
    requested = go_parse_octal(v)
    if requested is None:
        return False, f"Not numeric value - flag: {v}"
    maximum = go_parse_octal(c)
    if maximum is None:
        return False, f"Not numeric value - flag: {c}"
    return (maximum & requested) == requested, f"{name} has permissions {v}, expected {c} or more restrictive"


OPS: dict[str, OpFn] = {
    "eq": op_eq,
    "noteq": op_noteq,
    "gt": op_gt,
    "gte": op_gte,
    "lt": op_lt,
    "lte": op_lte,
    "has": op_has,
    "nothave": op_nothave,
    "regex": op_regex,
    "valid_elements": op_valid_elements,
    "bitmask": op_bitmask,
}


def compare(op: str, v: str, c: str, name: str) -> tuple[bool, str]:
    """Run ``op``; an unknown op fails with an empty expectation, as in kube-bench."""
    fn = OPS.get(op)
    if fn is None:
        return False, ""
    return fn(v, c, name)
