"""The Go types behind decoded values (what ``interface{}`` holds after json/yaml.Unmarshal).

JSON objects decode to ``dict`` (``map[string]interface {}``), YAML mappings to :class:`YamlMap`
(``map[interface {}]interface {}``, which encoding/json refuses), lists to ``list``, JSON numbers to
``float``, YAML integers to ``int``, null to ``None``. :data:`INVALID` is Go's zero ``reflect.Value``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["INVALID", "InvalidValue", "YamlMap", "go_type_name"]


class YamlMap(dict[Any, Any]):
    """A mapping decoded from YAML (Go ``map[interface{}]interface{}``)."""


class InvalidValue:
    """Go's zero reflect.Value (``reflect.ValueOf(nil)``)."""

    def __repr__(self) -> str:
        return "<invalid reflect.Value>"


INVALID = InvalidValue()


def go_type_name(value: Any) -> str:
    """The Go type of a decoded value, for client-go's error messages."""
    if isinstance(value, YamlMap):
        return "map[interface {}]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "interface {}"
