"""kubectl's printers: tables through text/tabwriter, ``-o jsonpath=``, ``-o custom-columns=``, Table cells.
"""

from __future__ import annotations

import re
from typing import Any

from kubecis.audit.native.errors import Unsupported
from kubecis.errors import ToolError
from kubecis.golang import jsonpath
from kubecis.golang.errors import JsonPathError, UnsupportedValueError
from kubecis.golang.fmt import sprint
from kubecis.golang.tabwriter import go_tabwriter

__all__ = ["SURROGATE", "JsonPathFailed", "cell", "custom_columns", "json_floats", "jsonpath_text", "tabwrite"]


def tabwrite(rows: list[list[str]], minwidth: int = 6, padding: int = 3) -> str:
    """Rows of cells through a fresh printers.GetNewTabWriter (minwidth 6, tabwidth 4, padding 3, ' ',
    RememberWidths): kubectl's table layout."""
    return go_tabwriter("".join("\t".join(r) + "\n" for r in rows), minwidth, padding, remember=True)


def json_floats(v: Any) -> Any:
    """Like json.Unmarshal into interface{}: every number a float64 (kubectl's jsonpath printer)."""
    if isinstance(v, dict):
        return {k: json_floats(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_floats(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


class JsonPathFailed(ToolError):
    """kubectl's jsonpath printer failed: nothing on stdout, a message (not reproduced) on stderr, exit 1."""


def jsonpath_text(template: str, obj: Any) -> str:
    try:
        nodes = jsonpath.parse(template).nodes
        full, err = jsonpath.Executor().find_results(json_floats(obj), nodes)
        if err is not None:
            raise JsonPathFailed(err)
        # kubectl's client-go prints a JSON null as "null" (kube-bench's older one: "<nil>")
        return "".join(" ".join("null" if v is None else jsonpath.print_value(v) for v in results) for results in full)
    except (JsonPathError, UnsupportedValueError) as exc:
        raise JsonPathFailed(str(exc)) from None


_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def custom_columns(spec: str, objs: list[dict[str, Any]], headers: bool) -> str:
    cols: list[tuple[str, Any]] = []
    for part in spec.split(","):
        name, sep, expr = part.partition(":")
        if not sep:
            raise Unsupported("kubectl custom-columns error output")
        m = _RELAXED.match(expr)
        if expr and not m:
            raise Unsupported("kubectl custom-columns error output")
        path = "{." + (m.group(1) or m.group(2)) + "}" if m else ""
        try:
            cols.append((name, jsonpath.parse(path).nodes if path else []))
        except JsonPathError:
            raise Unsupported("kubectl custom-columns error output") from None
    rows: list[list[str]] = [[n for n, _ in cols]] if headers else []
    for obj in objs:
        row: list[str] = []
        for _, nodes in cols:
            full, err = jsonpath.Executor().find_results(obj, nodes)
            if err is not None:
                raise Unsupported(f"kubectl custom-columns error output ({err})")
            vals: list[str] = []
            if not full or not full[0]:
                vals.append("<none>")
            for results in full:
                vals.extend(sprint(v) for v in results)
            row.append(",".join(vals))
        rows.append(row)
    return tabwrite(rows)


_CELL_BREAK = re.compile("[\f\n\r]")


def cell(prog: str, v: Any) -> str:
    """One Table cell as kubectl's printer writes it: nothing for null, a string cut at its first line break
    (then "..."), terminal escapes shown as ``^[``, anything else through fmt.Sprint."""
    if v is None:
        return ""
    if isinstance(v, str):
        sv = SURROGATE.sub("\ufffd", v)  # Go decodes a lone surrogate escape as U+FFFD
        m = _CELL_BREAK.search(sv)
        text = (sv[: m.start()] if m else sv).replace("\x1b", "^[")
        return text + "..." if m else text
    text = sprint(v)
    if isinstance(v, dict | list) and any(c in text for c in "\f\n\r\x1b"):
        raise Unsupported(f"{prog} get: a structured Table cell holding line breaks or escapes")
    return text


SURROGATE = re.compile("[\ud800-\udfff]")
