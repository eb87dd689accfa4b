"""jq 1.6's builtins in the subset audits use (a table: (name, arity) -> implementation)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.jq.ops import (
    Env,
    Gen,
    _add,
    _bind,
    _contains,
    _each,
    _has,
    _index,
    _indices,
    _keys,
    _length,
    _regex,
    _split,
    _tostring,
)
from kubecis.audit.native.utilities.jq.parser import Node
from kubecis.audit.native.utilities.jq.values import _KEY, JqError, Value, _desc, _truthy, compare, dump, equal, kind

if TYPE_CHECKING:
    from kubecis.audit.native.utilities.jq.interp import Interp


Builtin = Callable[["Interp", list[Node], Value, Env], Gen]
BUILTINS: dict[tuple[str, int], Builtin] = {}


def _builtin(name: str, arity: int = 0) -> Callable[[Builtin], Builtin]:
    def deco(fn: Builtin) -> Builtin:
        BUILTINS[(name, arity)] = fn
        return fn

    return deco


def _simple(name: str, fn: Callable[[Value], Value]) -> None:
    def b(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
        yield fn(inp)

    BUILTINS[(name, 0)] = b


def _cartesian1(name: str, fn: Callable[[Value, Value], Value]) -> None:
    """A one-argument C builtin: the argument's outputs each applied to the input."""

    def b(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
        return _bind(it.ev(args[0], inp, env), lambda a: iter([fn(inp, a)]))

    BUILTINS[(name, 1)] = b


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
def _b_empty(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return iter(())


@_builtin("error")
def _b_error0(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    raise JqError(inp)


@_builtin("error", 1)
def _b_error1(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    def raise_it(v: Value) -> Gen:
        raise JqError(v)

    return _bind(it.ev(args[0], inp, env), raise_it)


@_builtin("null")
def _b_null(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield None


@_builtin("true")
def _b_true(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield True


@_builtin("false")
def _b_false(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield False


@_builtin("select", 1)
def _b_select(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _bind(it.ev(args[0], inp, env), lambda c: iter([inp] if _truthy(c) else []))


@_builtin("map", 1)
def _b_map(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    out: list[Value] = []
    for x in _each(inp):
        out.extend(it.ev(args[0], x, env))
    yield out


@_builtin("map_values", 1)
def _b_map_values(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    raise Unsupported("jq map_values")


@_builtin("recurse")
def _b_recurse(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    def rec(v: Value) -> Gen:
        yield v
        if isinstance(v, list | dict):
            for x in _each(v):
                yield from rec(x)

    return rec(inp)


@_builtin("values")
def _b_values(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    if inp is not None:
        yield inp


@_builtin("first", 1)
def _b_first(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    for v in it.ev(args[0], inp, env):
        yield v
        return


@_builtin("first")
def _b_first0(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield _index(inp, 0.0)


@_builtin("last")
def _b_last0(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    yield _index(inp, -1.0)


def _reduce_or(it: Interp, inp: Value, cond: Node | None, env: Env, is_any: bool) -> Gen:
    """jq 1.6 any/all with 0 or 1 arguments: a reduce over every element (no short circuit)."""
    acc = not is_any
    for x in _each(inp):
        outs = [x] if cond is None else list(it.ev(cond, x, env))
        for c in outs:
            acc = (acc or _truthy(c)) if is_any else (acc and _truthy(c))
    yield acc


def _label_anyall(it: Interp, gen: Gen, cond: Node, env: Env, is_any: bool) -> Gen:
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
def _b_any0(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, None, env, True)


@_builtin("all")
def _b_all0(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, None, env, False)


@_builtin("any", 1)
def _b_any1(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, args[0], env, True)


@_builtin("all", 1)
def _b_all1(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _reduce_or(it, inp, args[0], env, False)


@_builtin("any", 2)
def _b_any2(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _label_anyall(it, it.ev(args[0], inp, env), args[1], env, True)


@_builtin("all", 2)
def _b_all2(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _label_anyall(it, it.ev(args[0], inp, env), args[1], env, False)


def _keyed(it: Interp, f: Node, inp: Value, env: Env) -> list[tuple[Value, Value]]:
    if not isinstance(inp, list):
        raise _type_err(inp, "cannot be sorted, as it is not an array")
    return [(list(it.ev(f, x, env)), x) for x in inp]


@_builtin("sort_by", 1)
def _b_sort_by(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    pairs = _keyed(it, args[0], inp, env)
    yield [x for _, x in sorted(pairs, key=lambda p: _KEY(p[0]))]


@_builtin("group_by", 1)
def _b_group_by(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
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
def _b_unique_by(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    for group in _b_group_by(it, args, inp, env):
        yield [g[0] for g in group]


@_builtin("with_entries", 1)
def _b_with_entries(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    out: list[Value] = []
    for x in _to_entries(inp):
        out.extend(it.ev(args[0], x, env))
    yield _from_entries(out)


@_builtin("range", 1)
def _b_range(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    def go(n: Value) -> Gen:
        if not isinstance(n, float):
            raise JqError("Range bounds must be numeric")
        i = 0.0
        while i < n:
            it.step()  # every number is work: [range(1e9)] must stay bounded
            yield i
            i += 1

    return _bind(it.ev(args[0], inp, env), go)


def _sub(it: Interp, args: list[Node], inp: Value, env: Env, flags: Value) -> Gen:
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
def _b_sub(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _sub(it, args, inp, env, "")


@_builtin("gsub", 2)
def _b_gsub(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _sub(it, args, inp, env, "g")


@_builtin("test", 2)
def _b_test2(it: Interp, args: list[Node], inp: Value, env: Env) -> Gen:
    return _bind(
        it.ev(args[1], inp, env), lambda fl: _bind(it.ev(args[0], inp, env), lambda rx: iter([_test(inp, rx, fl)]))
    )


