"""kubecis.records.dataclass builds what dataclasses.dataclass builds (on the Python running the tests)."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from kubecis import records


def _body(with_doc: bool, post_init: bool) -> dict[str, Any]:
    ns: dict[str, Any] = {
        "__annotations__": {"a": "int", "b": "str", "c": "tuple[int, ...]", "d": "list[str]"},
        "__module__": __name__,
        "b": "x",
        "c": (),
        "d": dataclasses.field(default_factory=list),
        "total": lambda self: self.a + len(self.d),
    }
    if with_doc:
        ns["__doc__"] = "A model."
    if post_init:
        def __post_init__(self: Any) -> None:
            if self.a < 0:
                raise ValueError("negative")
        ns["__post_init__"] = __post_init__
    return ns


CASES = [(frozen, slots, doc, post) for frozen in (True, False) for slots in (True, False) for doc in (True, False)
         for post in (True, False)]


def _pair(frozen: bool, slots: bool, doc: bool, post: bool) -> tuple[type, type]:
    ours = records.dataclass(frozen=frozen, slots=slots)(type("M", (), _body(doc, post)))
    ref = dataclasses.dataclass(frozen=frozen, slots=slots)(type("M", (), _body(doc, post)))
    return ours, ref


@pytest.mark.parametrize(("frozen", "slots", "doc", "post"), CASES)
def test_same_class_as_the_standard_library(frozen: bool, slots: bool, doc: bool, post: bool) -> None:
    ours, ref = _pair(frozen, slots, doc, post)
    assert ours.__doc__ == ref.__doc__
    assert str(inspect.signature(ours)) == str(inspect.signature(ref))
    assert ours.__init__.__annotations__ == ref.__init__.__annotations__
    assert ours.__match_args__ == ref.__match_args__
    assert getattr(ours, "__slots__", None) == getattr(ref, "__slots__", None)
    assert [(f.name, f.type, f.default, f.default_factory) for f in dataclasses.fields(ours)] == [
        (f.name, f.type, f.default, f.default_factory) for f in dataclasses.fields(ref)]
    assert repr(ours.__dataclass_params__) == repr(ref.__dataclass_params__)
    assert (ours.__hash__ is None) == (ref.__hash__ is None)
    for name in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__getstate__"):
        assert (name in ours.__dict__) == (name in ref.__dict__), name
        if name in ours.__dict__ and ours.__dict__[name] is not None:
            assert ours.__dict__[name].__qualname__ == ref.__dict__[name].__qualname__, name


@pytest.mark.parametrize(("frozen", "slots", "doc", "post"), CASES)
def test_same_instances_as_the_standard_library(frozen: bool, slots: bool, doc: bool, post: bool) -> None:
    ours, ref = _pair(frozen, slots, doc, post)
    for args, kw in (((1,), {}), ((2, "y", (3,)), {"d": ["z"]}), ((), {"a": 4, "c": (1, 2)})):
        o, r = ours(*args, **kw), ref(*args, **kw)
        assert repr(o) == repr(r)
        assert o == ours(*args, **kw) and o != r and (o == r) == (r == o)
        assert o.__eq__(r) is NotImplemented
        assert dataclasses.asdict(o) == dataclasses.asdict(r)
        assert dataclasses.astuple(o) == dataclasses.astuple(r)
        assert repr(dataclasses.replace(o, b="q")) == repr(dataclasses.replace(r, b="q"))
        assert o.total() == r.total()
        if frozen:
            o2, r2 = ours(*args, **{**kw, "d": ()}), ref(*args, **{**kw, "d": ()})
            assert hash(o2) == hash(r2) == hash(ours(*args, **{**kw, "d": ()}))
            for obj in (o, r):
                with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
                    obj.a = 9
                with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'b'"):
                    del obj.b
        else:
            with pytest.raises(TypeError):
                hash(o)
            o.a = 7
            assert o.a == 7
    if post:
        for cls in (ours, ref):
            with pytest.raises(ValueError, match="negative"):
                cls(-1)
    with pytest.raises(TypeError) as ours_err:
        ours()
    with pytest.raises(TypeError) as ref_err:
        ref()
    assert str(ours_err.value).replace(ours.__qualname__, "") == str(ref_err.value).replace(ref.__qualname__, "")
    assert ours(1).d is not ours(1).d  # the factory runs per instance


def test_pickle_and_copy() -> None:
    from kubecis.benchmark.model import Check, Compare, TestItem, Tests

    c = Check(id="1.1", audit="ps -ef", tests=Tests("and", (TestItem(flag="--x", compare=Compare("eq", "1")),)))
    assert pickle.loads(pickle.dumps(c)) == c
    assert copy.deepcopy(c) == c and copy.copy(c) == c
    assert hash(c) == hash(dataclasses.replace(c))


def test_other_options_go_to_the_standard_library() -> None:
    @records.dataclass(frozen=True, order=True)
    class Ordered:
        a: int

    @records.dataclass
    class Plain:
        a: int
        b: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    assert Ordered(1) < Ordered(2)
    assert Plain(1, {"x": "y"}) == Plain(1)
    assert Plain.__init__.__qualname__ == "test_other_options_go_to_the_standard_library.<locals>.Plain.__init__"


def test_the_run_path_models_are_real_dataclasses() -> None:
    from kubecis.benchmark.model import Check, Controls
    from kubecis.cli.run import RunOptions
    from kubecis.results.model import CheckResult, RunResult

    for cls in (Check, Controls, CheckResult, RunResult, RunOptions):
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.eq and cls.__dataclass_params__.init
    assert Check.__dataclass_params__.frozen and Check.__hash__ is not None
    assert RunResult.__hash__ is None  # not frozen: unhashable, like any eq dataclass
