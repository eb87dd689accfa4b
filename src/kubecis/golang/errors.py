"""What Go's libraries refuse: one error class per library, under :class:`GoError`."""

from __future__ import annotations

from kubecis.errors import KubecisError

__all__ = ["GoError", "JsonPathError", "NotReproduced", "RegexpError", "UnsupportedValueError"]


class GoError(KubecisError):
    """A value or template a Go library refuses; ``str()`` is the library's own message."""


class JsonPathError(GoError):
    """A template that client-go's JSONPath cannot parse; ``str()`` is client-go's message."""


class RegexpError(GoError, ValueError):
    """A pattern Go's regexp cannot compile, or one whose meaning ``re`` cannot reproduce."""


class UnsupportedValueError(GoError):
    """encoding/json refuses the value (NaN, infinities, a map with non-string keys)."""


class NotReproduced(GoError):
    """A case a port here does not reproduce byte for byte (it declines rather than guess)."""
