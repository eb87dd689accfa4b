"""Read YAML the way go-yaml v2 reads kube-bench's files into Go structs.

PyYAML's ``safe_load`` would turn ``id: 5.10`` into ``5.1`` and ``value: 0600``
into ``384``. go-yaml v2 keeps the raw scalar text for string fields, so we
compose the document with the C loader (no implicit typing at all) and convert
nodes ourselves, keeping each node's line for error messages.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is ~10x faster; fall back where libyaml is missing
    _Loader: type[Any] = yaml.CBaseLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.BaseLoader

from kubecis.errors import LoadError
from kubecis.records import dataclass
from kubecis.yamllimits import MAX_DEPTH, YamlLimitError, check_graph, may_have_aliases

# go-yaml v2 resolves these plain scalars to null (a string field then stays "").
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# YAML 1.1 booleans as go-yaml v2 resolves them.
_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
_FALSE = frozenset({"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})


@dataclass(frozen=True, slots=True)
class Doc:
    """A composed YAML document plus the file name, for error messages."""

    path: str
    root: yaml.Node | None


def compose(text: str, path: str) -> Doc:
    """Parse ``text`` into a node tree; syntax errors and refused documents name ``path:line``.

    A document with aliases is checked by :func:`~kubecis.yamllimits.check_graph` before anything
    walks it: recursive aliases, nesting, alias expansion and merge-key fan-out are bounded. Without
    aliases the graph is a tree no bigger than the text; the converters below bound its depth.
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = e.problem or e.context or "invalid YAML"
        raise LoadError(path, f"malformed YAML: {_one_line(problem)}", line) from None
    except yaml.YAMLError as e:
        raise LoadError(path, f"malformed YAML: {_one_line(str(e))}") from None
    except Exception as e:  # "no single document", bad bytes; the C composer raises plain Python errors too
        raise LoadError(path, f"malformed YAML: {_one_line(str(e) or type(e).__name__)}") from None
    if may_have_aliases(text):
        try:
            check_graph(root)
        except YamlLimitError as e:
            raise LoadError(path, f"YAML refused: {e.message}", e.line) from None
    return Doc(path, root)


def _too_deep(node: yaml.Node) -> YamlLimitError:
    return YamlLimitError(f"nesting deeper than {MAX_DEPTH} levels", line_of(node))


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _plain(node: yaml.ScalarNode) -> bool:
    """A plain (unquoted) scalar: the C loader reports style '' where the Python one says None."""
    return not node.style


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (
        isinstance(node, yaml.ScalarNode) and _plain(node) and node.value in _NULLS
    ) or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null")


def kind_name(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a scalar"


def as_str(doc: Doc, node: yaml.Node | None, field: str) -> str:
    """A Go string field: raw scalar text; null → ""; a map or list is a type error."""
    if is_null(node):
        return ""
    assert node is not None
    if not isinstance(node, yaml.ScalarNode):
        raise LoadError(doc.path, f"{field}: expected a string, found {kind_name(node)}", line_of(node))
    return str(node.value)


def as_bool(doc: Doc, node: yaml.Node | None, field: str, default: bool) -> bool:
    """A Go bool field: YAML 1.1 booleans only; a quoted or other scalar is a type error."""
    if is_null(node):
        return default
    assert node is not None
    if isinstance(node, yaml.ScalarNode) and _plain(node):
        if node.value in _TRUE:
            return True
        if node.value in _FALSE:
            return False
    shown = node.value if isinstance(node, yaml.ScalarNode) else kind_name(node)
    raise LoadError(doc.path, f"{field}: expected true or false, found {shown!r}", line_of(node))


def mapping(doc: Doc, node: yaml.Node | None, field: str) -> dict[str, yaml.Node]:
    """A mapping's entries by key (case-sensitive, later duplicates win, as go-yaml v2 does)."""
    if is_null(node):
        return {}
    assert node is not None
    if not isinstance(node, yaml.MappingNode):
        raise LoadError(doc.path, f"{field}: expected a mapping, found {kind_name(node)}", line_of(node))
    out: dict[str, yaml.Node] = {}
    try:
        pairs = _merged_pairs(node)
    except YamlLimitError as e:
        raise LoadError(doc.path, f"YAML refused: {e.message}", e.line) from None
    for k, v in pairs:
        if isinstance(k, yaml.ScalarNode):
            out[str(k.value)] = v
    return out


def sequence(doc: Doc, node: yaml.Node | None, field: str) -> list[yaml.Node]:
    if is_null(node):
        return []
    assert node is not None
    if not isinstance(node, yaml.SequenceNode):
        raise LoadError(doc.path, f"{field}: expected a list, found {kind_name(node)}", line_of(node))
    return list(node.value)


def _merged_pairs(node: yaml.MappingNode, depth: int = 0) -> list[tuple[yaml.Node, yaml.Node]]:
    """Key/value pairs with ``<<`` merge keys expanded (explicit keys win over merged ones).

    ``depth`` counts merges within merges: a chain deeper than ``MAX_DEPTH`` is refused.
    """
    if depth >= MAX_DEPTH:
        raise _too_deep(node)
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == "<<" and _plain(k):
            sources = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for src in sources:
                if isinstance(src, yaml.MappingNode):
                    merged.extend(_merged_pairs(src, depth + 1))
        else:
            pairs.append((k, v))
    return merged + pairs


def to_plain(node: yaml.Node | None, depth: int = 0) -> Any:
    """A node as plain Python data with every scalar a string (null → None).

    Raises :class:`~kubecis.yamllimits.YamlLimitError` for nesting deeper than ``MAX_DEPTH``.
    """
    if is_null(node):
        return None
    assert node is not None
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if depth >= MAX_DEPTH:  # ``depth`` collections enclose this one
        raise _too_deep(node)
    if isinstance(node, yaml.MappingNode):
        return {str(to_plain(k, depth + 1)): to_plain(v, depth + 1) for k, v in _merged_pairs(node)}
    return [to_plain(v, depth + 1) for v in node.value]


def parse_bool(value: Any, default: bool = False) -> bool:
    """A YAML 1.1 boolean from plain data produced by :func:`to_plain` (viper-style, lenient)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    s = str(value)
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return default
