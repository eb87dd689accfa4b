"""kubectl's flags in the forms audits use (global ones before or after the subcommand, api-resources' own).
"""

from __future__ import annotations

from kubecis.audit.native.errors import Unsupported

__all__ = ["WITH_VALUE", "Opts", "parse_flags"]


class Opts:
    def __init__(self) -> None:
        self.namespace: str | None = None
        self.all_ns = False
        self.output = ""
        self.selector: str | None = None
        self.field_selector: str | None = None
        self.no_headers = False
        self.ignore_not_found = False
        self.raw: str | None = None
        self.as_user: str | None = None
        self.as_groups: list[str] = []
        self.subresource: str | None = None  # auth can-i --subresource
        self.args: list[str] = []
        self.after_dashes: list[str] | None = None
        # api-resources only
        self.verbs: list[str] | None = None
        self.categories: list[str] | None = None
        self.namespaced: bool | None = None
        self.api_group: str | None = None
        self.sort_by = ""


WITH_VALUE = {
    "-n": "namespace", "--namespace": "namespace",
    "-o": "output", "--output": "output",
    "-l": "selector", "--selector": "selector",
    "--field-selector": "field_selector",
    "--raw": "raw",
    "--as": "as_user",
}


_FLAGS = {
    "-A": "all_ns", "--all-namespaces": "all_ns",
    "--no-headers": "no_headers",
    "--ignore-not-found": "ignore_not_found",
}


# api-resources' own options: a string slice (pflag: CSV, repeated flags append), a string, a bool
_API_SLICES = {"--verbs": "verbs", "--categories": "categories"}


_API_STRINGS = {"--api-group": "api_group", "--sort-by": "sort_by"}


_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def _parse_api_option(prog: str, o: Opts, args: list[str], i: int) -> int | None:
    """One api-resources option at ``args[i]``: the index after it, or None when it is not one."""
    a = args[i]
    name, eq, val = a.partition("=")
    if name == "--namespaced":
        if eq and val not in _GO_BOOLS:
            raise Unsupported(f"{prog} api-resources --namespaced={val} (flag parse error)")
        o.namespaced = _GO_BOOLS[val] if eq else True
        return i + 1
    if name not in _API_SLICES and name not in _API_STRINGS:
        return None
    if not eq:
        if i + 1 >= len(args):
            raise Unsupported(f"{prog} {a} without a value")
        i += 1
        val = args[i]
    if name in _API_STRINGS:
        setattr(o, _API_STRINGS[name], val)
        return i + 1
    if any(c in val for c in '"\r\n'):
        raise Unsupported(f"{prog} api-resources {name} with quotes or line breaks (CSV)")
    attr = _API_SLICES[name]
    items = val.split(",") if val else []
    setattr(o, attr, (getattr(o, attr) or []) + items)
    return i + 1


def parse_flags(prog: str, args: list[str], api_resources: bool = False) -> Opts:
    o = Opts()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            o.after_dashes = args[i + 1 :]
            break
        if not a.startswith("-") or a == "-":
            o.args.append(a)
            i += 1
            continue
        if api_resources:
            nxt = _parse_api_option(prog, o, args, i)
            if nxt is not None:
                i = nxt
                continue
        name, eq, val = a.partition("=")
        if name in ("--as-group", "--subresource"):
            if not eq:
                i += 1
                if i >= len(args):
                    raise Unsupported(f"{prog} {a} without a value")
                val = args[i]
            if name == "--as-group":  # repeatable
                o.as_groups.append(val)
            else:
                o.subresource = val
            i += 1
            continue
        if name in _FLAGS and not eq:
            setattr(o, _FLAGS[name], True)
        elif name in _FLAGS and eq and val in ("true", "false"):
            setattr(o, _FLAGS[name], val == "true")
        elif name in WITH_VALUE:
            if not eq:
                i += 1
                if i >= len(args):
                    raise Unsupported(f"{prog} {a} without a value")
                val = args[i]
            setattr(o, WITH_VALUE[name], val)
        elif len(name) > 2 and name[:2] in ("-n", "-o", "-l") and not name.startswith("--"):
            setattr(o, WITH_VALUE[name[:2]], a[2:].removeprefix("="))
        else:
            raise Unsupported(f"{prog} option {name}")
        i += 1
    return o
