"""The Kubernetes client-go JSONPath *template* engine, as kube-bench runs it.

kube-bench evaluates ``path:`` test items with ``k8s.io/client-go/util/jsonpath``
(``AllowMissingKeys(true)``) over the decoded ``audit_config`` output. No Python
library reproduces that engine: it is a template language (text outside braces
is literal, ``{range}``/``{end}`` loops, quoted literals), it joins multiple
results with single spaces, prints scalars with Go's ``fmt`` rules and maps or
lists as compact, sorted, HTML-escaped JSON, and it has precise quirks (index
bounds are errors even with missing keys allowed; a range with no ``{end}``
re-runs its body's tail). kube-bench's JSONPath subset is therefore a
documented exception to "prefer a library": this module is a hand-written
port of client-go's parser and evaluator, structured like the original so the
two can be compared line by line.

Value model (mirrors Go's reflect values over ``interface{}``):

* the root is :class:`RootPointer` (kube-bench passes ``&data``), which prints with
  Go's ``%v`` (``map[a:1]``) rather than as JSON;
* ``None`` is a nil interface (a JSON/YAML null): skipped by field access,
  printed as ``<nil>``;
* :data:`~kubecis.golang.values.INVALID` is Go's zero ``reflect.Value`` (a null visited by ``range``),
  printed as ``<no value>``;
* floats came from JSON (or YAML floats) and print like Go ``float64``;
  :class:`~kubecis.golang.values.YamlMap` cannot be JSON-encoded.

Entry point: :func:`render`, which never raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from kubecis.golang.errors import JsonPathError, UnsupportedValueError
from kubecis.golang.fmt import sprint
from kubecis.golang.json import go_json_marshal
from kubecis.golang.values import INVALID, go_type_name
from kubecis.records import dataclass

__all__ = [
    "Executor",
    "JsonPathError",
    "ListNode",
    "Rendered",
    "RootPointer",
    "check_syntax",
    "parse",
    "print_value",
    "render",
]

# --------------------------------------------------------------------------- nodes


# Plain classes with slots (not dataclasses): they are created when the module is imported, on every run.


class ListNode:
    __slots__ = ("nodes",)

    def __init__(self, nodes: list[Node] | None = None) -> None:
        self.nodes: list[Node] = nodes if nodes is not None else []


class TextNode:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class FieldNode:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Param:
    __slots__ = ("derived", "known", "value")

    def __init__(self, value: int = 0, known: bool = False, derived: bool = False) -> None:
        self.value = value
        self.known = known
        self.derived = derived


class ArrayNode:
    __slots__ = ("params",)

    def __init__(self, params: tuple[Param, Param, Param]) -> None:
        self.params = params


class FilterNode:
    __slots__ = ("left", "operator", "right")

    def __init__(self, left: ListNode, right: ListNode, operator: str) -> None:
        self.left = left
        self.right = right
        self.operator = operator


class IntNode:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


class FloatNode:
    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value


class BoolNode:
    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


class WildcardNode:
    __slots__ = ()


class RecursiveNode:
    __slots__ = ()


class UnionNode:
    __slots__ = ("nodes",)

    def __init__(self, nodes: list[ListNode]) -> None:
        self.nodes = nodes


class IdentifierNode:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


Node = (
    ListNode
    | TextNode
    | FieldNode
    | ArrayNode
    | FilterNode
    | IntNode
    | FloatNode
    | BoolNode
    | WildcardNode
    | RecursiveNode
    | UnionNode
    | IdentifierNode
)


# --------------------------------------------------------------------------- parser

_DICT_KEY = re.compile(r"'([^']*)'")
_SLICE = re.compile(r"(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?")
_FILTER = re.compile(r"([^!<>=]+)([!<>=]+)(.+?)")
_ATOI = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1
_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")


def _is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def _is_alnum(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch).startswith("L") or _is_digit(ch)


def _atoi(s: str) -> int | None:
    if not _ATOI.fullmatch(s):
        return None
    value = int(s)
    return value if _INT_MIN <= value <= _INT_MAX else None


def _go_rune(ch: str) -> str:
    """Go's ``%#U``."""
    code = f"U+{ord(ch):04X}"
    return f"{code} '{ch}'" if ch.isprintable() else code


_SIMPLE_UNESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


def unquote_extend(s: str) -> str:
    """client-go's UnquoteExtend: strconv.Unquote that also accepts single quotes."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"'":
        raise JsonPathError("invalid syntax")
    quote, body = s[0], s[1:-1]
    if "\\" not in body and quote not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == quote:
            raise JsonPathError("invalid syntax")
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= len(body):
            raise JsonPathError("invalid syntax")
        e = body[i + 1]
        i += 2
        if e in _SIMPLE_UNESCAPES:
            out.append(_SIMPLE_UNESCAPES[e])
        elif e in "'\"":
            if e != quote:
                raise JsonPathError("invalid syntax")
            out.append(ord(e))
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i : i + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise JsonPathError("invalid syntax")
            i += width
            value = int(digits, 16)
            if e == "x":
                out.append(value)
            elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise JsonPathError("invalid syntax")
            else:
                out += chr(value).encode("utf-8")
        elif e in "01234567":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or not all(d in "01234567" for d in digits) or int(digits, 8) > 255:
                raise JsonPathError("invalid syntax")
            i += 2
            out.append(int(digits, 8))
        else:
            raise JsonPathError("invalid syntax")
    return out.decode("utf-8", "replace")


class _Parser:
    """Port of client-go's jsonpath.Parser (recursion replaced by loops where it was tail calls)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> ListNode:
        root = ListNode()
        text = self.text
        while True:
            brace = text.find("{", self.pos)
            if brace < 0:
                if self.pos < len(text):
                    root.nodes.append(TextNode(text[self.pos :]))
                return root
            if brace > self.pos:
                root.nodes.append(TextNode(text[self.pos : brace]))
            self.pos = brace + 1
            action = ListNode()
            root.nodes.append(action)
            self._inside_action(action.nodes)

    def _inside_action(self, cur: list[Node]) -> None:
        text = self.text
        while True:
            if text.startswith("}", self.pos):
                self.pos += 1
                return
            if text.startswith("[?(", self.pos):
                self._filter(cur)
                continue
            if text.startswith("..", self.pos):
                self._recursive(cur)
                continue
            if self.pos >= len(text) or text[self.pos] in "\r\n":
                raise JsonPathError("unclosed action")
            r = text[self.pos]
            self.pos += 1
            if r in " @$":
                continue
            if r == "[":
                self._array(cur)
            elif r in "\"'":
                self._quote(cur, r)
            elif r == ".":
                self._field(cur)
            elif r in "+-" or _is_digit(r):
                self.pos -= 1
                self._number(cur)
            elif _is_alnum(r):
                self.pos -= 1
                self._identifier(cur)
            else:
                raise JsonPathError(f"unrecognized character in action: {_go_rune(r)}")

    def _scan_word(self) -> str:
        """Advance to the next unescaped terminator; return the text scanned."""
        start = self.pos
        text = self.text
        while self.pos < len(text):
            r = text[self.pos]
            self.pos += 1
            if r == "\\":
                if self.pos < len(text):
                    self.pos += 1
            elif r in _TERMINATORS:
                self.pos -= 1
                break
        return text[start : self.pos]

    def _field(self, cur: list[Node]) -> None:
        value = self._scan_word()
        cur.append(WildcardNode() if value == "*" else FieldNode(value.replace("\\", "")))

    def _identifier(self, cur: list[Node]) -> None:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _TERMINATORS:
            self.pos += 1
        value = self.text[start : self.pos]
        cur.append(BoolNode(value == "true") if value in ("true", "false") else IdentifierNode(value))

    def _recursive(self, cur: list[Node]) -> None:
        if cur and isinstance(cur[-1], RecursiveNode):
            raise JsonPathError("invalid multiple recursive descent")
        self.pos += 2
        cur.append(RecursiveNode())
        if self.pos < len(self.text) and _is_alnum(self.text[self.pos]):
            self._field(cur)

    def _number(self, cur: list[Node]) -> None:
        start = self.pos
        text = self.text
        if text[self.pos] in "+-":
            self.pos += 1
        while self.pos < len(text) and (text[self.pos] == "." or _is_digit(text[self.pos])):
            self.pos += 1
        value = text[start : self.pos]
        as_int = _atoi(value)
        if as_int is not None:
            cur.append(IntNode(as_int))
            return
        if _FLOAT.fullmatch(value):
            as_float = float(value)
            if as_float not in (float("inf"), float("-inf")):
                cur.append(FloatNode(as_float))
                return
        raise JsonPathError(f"cannot parse number {value}")

    def _array(self, cur: list[Node]) -> None:
        start = self.pos
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise JsonPathError("unterminated array")
            self.pos += 1
            if text[self.pos - 1] == "]":
                break
        inner = text[start : self.pos - 1]
        if inner == "*":
            inner = ":"
        parts = inner.split(",")
        if len(parts) > 1:
            cur.append(UnionNode([_parse_action(f"[{part.strip(' ')}]") for part in parts]))
            return
        key = _DICT_KEY.fullmatch(inner)
        if key:
            cur.extend(_parse_action(f".{key.group(1)}").nodes)
            return
        m = _SLICE.fullmatch(inner)
        if not m:
            raise JsonPathError(f"invalid array index {inner}")
        cur.append(ArrayNode(_slice_params([m.group(1) or "", m.group(2) or "", m.group(3) or ""])))

    def _filter(self, cur: list[Node]) -> None:
        self.pos += 3
        start = self.pos
        text = self.text
        begin = end = False
        pair = ""
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise JsonPathError("unterminated filter")
            r = text[self.pos]
            self.pos += 1
            if r in "\"'":
                if not begin:
                    begin, pair = True, r
                    continue
                if text[self.pos - 2] != "\\" and r == pair:
                    end = True
            elif r == ")" and begin == end:
                break
        if self.pos >= len(text) or text[self.pos] != "]":
            raise JsonPathError("unclosed array expect ]")
        self.pos += 1
        body = text[start : self.pos - 2]
        m = _FILTER.fullmatch(body)
        if m is None:
            cur.append(FilterNode(_parse_action(body), ListNode(), "exists"))
        else:
            cur.append(FilterNode(_parse_action(m.group(1)), _parse_action(m.group(3)), m.group(2)))

    def _quote(self, cur: list[Node], quote: str) -> None:
        start = self.pos - 1
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise JsonPathError("unterminated quoted string")
            self.pos += 1
            if text[self.pos - 1] == quote and text[self.pos - 2] != "\\":
                break
        value = text[start : self.pos]
        try:
            cur.append(TextNode(unquote_extend(value)))
        except JsonPathError as exc:
            raise JsonPathError(f"unquote string {value} error {exc}") from None


def _slice_params(groups: list[str]) -> tuple[Param, Param, Param]:
    params = [Param(), Param(), Param()]
    for i, raw in enumerate(groups):
        if raw:
            text = raw[1:] if i > 0 else raw
            if i > 0 and not text:
                continue
            number = _atoi(text)
            if number is None:
                raise JsonPathError(f"array index {text} is not a number")
            params[i] = Param(number, known=True)
        elif i == 1:
            params[1] = Param(params[0].value + 1, known=True, derived=True)
    return params[0], params[1], params[2]


def _parse_action(text: str) -> ListNode:
    """client-go's parseAction: parse ``{text}`` and return its single action list."""
    root = _Parser("{" + text + "}").parse()
    first = root.nodes[0]
    assert isinstance(first, ListNode)
    return first


def parse(path: str) -> ListNode:
    """Parse a template; raises :class:`JsonPathError` with client-go's message."""
    try:
        return _Parser(path).parse()
    except RecursionError:
        raise JsonPathError("template nested too deeply") from None


# --------------------------------------------------------------------------- values


class RootPointer:
    """The root ``&data`` pointer kube-bench hands to Execute (prints with ``%v``, not as JSON)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


Result = tuple[list[Any], str | None]


def _indirect(value: Any) -> tuple[Any, bool]:
    """template.Indirect: follow the root pointer; report nil interfaces."""
    if isinstance(value, RootPointer):
        value = value.value
    return value, value is None


def _iface(value: Any) -> Any:
    """``reflect.ValueOf(v.Interface())``: a nil interface becomes the invalid Value."""
    return INVALID if value is None else value


def _children(value: Any) -> list[Any]:
    """What ``[*]``/``..`` visit: map values, list items, or a string's bytes (as uint8)."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return list(value.encode("utf-8", "surrogateescape"))
    return []


# --------------------------------------------------------------------------- comparisons (filters)

_BAD_TYPE = "invalid type for comparison"
_BAD_CMP = "incompatible types for comparison"


def _basic_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return None


def _compare(op: str, left: Any, right: Any) -> tuple[bool, str | None]:
    """text/template's eq/ne/lt/le/gt/ge as forked into client-go."""
    k1 = _basic_kind(left)
    if k1 is None:
        return False, _BAD_TYPE
    k2 = _basic_kind(right)
    if k2 is None:
        return False, _BAD_TYPE
    if k1 != k2:
        return False, _BAD_CMP
    if op in ("==", "!="):
        return (left == right) == (op == "=="), None
    if k1 == "bool":
        return False, _BAD_TYPE
    less = left < right
    if op == "<":
        return less, None
    if op == ">=":
        return not less, None
    less_equal = less or left == right
    return (less_equal, None) if op == "<=" else (not less_equal, None)


# --------------------------------------------------------------------------- evaluator


class Executor:
    """client-go's JSONPath.FindResults and walkers, with its range bookkeeping."""

    def __init__(self) -> None:
        self.begin_range = 0
        self.in_range = 0
        self.end_range = 0
        self.last_end: Node | None = None

    def find_results(self, data: Any, nodes: list[Node]) -> tuple[list[list[Any]], str | None]:
        cur = [data]
        full: list[list[Any]] = []
        i = 0
        while i < len(nodes):
            node = nodes[i]
            results, err = self.walk(cur, node)
            if err is not None:
                return [], err
            if 0 < self.end_range <= self.in_range:
                self.end_range -= 1
                self.last_end = node
                break
            if self.begin_range > 0:
                self.begin_range -= 1
                self.in_range += 1
                rest = nodes[i + 1 :]
                for value in results or [None]:
                    nested, err = self.find_results(_iface(value), rest)
                    if err is not None:
                        return [], err
                    if results:
                        full.extend(nested)
                self.in_range -= 1
                for k in range(i + 1, len(nodes)):
                    if nodes[k] is self.last_end:
                        i = k
                        break
                i += 1
                continue
            full.append(results)
            i += 1
        return full, None

    def walk(self, values: list[Any], node: Node) -> Result:
        if isinstance(node, ListNode):
            return self.eval_list(values, node)
        if isinstance(node, TextNode):
            return [node.text], None
        if isinstance(node, FieldNode):
            return _eval_field(values, node), None
        if isinstance(node, ArrayNode):
            return _eval_array(values, node)
        if isinstance(node, FilterNode):
            return self.eval_filter(values, node)
        if isinstance(node, IntNode | FloatNode | BoolNode):
            return [node.value] * len(values), None
        if isinstance(node, WildcardNode):
            return _eval_wildcard(values), None
        if isinstance(node, RecursiveNode):
            return _eval_recursive(values), None
        if isinstance(node, UnionNode):
            return self.eval_union(values, node)
        return self.eval_identifier(values, node)

    def eval_list(self, values: list[Any], node: ListNode) -> Result:
        cur = values
        for child in node.nodes:
            cur, err = self.walk(cur, child)
            if err is not None:
                return cur, err
        return cur, None

    def eval_identifier(self, values: list[Any], node: IdentifierNode) -> Result:
        if node.name == "range":
            self.begin_range += 1
            return values, None
        if node.name == "end":
            if self.in_range > 0:
                self.end_range += 1
                return [], None
            return [], "not in range, nothing to end"
        return values, f"unrecognized identifier {node.name}"

    def eval_union(self, values: list[Any], node: UnionNode) -> Result:
        result: list[Any] = []
        for branch in node.nodes:
            part, err = self.eval_list(values, branch)
            if err is not None:
                return values, err
            result.extend(part)
        return result, None

    def eval_filter(self, values: list[Any], node: FilterNode) -> Result:
        results: list[Any] = []
        for raw in values:
            value, _ = _indirect(raw)
            if not isinstance(value, list):
                return values, f"{sprint(value)} is not array or slice and cannot be filtered"
            for item in value:
                lefts, err = self.eval_list([item], node.left)
                if node.operator == "exists":
                    if lefts:
                        results.append(item)
                    continue
                if err is not None:
                    return values, err
                if not lefts:
                    continue
                if len(lefts) > 1:
                    return values, "can only compare one element at a time"
                rights, err = self.eval_list([item], node.right)
                if err is not None:
                    return values, err
                if not rights:
                    continue
                if len(rights) > 1:
                    return values, "can only compare one element at a time"
                if node.operator not in ("<", ">", "==", "!=", "<=", ">="):
                    return results, f"unrecognized filter operator {node.operator}"
                passed, err = _compare(node.operator, _iface(lefts[0]), _iface(rights[0]))
                if err is not None:
                    return results, err
                if passed:
                    results.append(item)
        return results, None


def _eval_field(values: list[Any], node: FieldNode) -> list[Any]:
    results: list[Any] = []
    for raw in values:
        value, is_nil = _indirect(raw)
        if not is_nil and isinstance(value, dict) and node.name in value:
            results.append(value[node.name])
    return results


def _eval_array(values: list[Any], node: ArrayNode) -> Result:
    result: list[Any] = []
    for raw in values:
        value, is_nil = _indirect(raw)
        if is_nil:
            continue
        if value is INVALID:
            return values, "reflect: call of reflect.Value.Type on zero Value"
        if not isinstance(value, list):
            return values, f"{go_type_name(value)} is not array or slice"
        p0, p1, p2 = node.params
        length = len(value)
        start = p0.value if p0.known else 0
        if start < 0:
            start += length
        stop = p1.value if p1.known else length
        if stop < 0 or (stop == 0 and p1.derived):
            stop += length
        if stop == start:
            return result, None
        if start >= length or start < 0:
            return values, f"array index out of bounds: index {start}, length {length}"
        if stop > length or stop < 0:
            return values, f"array index out of bounds: index {stop - 1}, length {length}"
        if start > stop:
            return values, f"starting index {start} is greater than ending index {stop}"
        step = 1
        if p2.known:
            if p2.value <= 0:
                return values, "step must be > 0"
            step = p2.value
        result.extend(value[start:stop:step])
    return result, None


def _eval_wildcard(values: list[Any]) -> list[Any]:
    results: list[Any] = []
    for raw in values:
        value, is_nil = _indirect(raw)
        if not is_nil:
            results.extend(_children(value))
    return results


def _eval_recursive(values: list[Any]) -> list[Any]:
    """``..``: every container (and non-empty string) in pre-order, like client-go's recursion."""
    result: list[Any] = []
    stack: list[Iterator[Any]] = [iter(values)]
    while stack:
        raw = next(stack[-1], _EXHAUSTED)
        if raw is _EXHAUSTED:
            stack.pop()
            continue
        value, is_nil = _indirect(raw)
        if is_nil:
            continue
        children = _children(value)
        if children:
            result.append(value)
            stack.append(iter(children))
    return result


_EXHAUSTED = object()


# --------------------------------------------------------------------------- printing


def print_value(value: Any) -> str:
    """PrintResults for one value: containers as JSON, everything else through fmt.Fprint."""
    if isinstance(value, dict | list):
        return go_json_marshal(value)
    if isinstance(value, RootPointer):
        return sprint(value.value)
    if value is INVALID:
        return "<no value>"
    return sprint(value)


@dataclass(frozen=True, slots=True)
class Rendered:
    """Outcome of :func:`render`: ``text`` when ``error`` is empty."""

    text: str = ""
    error: str = ""


def render(path: str, data: Any) -> Rendered:
    """Execute ``path`` as kube-bench does (missing keys allowed) over decoded config ``data``.

    Never raises: parse and execution failures come back as ``Rendered.error``
    holding client-go's message.
    """
    try:
        template = parse(path)
        full, err = Executor().find_results(RootPointer(data), template.nodes)
        if err is not None:
            return Rendered(error=err)
        return Rendered("".join(" ".join(print_value(v) for v in results) for results in full))
    except (JsonPathError, UnsupportedValueError) as exc:
        return Rendered(error=str(exc))
    except RecursionError:
        return Rendered(error="template or document nested too deeply")


def check_syntax(path: str) -> str:
    """client-go's parse error for ``path``, or "" when it parses."""
    try:
        parse(path)
    except JsonPathError as exc:
        return str(exc)
    return ""
