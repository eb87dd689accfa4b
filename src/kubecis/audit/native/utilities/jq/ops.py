"""Closures, environments and the value operations jq's evaluator and builtins share."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from kubecis.audit.native import bounds
from kubecis.audit.native.bounds import check_size
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.jq.parser import Node
from kubecis.audit.native.utilities.jq.values import JqError, Value, _desc, _rank, compare, dump, equal, kind

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
            reps = 1 + max(0, int(n - 1)) if n < bounds.MAX_DATA else bounds.MAX_DATA + 1
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


