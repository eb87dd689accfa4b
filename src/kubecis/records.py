"""``@dataclass`` for the models a node run imports, built faster: the same classes, only ``__init__`` compiled.

The standard library compiles every generated method of a dataclass separately (``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``: compiling them is about a millisecond a class);
a node run imports some forty dataclasses, so that was a fifth of ``kubecis run``'s start-up. :func:`dataclass`
lets :func:`dataclasses.dataclass` do everything but the methods (fields, defaults, ``__match_args__``, slots,
``__dataclass_fields__``, so :func:`dataclasses.fields`, :func:`~dataclasses.replace`,
:func:`~dataclasses.asdict` and pickling work as before), then adds the methods the standard library would have
generated: ``__init__`` with the same code (the one method compiled: its parameters are the field names), the
others (``__repr__``, ``__eq__``, ``__hash__``, frozen ``__setattr__``/``__delattr__``) as closures over the field
names that compute exactly what the generated code computes (the same tuples compared and hashed, the same
text). ``tests/architecture/test_records.py`` checks them against the standard library's on this Python.

Only the plain cases take this path: ``eq`` on, no ``order``, ``unsafe_hash``, ``kw_only``, ``InitVar``,
``ClassVar``, inherited fields, or field options beyond ``default``/``default_factory``, no ``__setattr__`` of the
class's own when frozen. Anything else is handed to :func:`dataclasses.dataclass` unchanged.
"""

from __future__ import annotations

import _thread
import dataclasses
import inspect
import operator
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["dataclass"]

_T = TypeVar("_T", bound=type)


@overload
def dataclass(cls: _T, /) -> _T: ...
@overload
def dataclass(*, frozen: bool = False, slots: bool = False, order: bool = False) -> Callable[[_T], _T]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls: Any = None, /, *, frozen: bool = False, slots: bool = False, order: bool = False) -> Any:
    """:func:`dataclasses.dataclass` with ``frozen``, ``slots`` and ``order``; the plain cases built faster."""

    def wrap(c: type) -> type:
        if order or not _plain(c, frozen):
            return dataclasses.dataclass(c, frozen=frozen, slots=slots, order=order)
        return _build(c, frozen=frozen, slots=slots)

    return wrap if cls is None else wrap(cls)


def _plain(cls: type, frozen: bool) -> bool:
    if any(hasattr(b, "__dataclass_fields__") for b in cls.__mro__[1:]):
        return False
    if frozen and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__):
        return False
    for name, ann in inspect.get_annotations(cls).items():
        text = ann if isinstance(ann, str) else getattr(ann, "__name__", "")
        if any(w in text for w in ("ClassVar", "InitVar", "KW_ONLY")):
            return False
        value = cls.__dict__.get(name, dataclasses.MISSING)
        if isinstance(value, dataclasses.Field) and (
            not (value.init and value.repr and value.compare) or value.hash is not None or value.metadata
            or value.kw_only not in (dataclasses.MISSING, False)
        ):
            return False
    return True


def _build(cls: type, *, frozen: bool, slots: bool) -> type:
    doc = cls.__dict__.get("__doc__")
    own = {n for n in ("__init__", "__repr__", "__eq__") if n in cls.__dict__}
    class_hash = cls.__dict__.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    if not doc:
        cls.__doc__ = "-"  # written below from the real signature (saves dataclasses one of an __init__-less class)
    # fields, defaults, __match_args__, slots (a new class): everything but the generated methods
    new: type = dataclasses.dataclass(cls, init=False, repr=False, eq=False, frozen=False, slots=slots)
    fields = list(new.__dataclass_fields__.values())  # type: ignore[attr-defined]
    names = tuple(f.name for f in fields)
    made: dict[str, Any] = {"__init__": _init(new, fields, frozen), "__repr__": _recursive_repr(_repr(names)),
                            "__eq__": _eq(names)}
    made["__init__"].__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    for name, fn in made.items():
        if name not in own:
            fn.__qualname__ = f"{new.__qualname__}.{name}"
            setattr(new, name, fn)
    if frozen:
        for name, fn in _frozen_set_del(new, names).items():
            fn.__qualname__ = f"{new.__qualname__}.{name}"
            setattr(new, name, fn)
        if slots:
            if "__getstate__" not in cls.__dict__:
                setattr(new, "__getstate__", _dataclass_getstate)  # noqa: B010
            if "__setstate__" not in cls.__dict__:
                setattr(new, "__setstate__", _dataclass_setstate)  # noqa: B010
    if not explicit_hash:  # eq: hash by the fields when frozen, unhashable otherwise (dataclasses' table)
        if frozen:
            h = _hash(names)
            h.__qualname__ = f"{new.__qualname__}.__hash__"
            setattr(new, "__hash__", h)  # noqa: B010
        else:
            setattr(new, "__hash__", None)  # noqa: B010
    p = new.__dataclass_params__  # type: ignore[attr-defined]
    p.init, p.repr, p.eq, p.frozen = True, True, True, frozen
    if not doc:
        try:
            new.__doc__ = new.__name__ + str(inspect.signature(new)).replace(" -> None", "")
        except (TypeError, ValueError):
            new.__doc__ = new.__name__
    return new


def _init(cls: type, fields: list[dataclasses.Field[Any]], frozen: bool) -> Any:
    """``__init__`` as dataclasses writes it (the one method compiled: its parameters are the field names)."""
    names = [f.name for f in fields]
    self_name = "__dataclass_self__" if "self" in names else "self"
    ns: dict[str, Any] = {"__dataclass_builtins_object__": object, "_HAS_DEFAULT_FACTORY": _HAS_DEFAULT_FACTORY}
    params, body = [self_name], []
    for f in fields:
        if f.default_factory is not dataclasses.MISSING:
            ns[f"_dflt_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_HAS_DEFAULT_FACTORY")
            value = f"_dflt_{f.name}() if {f.name} is _HAS_DEFAULT_FACTORY else {f.name}"
        elif f.default is not dataclasses.MISSING:
            ns[f"_dflt_{f.name}"] = f.default
            params.append(f"{f.name}=_dflt_{f.name}")
            value = f.name
        else:
            params.append(f.name)
            value = f.name
        body.append(f"__dataclass_builtins_object__.__setattr__({self_name},{f.name!r},{value})" if frozen
                    else f"{self_name}.{f.name}={value}")
    if hasattr(cls, "__post_init__"):
        body.append(f"{self_name}.__post_init__()")
    src = f"def __init__({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body or ["pass"])
    exec(src, ns)  # noqa: S102 - the text above, built from the class's own field names
    return ns["__init__"]


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    if not names:
        return lambda obj: ()
    return operator.attrgetter(*names)


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    def __repr__(self: Any) -> str:
        return str(self.__class__.__qualname__) + "(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    return __repr__


def _eq(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    values = _values(names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _frozen_set_del(cls: Any, names: tuple[str, ...]) -> dict[str, Any]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return {"__setattr__": __setattr__, "__delattr__": __delattr__}


class _HasDefaultFactory:
    def __repr__(self) -> str:
        return "<factory>"


# dataclasses' own sentinel when it has one (the signature shows ``=<factory>`` either way)
_HAS_DEFAULT_FACTORY: Any = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", _HasDefaultFactory())


def _recursive_repr(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    running: set[tuple[int, int]] = set()

    def __repr__(self: Any) -> str:
        key = id(self), _thread.get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            return fn(self)
        finally:
            running.discard(key)

    __repr__.__wrapped__ = fn  # type: ignore[attr-defined]
    return __repr__


def _dataclass_getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _dataclass_setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, f.name, value)
