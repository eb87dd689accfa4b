"""Label and field selectors, as the API server applies them.

* :func:`selector_matches` - a ``metav1.LabelSelector`` object (``matchLabels`` + ``matchExpressions`` with
  ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``), as ``LabelSelectorAsSelector``: an empty selector matches
  everything, a null one nothing.
* :func:`parse_label_selector` - the query-string form (``a=b,c!=d,e in (x,y),f notin (z),g,!h``).
* :func:`parse_field_selector` - ``path=value``, ``path==value``, ``path!=value`` over dotted object fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kubecis.errors import DataError

__all__ = ["SelectorError", "parse_field_selector", "parse_label_selector", "selector_matches"]

Predicate = Callable[[Mapping[str, str]], bool]


class SelectorError(DataError, ValueError):
    pass


def _requirement(key: str, op: str, values: list[str]) -> Predicate:
    if op in ("In", "in"):
        vs = set(values)
        return lambda labels: key in labels and labels[key] in vs
    if op in ("NotIn", "notin"):
        vs = set(values)
        return lambda labels: key not in labels or labels[key] not in vs
    if op == "Exists":
        return lambda labels: key in labels
    if op == "DoesNotExist":
        return lambda labels: key not in labels
    raise SelectorError(f"{op!r} is not a valid label selector operator")


def selector_matches(selector: Any, labels: Mapping[str, str] | None) -> bool:
    """``metav1.LabelSelector`` semantics (None: matches nothing; ``{}``: everything). Invalid: matches nothing."""
    if selector is None:
        return False
    if not isinstance(selector, dict):
        return False
    labels = labels or {}
    preds: list[Predicate] = []
    try:
        for k, v in (selector.get("matchLabels") or {}).items():
            preds.append(_requirement(str(k), "In", [str(v)]))
        for e in selector.get("matchExpressions") or []:
            if not isinstance(e, dict):
                return False
            values = [str(x) for x in e.get("values") or []]
            op = str(e.get("operator", ""))
            if op in ("In", "NotIn") and not values:
                return False  # LabelSelectorAsSelector rejects it: no object is selected
            preds.append(_requirement(str(e.get("key", "")), op, values))
    except (SelectorError, AttributeError):
        return False
    return all(p(labels) for p in preds)


_TOKEN = re.compile(r"\s*(!=|==|=|!|,|\(|\)|[^\s!=,()]+)")


def parse_label_selector(text: str) -> Predicate:
    """A query-string label selector as a predicate over a label mapping (raises :class:`SelectorError`)."""
    tokens = [m.group(1) for m in _TOKEN.finditer(text)]
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise SelectorError(f"unable to parse requirement: {text!r}")
    preds: list[Predicate] = []
    i = 0

    def take() -> str:
        nonlocal i
        if i >= len(tokens):
            raise SelectorError(f"unexpected end of label selector {text!r}")
        i += 1
        return tokens[i - 1]

    while i < len(tokens):
        t = take()
        if t == "!":
            preds.append(_requirement(take(), "DoesNotExist", []))
        else:
            key = t
            nxt = tokens[i] if i < len(tokens) else ","
            if nxt == ",":
                preds.append(_requirement(key, "Exists", []))
            elif nxt in ("=", "==", "!="):
                i += 1
                value = tokens[i] if i < len(tokens) and tokens[i] != "," else ""
                if value:
                    i += 1
                preds.append(_requirement(key, "NotIn" if nxt == "!=" else "In", [value]))
            elif nxt in ("in", "notin"):
                i += 1
                if take() != "(":
                    raise SelectorError(f"expected '(' in label selector {text!r}")
                values: list[str] = []
                while True:
                    v = take()
                    if v == ")":
                        break
                    if v != ",":
                        values.append(v)
                preds.append(_requirement(key, nxt, values))
            else:
                raise SelectorError(f"unable to parse requirement: {text!r}")
        if i < len(tokens):
            if tokens[i] != ",":
                raise SelectorError(f"unable to parse requirement: {text!r}")
            i += 1
    return lambda labels: all(p(labels) for p in preds)


def _field(obj: Mapping[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str) -> Callable[[Mapping[str, Any]], bool]:
    """``a.b=v,c!=w`` as a predicate over an object (raises :class:`SelectorError`)."""
    preds: list[Callable[[Mapping[str, Any]], bool]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([^=!]+?)\s*(!=|==|=)\s*(.*)", part)
        if m is None:
            raise SelectorError(f"invalid field selector: {part!r}")
        preds.append(_field_pred(m.group(1), m.group(2) == "!=", m.group(3)))
    return lambda obj: all(p(obj) for p in preds)


def _field_pred(path: str, negate: bool, value: str) -> Callable[[Mapping[str, Any]], bool]:
    def pred(obj: Mapping[str, Any]) -> bool:
        return (_field(obj, path) == value) != negate

    return pred
