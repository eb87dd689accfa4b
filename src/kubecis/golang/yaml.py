"""Decode ``audit_config`` output the way kube-bench does: JSON, else go-yaml v2.

kube-bench unmarshals into a Go ``interface{}``: ``encoding/json`` first (every
number becomes a float64), and when that fails ``gopkg.in/yaml.v2`` (YAML 1.1
scalars). The resulting Go types decide how a JSONPath result prints (``1e+06``
for a JSON ``1000000``, ``1000000`` for a YAML one) and whether a map can be
rendered at all (YAML maps have ``interface{}`` keys, which ``encoding/json``
refuses). So the decoded values keep those distinctions:

* JSON numbers are always ``float``; YAML ints stay ``int``.
* YAML mappings are :class:`YamlMap` (a ``dict``), JSON objects plain ``dict``.
* go-yaml v2 plain scalars: ``y/Y/yes/on/...`` are booleans, ``0644`` is octal
  (420), ``08`` is the float 8, ``1e3`` is a float, ``1:30`` and timestamps stay
  strings, ``~``/``null``/empty are null. PyYAML's own YAML 1.1 resolver differs
  on several of these, so plain scalars are resolved here by a port of go-yaml's
  rules (PyYAML is only the parser).

Only the first YAML document is read, as ``yaml.Unmarshal`` does.

What is decoded comes from the node (a config file, a command's output): hostile data.
A document over a bound of :mod:`kubecis.yamllimits` (alias expansion, recursive
aliases, nesting, size) is *refused* rather than decoded: ``Decoded.refused`` says why,
and the check that needed it is not evaluated (WARN) instead of failing.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

from kubecis.golang.values import YamlMap
from kubecis.records import dataclass
from kubecis.yamllimits import MAX_DEPTH, MAX_FILE_BYTES, YamlLimitError, check_graph, value_depth_exceeds

__all__ = ["Decoded", "YamlMap", "load_config", "load_json", "load_yaml", "resolve_plain"]

_PLAIN_TAG = "!kubecis/go-plain"

_BOOLS_NULLS: dict[str, Any] = {}
for _words, _value in (
    (("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    (("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    (("", "~", "null", "Null", "NULL"), None),
    ((".nan", ".NaN", ".NAN"), math.nan),
    ((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    (("-.inf", "-.Inf", "-.INF"), -math.inf),
):
    for _w in _words:
        _BOOLS_NULLS[_w] = _value

_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_HINT_MAP = set("yYnNtTfFoO~")
_UINT64_MAX = (1 << 64) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Decoded:
    """Result of :func:`load_config`: ``value`` when ``error`` and ``refused`` are empty.

    ``error`` is kube-bench's (the text is not JSON or YAML: the test item fails); ``refused``
    names the bound the text is over (it was not decoded: the check is not evaluated).
    """

    value: Any = None
    error: str = ""
    refused: str = ""


def _go_parse_uint(s: str) -> int | None:
    """strconv.ParseUint(s, 0, 64) after go-yaml removed underscores."""
    if not s:
        return None
    base = 10
    digits = s
    if s[0] == "0" and len(s) > 1:
        prefix = s[1].lower()
        if len(s) >= 3 and prefix in "box":
            base = {"b": 2, "o": 8, "x": 16}[prefix]
            digits = s[2:]
        else:
            base = 8
            digits = s[1:]
    allowed = "0123456789abcdef"[:base]
    if not digits or any(ch not in allowed for ch in digits.lower()):
        return None
    value = int(digits, base)
    return value if value <= _UINT64_MAX else None


def _go_parse_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64)."""
    sign = 1
    body = s
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        body = s[1:]
    magnitude = _go_parse_uint(body)
    if magnitude is None:
        return None
    value = sign * magnitude
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _go_parse_float(s: str) -> float | None:
    """strconv.ParseFloat for decimal syntax; out-of-range is an error in Go."""
    if not _YAML_STYLE_FLOAT.fullmatch(s):
        return None
    value = float(s)
    return None if math.isinf(value) else value


def resolve_plain(text: str) -> Any:
    """go-yaml v2's ``resolve`` for an untagged plain scalar decoded into ``interface{}``."""
    if text in _BOOLS_NULLS:
        return _BOOLS_NULLS[text]
    first = text[0]
    if first == "." and text != ".":
        value = _go_parse_float(text)
        return text if value is None else value
    if not (first.isascii() and (first.isdigit() or first in "+-")):
        return text
    # Timestamps ("2001-12-14") are kept as strings by go-yaml v2; none of them parses as a number.
    plain = text.replace("_", "")
    if not plain:
        return text
    as_int = _go_parse_int(plain)
    if as_int is not None:
        return as_int
    as_uint = _go_parse_uint(plain)
    if as_uint is not None:
        return as_uint
    as_float = _go_parse_float(plain)
    if as_float is not None:
        return as_float
    for prefix, sign in (("0b", 1), ("-0b", -1)):
        if plain.startswith(prefix):
            digits = plain[len(prefix) :]
            if digits and set(digits) <= {"0", "1"}:
                value = sign * int(digits, 2)
                if _INT64_MIN <= value <= (_UINT64_MAX if sign > 0 else _INT64_MAX):
                    return value
    return text


_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _GoYamlLoader(_BaseLoader):  # type: ignore[misc]
    """PyYAML parser + go-yaml v2 scalar resolution + YamlMap mappings."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level registry


_GoYamlLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])
_GoYamlLoader.add_implicit_resolver(_PLAIN_TAG, re.compile(r"(?s).*"), None)


def _construct_plain(loader: Any, node: yaml.ScalarNode) -> Any:
    return resolve_plain(loader.construct_scalar(node))


def _construct_map(loader: Any, node: yaml.MappingNode) -> Iterator[YamlMap]:
    data = YamlMap()
    yield data
    data.update(loader.construct_mapping(node))


def _construct_raw(loader: Any, node: yaml.ScalarNode) -> str:
    """Explicit !!timestamp: go-yaml v2 hands timestamps to interface{} as their text."""
    return str(loader.construct_scalar(node))


def _construct_binary(loader: Any, node: yaml.ScalarNode) -> str:
    raw: bytes = loader.construct_yaml_binary(node)
    return raw.decode("utf-8", "replace")


def _construct_unknown(loader: Any, node: yaml.Node) -> Any:
    """Unknown tags (``!foo x``): go-yaml keeps the value as if untagged-but-quoted."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return YamlMap(loader.construct_mapping(node))


_GoYamlLoader.add_constructor(_PLAIN_TAG, _construct_plain)
_GoYamlLoader.add_constructor(None, _construct_unknown)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_raw)
_GoYamlLoader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)


def _yaml_error_text(exc: yaml.YAMLError) -> str:
    """Shape a PyYAML error like go-yaml's ``yaml: line N: problem``."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"yaml: line {mark.line + 1}: {problem}"
    return f"yaml: {problem}"


def load_yaml(text: str) -> Any:
    """The first YAML document of ``text`` with go-yaml v2 semantics.

    Raises yaml.YAMLError (or another parser error) for malformed text and
    :class:`~kubecis.yamllimits.YamlLimitError` for a document over a bound, checked on the
    composed node graph before anything is constructed.
    """
    loader = _GoYamlLoader(text)
    try:
        node = loader.get_node() if loader.check_node() else None
        if node is None:
            return None
        check_graph(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _reject_constant(name: str) -> float:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def _json_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def _scrub(value: Any) -> Any:
    """Go replaces unpaired UTF-16 surrogates in JSON strings with U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def load_json(text: str) -> Any:
    """encoding/json into interface{}: numbers are float64; NaN/Infinity are not JSON."""
    value = json.loads(text, parse_float=_json_float, parse_int=_json_float, parse_constant=_reject_constant)
    return _scrub(value) if "\\u" in text and re.search(r"\\u[dD][89a-fA-F]", text) else value


@functools.lru_cache(maxsize=512)
def load_config(text: str) -> Decoded:
    """kube-bench's ``unmarshal``: JSON first, then YAML; the error names the whole input.

    Cached by text (the same config file is decoded for every path test of a run): treat the value as read-only.
    Nothing raises: malformed text is ``error``, text over a bound is ``refused``.
    """
    if len(text) > MAX_FILE_BYTES:
        return Decoded(refused=f"config over {MAX_FILE_BYTES} bytes")
    try:
        value = load_json(text)
    except RecursionError:
        return Decoded(refused=f"JSON nesting deeper than {MAX_DEPTH} levels")
    except ValueError:
        pass
    else:
        if value_depth_exceeds(value):
            return Decoded(refused=f"JSON nesting deeper than {MAX_DEPTH} levels")
        return Decoded(value)
    try:
        return Decoded(load_yaml(text))
    except YamlLimitError as exc:
        where = f"line {exc.line}: " if exc.line is not None else ""
        return Decoded(refused=f"YAML refused: {where}{exc.message}")
    except yaml.YAMLError as exc:
        return Decoded(error=f'failed to load YAML or JSON from input "{text}": {_yaml_error_text(exc)}')
    except Exception as exc:  # hostile text: any parser or constructor failure is "malformed"
        detail = " ".join(str(exc).splitlines()) or type(exc).__name__
        return Decoded(error=f'failed to load YAML or JSON from input "{text}": yaml: {detail}')
