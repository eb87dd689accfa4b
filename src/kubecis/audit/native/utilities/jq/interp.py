"""jq's evaluator: generators with jq 1.6's backtracking through ``try``."""

from __future__ import annotations

from typing import Any

from kubecis.audit.native.bounds import Budget
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.utilities.jq import ops
from kubecis.audit.native.utilities.jq.builtins import BUILTINS
from kubecis.audit.native.utilities.jq.ops import (
    Closure,
    Env,
    Gen,
    _arith,
    _bind,
    _each,
    _index,
    _throw,
    _tostring,
)
from kubecis.audit.native.utilities.jq.parser import Node
from kubecis.audit.native.utilities.jq.values import JqError, Value, _desc, _truthy


class Interp:
    """Evaluates a compiled program over one input; counts steps (``MAX_STEPS``) and the audit's wall time."""

    def __init__(self, named_args: dict[str, Value], budget: Budget | None = None) -> None:
        self.steps = 0
        self.budget = budget
        self.root = Env(dict(named_args), {})

    # -- core
    def step(self) -> None:
        self.steps += 1
        if self.steps > ops.MAX_STEPS:
            raise Unsupported("jq program too expensive")
        if not self.steps & 0xFFF and self.budget is not None:
            self.budget.check_time()

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
        fn = BUILTINS.get((name, len(args)))
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


