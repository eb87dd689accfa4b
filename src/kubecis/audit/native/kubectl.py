"""Native ``kubectl`` and ``oc`` over a :class:`~kubecis.host.cluster.Cluster`, in the forms audits use.

Implemented: ``get`` (resource lists and names, several types in one argument, ``TYPE/NAME``,
``-n``, ``-A``, ``-l``, ``--field-selector``, ``--ignore-not-found``, ``--raw``, output ``json``,
``name``, ``jsonpath=``, ``custom-columns=``, the default table from the server's Table
rendering with kubectl's one-table-per-kind layout, ``--no-headers``), ``api-resources``
(``--verbs``, ``--namespaced``, ``--api-group``, ``--categories``, ``--sort-by``, ``-o name|wide``,
``--no-headers``), ``describe secret [NAME]`` / ``describe secret/NAME`` (describe.go's
describeSecret; the data keys, which kubectl prints in Go's random map order, sorted), ``oc describe
scc [NAME]`` (openshift/oc's describeSecurityContextConstraints; no real oc was available to compare
with: derived from its source and checked against a published oc 4.x transcript), ``auth can-i`` (``VERB
TYPE[/NAME]``, ``VERB /URL``, ``--subresource``, ``--as``, ``--as-group``)
and ``oc debug node/NAME -- chroot /host CMD...`` (CMD runs natively over the host, which is the
node being checked). Output is byte-identical to kubectl 1.32's (sorted-key
JSON with 4-space indent, client-go JSONPath, text/tabwriter columns with kubectl's
RememberWidths); anything else, including ``describe`` of any other kind, raises ``Unsupported``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from typing import Any

from kubecis.audit.native.interp import Ctx, dec, enc
from kubecis.audit.native.parser import Irreproducible, Unsupported
from kubecis.errors import HostError
from kubecis.golang import jsonpath
from kubecis.golang.errors import JsonPathError, NotReproduced, UnsupportedValueError
from kubecis.golang.fmt import go_quote, sprint
from kubecis.golang.json import go_json_indent
from kubecis.golang.tabwriter import go_tabwriter
from kubecis.golang.yamlemit import go_yaml
from kubecis.host.cluster import (
    MARKER,
    APIResource,
    Cluster,
    ClusterUnreachable,
    Discovery,
    NoCluster,
    NotNative,
    current_cluster,
)

__all__ = ["u_kubectl", "u_oc"]

CHUNK = "500"


class _Fail(Exception):
    """kubectl exits 1 after printing ``msg`` (already formatted, newline-terminated) on stderr."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class _ListFail(_Fail):
    """A list request failed; ``not_found``: with a NotFound (which ``--ignore-not-found`` drops)."""

    def __init__(self, msg: str, not_found: bool) -> None:
        super().__init__(msg)
        self.not_found = not_found


# --------------------------------------------------------------------------- printers


def tabwrite(rows: list[list[str]], minwidth: int = 6, padding: int = 3) -> str:
    """Rows of cells through a fresh printers.GetNewTabWriter (minwidth 6, tabwidth 4, padding 3, ' ',
    RememberWidths): kubectl's table layout."""
    return go_tabwriter("".join("\t".join(r) + "\n" for r in rows), minwidth, padding, remember=True)


def _floats(v: Any) -> Any:
    """Like json.Unmarshal into interface{}: every number a float64 (kubectl's jsonpath printer)."""
    if isinstance(v, dict):
        return {k: _floats(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_floats(x) for x in v]
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


class _JsonPathFailed(Exception):
    """kubectl's jsonpath printer failed: nothing on stdout, a message (not reproduced) on stderr, exit 1."""


def _jsonpath(template: str, obj: Any) -> str:
    try:
        nodes = jsonpath.parse(template).nodes
        full, err = jsonpath.Executor().find_results(_floats(obj), nodes)
        if err is not None:
            raise _JsonPathFailed(err)
        # kubectl's client-go prints a JSON null as "null" (kube-bench's older one: "<nil>")
        return "".join(" ".join("null" if v is None else jsonpath.print_value(v) for v in results) for results in full)
    except (JsonPathError, UnsupportedValueError) as exc:
        raise _JsonPathFailed(str(exc)) from None


_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def _custom_columns(spec: str, objs: list[dict[str, Any]], headers: bool) -> str:
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


# --------------------------------------------------------------------------- errors


def _status_error(status: int, body: bytes) -> str:
    """kubectl's ``Error from server (Reason): message`` for a failed request."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status" and doc.get("message"):
        reason = str(doc.get("reason") or "")
        head = f"Error from server ({reason}): " if reason else "Error from server: "
        return head + str(doc["message"])
    raise HostError(f"cluster: HTTP {status} without a Status body")


# --------------------------------------------------------------------------- options


class _Opts:
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


_WITH_VALUE = {
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


def _parse_api_option(prog: str, o: _Opts, args: list[str], i: int) -> int | None:
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


def _parse(prog: str, args: list[str], api_resources: bool = False) -> _Opts:
    o = _Opts()
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
        elif name in _WITH_VALUE:
            if not eq:
                i += 1
                if i >= len(args):
                    raise Unsupported(f"{prog} {a} without a value")
                val = args[i]
            setattr(o, _WITH_VALUE[name], val)
        elif len(name) > 2 and name[:2] in ("-n", "-o", "-l") and not name.startswith("--"):
            setattr(o, _WITH_VALUE[name[:2]], a[2:].removeprefix("="))
        else:
            raise Unsupported(f"{prog} option {name}")
        i += 1
    return o


# --------------------------------------------------------------------------- get


def _list(cluster: Cluster, r: APIResource, ns: str | None, o: _Opts) -> list[dict[str, Any]]:
    """Every item of a list request, following ``continue`` like kubectl's chunked lists."""
    items: list[dict[str, Any]] = []
    q: dict[str, str] = {"limit": CHUNK}
    if o.selector is not None:
        q["labelSelector"] = o.selector
    if o.field_selector is not None:
        q["fieldSelector"] = o.field_selector
    while True:
        path = r.collection(ns)
        status, body = cluster.get(path, q)
        if status != 200:
            msg, not_found = _list_error(status, body, r, o)
            raise _ListFail(msg + "\n", not_found)
        try:
            doc = json.loads(body)
        except ValueError:
            raise HostError(f"cluster: {path}: invalid JSON") from None
        if not isinstance(doc, dict):
            raise HostError(f"cluster: {path}: not an object")
        kind = str(doc.get("kind", "")).removesuffix("List") or r.kind
        api = str(doc.get("apiVersion") or r.group_version)
        for it in doc.get("items") or []:
            if isinstance(it, dict):
                it = dict(it)
                it.setdefault("apiVersion", api)
                it.setdefault("kind", kind)
                items.append(it)
        cont = (doc.get("metadata") or {}).get("continue")
        if not cont:
            break
        q["continue"] = str(cont)
    return items


def _omit_managed_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """kubectl -o json/yaml drops metadata.managedFields (unless --show-managed-fields)."""

    def strip(obj: Any) -> Any:
        if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) and "managedFields" in obj["metadata"]:
            obj = dict(obj, metadata={k: v for k, v in obj["metadata"].items() if k != "managedFields"})
        return obj

    doc = strip(doc)
    if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        doc = dict(doc, items=[strip(it) for it in doc["items"]])
    return doc


def _kind_name(r: APIResource, obj: dict[str, Any]) -> str:
    kind = str(obj.get("kind") or r.kind).lower()
    name = str((obj.get("metadata") or {}).get("name", ""))
    return f"{kind}.{r.group}/{name}" if r.group else f"{kind}/{name}"


def _namespace(cluster: Cluster, o: _Opts) -> str:
    return o.namespace if o.namespace is not None else cluster.namespace


def _get_one(cluster: Cluster, r: APIResource, ns: str | None, name: str, check_ns: bool = True) -> tuple[int, bytes]:
    """GET one object; on 404 kubectl checks the namespace and reports it instead when it does not exist."""
    path = r.collection(ns if r.namespaced else None) + "/" + urllib.parse.quote(name, safe="")
    status, body = cluster.get(path)
    if status == 404 and check_ns and r.namespaced and ns is not None:
        ns_status, ns_body = cluster.get("/api/v1/namespaces/" + urllib.parse.quote(ns, safe=""))
        if ns_status == 404:
            status, body = ns_status, ns_body
    return status, body


_NO_TYPE = (
    'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported '
    'resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed '
    "description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples\n"
)


def _get(ctx: Ctx, prog: str, cluster: Cluster, o: _Opts) -> int:
    if o.raw is not None:
        if o.args or o.output:
            raise Unsupported(f"{prog} get --raw with other arguments")
        status, body = cluster.get(o.raw)
        if status != 200:
            raise _Fail(_status_error(status, body) + "\n")
        ctx.write(body)
        return 0
    if not o.args:
        if prog != "kubectl" and not ctx.err.null:
            raise Unsupported(f"{prog} get without a resource type (its usage error text)")
        raise _Fail(_NO_TYPE)
    output = o.output
    if output not in ("", "wide", "json", "yaml", "name") and not output.startswith(("jsonpath=", "custom-columns=")):
        raise Unsupported(f"{prog} get -o {output}")
    if o.as_user is not None or o.as_groups:
        raise Unsupported(f"{prog} get --as (impersonation)")
    disc = Discovery(cluster)
    # what to fetch: (resource, names or None for a list)
    first = o.args[0]
    requests: list[tuple[APIResource, list[str] | None]] = []
    single = False
    if "/" in first:
        for a in o.args:
            typ, sep, name = a.partition("/")
            if not sep or not name:
                raise Unsupported(f"{prog} get mixed TYPE/NAME arguments")
            r = disc.resolve(typ)
            if r is None:
                raise _Fail(f'error: the server doesn\'t have a resource type "{typ}"\n')
            requests.append((r, [name]))
        single = len(o.args) == 1
    else:
        # cli-runtime's builder: categories expanded, then each kind (group, version, kind) listed once, where it
        # first appears
        types = first.split(",")
        given = o.args[1:]
        rs: list[APIResource] = []
        for typ in types:
            found = disc.category("all") if typ == "all" else [disc.resolve(typ)]
            for r in found:
                if r is None:
                    raise _Fail(f'error: the server doesn\'t have a resource type "{typ}"\n')
                if all((x.group, x.version, x.kind) != (r.group, r.version, r.kind) for x in rs):
                    rs.append(r)
        if given and len(rs) > 1:
            raise Unsupported(f"{prog} get names with several resource types")
        requests = [(r, list(given) if given else None) for r in rs]
        single = len(rs) == 1 and len(given) == 1 and "," not in first and first != "all"
    ns = None if o.all_ns else _namespace(cluster, o)
    objs: list[tuple[APIResource, dict[str, Any]]] = []
    errors: list[str] = []
    for r, names in requests:
        if names is None:
            if output in ("", "wide"):
                continue
            try:
                items = _list(cluster, r, ns if r.namespaced else None, o)
            except _ListFail as f:
                if not (f.not_found and o.ignore_not_found):
                    errors.append(f.msg.removesuffix("\n"))
                continue
            objs.extend((r, it) for it in items)
            continue
        for name in names:
            if o.all_ns and r.namespaced:
                raise Unsupported(f"{prog} get NAME with --all-namespaces")
            if not name:
                if single:
                    raise _Fail("error: resource name may not be empty\n")
                raise Unsupported(f"{prog} get with several empty names")
            status, body = _get_one(cluster, r, ns, name, not o.ignore_not_found)
            if status == 404 and o.ignore_not_found:
                continue
            if status != 200:
                err = _status_error(status, body)
                if single:
                    raise _Fail(err + "\n")
                errors.append(err)
                continue
            objs.append((r, json.loads(body)))
    if output == "" or output == "wide":
        return _table(ctx, prog, cluster, o, requests, ns, errors)
    if not objs and o.ignore_not_found:
        pass
    elif output == "name":
        for r, obj in objs:
            ctx.write(_kind_name(r, obj) + "\n")
    else:
        if single and len(objs) == 1:
            doc: Any = objs[0][1]
        else:
            doc = {"apiVersion": "v1", "items": [obj for _, obj in objs], "kind": "List",
                   "metadata": {"resourceVersion": ""}}
        if output == "json":
            ctx.write(go_json_indent(_omit_managed_fields(doc)) + "\n")
        elif output == "yaml":
            if not isinstance(doc, dict) or not doc:
                raise Unsupported("kubectl -o yaml of a non-object")
            try:
                ctx.write(go_yaml(_omit_managed_fields(doc)))
            except NotReproduced as exc:
                raise Unsupported(f"kubectl -o yaml: {exc}") from None
        elif output.startswith("jsonpath="):
            try:
                ctx.write(_jsonpath(output[len("jsonpath="):], doc))
            except _JsonPathFailed as exc:
                if not ctx.err.null:
                    raise Unsupported(f"{prog} jsonpath error output ({exc})") from None
                return 1
        else:
            items = doc["items"] if doc.get("kind") == "List" and "items" in doc and not single else [doc]
            ctx.write(_custom_columns(output[len("custom-columns="):], items, not o.no_headers))
    for e in errors:
        ctx.err.write(enc(e + "\n"))
    return 1 if errors else 0


_CELL_BREAK = re.compile("[\f\n\r]")


def _cell(prog: str, v: Any) -> str:
    """One Table cell as kubectl's printer writes it: nothing for null, a string cut at its first line break
    (then "..."), terminal escapes shown as ``^[``, anything else through fmt.Sprint."""
    if v is None:
        return ""
    if isinstance(v, str):
        sv = _SURROGATE.sub("\ufffd", v)  # Go decodes a lone surrogate escape as U+FFFD
        m = _CELL_BREAK.search(sv)
        text = (sv[: m.start()] if m else sv).replace("\x1b", "^[")
        return text + "..." if m else text
    text = sprint(v)
    if isinstance(v, dict | list) and any(c in text for c in "\f\n\r\x1b"):
        raise Unsupported(f"{prog} get: a structured Table cell holding line breaks or escapes")
    return text


def _list_error(status: int, body: bytes, r: APIResource, o: _Opts) -> tuple[str, bool]:
    """kubectl's message for a failed list request, and whether it is a NotFound.

    cli-runtime's EnhanceListError names the resource in NotFound and BadRequest messages.
    """
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    reason = str(doc.get("reason") or "") if isinstance(doc, dict) and doc.get("kind") == "Status" else ""
    not_found = reason == "NotFound" or (not reason and status == 404)
    bad_request = reason == "BadRequest" or (not reason and status == 400)
    if (not_found or bad_request) and isinstance(doc, dict) and doc.get("kind") == "Status" and doc.get("message"):
        subj = f"{r.group}/{r.version}, Resource={r.name}"
        msg = str(doc["message"])
        if o.selector is None and o.field_selector is None:
            msg = f"Unable to list {go_quote(subj)}: {msg}"
        else:
            msg = (f"Unable to find {go_quote(subj)} that match label selector {go_quote(o.selector or '')}, "
                   f"field selector {go_quote(o.field_selector or '')}: {msg}")
        return _status_error(status, json.dumps(dict(doc, message=msg)).encode()), not_found
    return _status_error(status, body), not_found


def _table(
    ctx: Ctx, prog: str, cluster: Cluster, o: _Opts,
    requests: list[tuple[APIResource, list[str] | None]], ns: str | None, errors: list[str],
) -> int:
    """The human-readable printer over server-side Tables: one table per resource type, blank line between."""
    if any(names is not None for _, names in requests):
        raise Unsupported(f"{prog} get table output for names")
    q: dict[str, str] = {"limit": CHUNK}
    if o.selector is not None:
        q["labelSelector"] = o.selector
    if o.field_selector is not None:
        q["fieldSelector"] = o.field_selector
    tables: list[tuple[APIResource, dict[str, Any]]] = []
    for r, _ in requests:
        status, body = cluster.get(r.collection(ns if r.namespaced else None), q, table=True)
        if status != 200:
            err, not_found = _list_error(status, body, r, o)
            if not (not_found and o.ignore_not_found):
                errors.append(err)
            continue
        doc = json.loads(body)
        if not isinstance(doc, dict) or doc.get("kind") != "Table" or (doc.get("metadata") or {}).get("continue"):
            raise Unsupported(f"{prog} get table output without a server-side Table")
        tables.append((r, doc))
    # kubectl prefixes names with the kind when the lists it got (empty or not) are of several kinds
    with_kind = len({(r.group, r.version, r.kind) for r, _ in tables}) > 1
    written = False
    for r, doc in tables:
        rows_in = doc.get("rows") or []
        if not rows_in:
            continue
        defs = doc.get("columnDefinitions") or []
        if not isinstance(defs, list) or not defs or not all(isinstance(c, dict) for c in defs):
            raise Unsupported(f"{prog} get: a server-side Table without column definitions")
        idx = [i for i, c in enumerate(defs) if c.get("priority", 0) == 0 or o.output == "wide"]
        # decorateTable: the kind goes before the cells of the first column of format "name" and type "string"
        name_col = next((i for i, c in enumerate(defs) if c.get("format") == "name" and c.get("type") == "string"),
                        None) if with_kind else None
        with_ns = o.all_ns and r.namespaced
        kind = (r.kind + (f".{r.group}" if r.group else "")).lower()
        rows: list[list[str]] = []
        if not o.no_headers:
            names = [str(defs[i].get("name", "")) for i in idx]
            if not all(n.isascii() for n in names):
                raise Unsupported(f"{prog} get: non-ASCII Table column names (Go's strings.ToUpper)")
            rows.append((["NAMESPACE"] if with_ns else []) + [n.upper() for n in names])
        for row in rows_in:
            cells = list(row.get("cells") or []) if isinstance(row, dict) else []
            if len(cells) != len(defs):
                raise Unsupported(f"{prog} get: a server-side Table row whose cells do not match its columns")
            if name_col is not None:
                if not isinstance(cells[name_col], str):
                    raise Unsupported(f"{prog} get: a Table name cell that is not a string")
                cells[name_col] = f"{kind}/{cells[name_col]}"
            out = [_cell(prog, cells[i]) for i in idx]
            if with_ns:
                meta = (row.get("object") or {}).get("metadata") or {}
                out.insert(0, _cell(prog, str(meta.get("namespace") or "")))
            rows.append(out)
        if written and not o.no_headers:
            ctx.write("\n")
        ctx.write(tabwrite(rows))
        written = True
    if not written and not errors and not o.ignore_not_found:
        if not o.all_ns and all(r.namespaced for r, _ in requests) and ns is not None:
            ctx.err.write(enc(f"No resources found in {ns} namespace.\n"))
        else:
            ctx.err.write(b"No resources found\n")
    for e in errors:
        ctx.err.write(enc(e + "\n"))
    return 1 if errors else 0


# --------------------------------------------------------------------------- api-resources


def _api_resources(ctx: Ctx, prog: str, cluster: Cluster, o: _Opts) -> int:
    """``api-resources`` (apiresources.go of kubectl 1.32): ServerPreferredResources, filtered, sorted by group
    (or ``--sort-by`` name/kind) then name, as a table (NAME SHORTNAMES APIVERSION NAMESPACED KIND) or names."""
    used = [flag for flag, on in (("-l", o.selector is not None), ("--field-selector", o.field_selector is not None),
                                  ("-A", o.all_ns), ("--ignore-not-found", o.ignore_not_found),
                                  ("--raw", o.raw is not None), ("--as", o.as_user is not None or bool(o.as_groups)),
                                  ("--", o.after_dashes is not None)) if on]
    if used:
        raise Unsupported(f"{prog} api-resources {used[0]}")
    if o.args:
        raise Unsupported(f"{prog} api-resources with arguments")
    # Validate() runs before any request
    if o.output not in ("", "wide", "name"):
        raise _Fail(f"error: --output {o.output} is not available\n")
    if o.sort_by not in ("", "name", "kind"):
        raise _Fail("error: --sort-by accepts only name or kind\n")
    wide = o.output == "wide"
    header = [] if o.no_headers or o.output == "name" else [
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (["VERBS", "CATEGORIES"] if wide else [])]
    try:
        resources, failed = Discovery(cluster).preferred()
    except ClusterUnreachable:
        if not ctx.err.null:
            raise
        ctx.write(tabwrite(header))  # the header is printed before the error
        return 1
    if any(status != 0 for _, status in failed) and not ctx.err.null:
        # client-go also logs each failed group version through klog (a timestamp and the pid on each line)
        raise Irreproducible(f"{prog} api-resources: klog lines for a failed discovery request")
    verbs, cats = set(o.verbs or ()), set(o.categories or ())
    chosen = [r for r in resources
              if r.verbs
              and (o.api_group is None or r.group == o.api_group)
              and (o.namespaced is None or r.namespaced == o.namespaced)
              and verbs <= set(r.verbs) and cats <= set(r.categories)]

    def key(r: APIResource) -> tuple[str, str]:
        return ({"name": r.name, "kind": r.kind}.get(o.sort_by, r.group), r.name)

    chosen.sort(key=key)  # Go's sort.Stable with the same order; each group/resource appears once
    if o.output == "name":
        ctx.write("".join(r.name + (f".{r.group}" if r.group else "") + "\n" for r in chosen))
    else:
        rows = list(header)
        for r in chosen:
            rows.append([r.name, ",".join(r.short_names), r.group_version, "true" if r.namespaced else "false",
                         r.kind] + ([",".join(r.verbs), ",".join(r.categories)] if wide else []))
        if rows:
            ctx.write(tabwrite(rows))
    if failed:
        msgs = sorted(f"{gv}: received empty response for: {gv}" for gv, _ in failed)
        raise _Fail("error: unable to retrieve the complete list of server APIs: " + ", ".join(msgs) + "\n")
    return 0


# --------------------------------------------------------------------------- describe secret

# kubectl's describe: tabwriter.Writer.Init(buf, 0, 8, 2, ' ', 0)
_DESCRIBE_MINWIDTH, _DESCRIBE_PADDING = 0, 2
_MAX_ANNOTATION_LEN = 140
_SKIP_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
_SURROGATE = re.compile("[\ud800-\udfff]")
_REDACTED_DATA = base64.b64encode(MARKER.encode()).decode()


def _go_string(v: Any, what: str) -> str:
    """A JSON string as Go decodes it (a lone surrogate escape becomes U+FFFD); absent is ""."""
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Unsupported(f"kubectl describe: {what} is not a string")
    return _SURROGATE.sub("\ufffd", v)


def _string_map(v: Any, what: str) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise Unsupported(f"kubectl describe: {what} is not a map")
    return {_go_string(k, what): _go_string(x, what) for k, x in v.items()}


def _shorten(s: str, max_len: int) -> str:
    """describe.go shorten: cut at ``max_len`` bytes (possibly inside a UTF-8 sequence) and add "..."."""
    b = enc(s)
    return dec(b[:max_len]) + "..." if len(b) > max_len else s


def _labels_multiline(title: str, labels: dict[str, str]) -> str:
    """describe.go printLabelsMultiline (sorted keys, one per line)."""
    out = f"{title}:\t"
    if not labels:
        return out + "<none>\n"
    return out + "\t".join(f"{k}={labels[k]}\n" for k in sorted(labels))


def _annotations_multiline(title: str, annotations: dict[str, str]) -> str:
    """describe.go printAnnotationsMultiline: long or multi-line values on their own, shortened, lines."""
    out = f"{title}:\t"
    keys = sorted(k for k in annotations if k not in _SKIP_ANNOTATIONS)
    if not keys:
        return out + "<none>\n"
    parts: list[str] = []
    for k in keys:
        value = annotations[k].removesuffix("\n")
        if len(enc(value)) + len(enc(k)) + 2 > _MAX_ANNOTATION_LEN or "\n" in value:
            parts.append(f"{k}:\n" + "".join(f"\t  {_shorten(line, _MAX_ANNOTATION_LEN - 2)}\n"
                                               for line in value.split("\n")))
        else:
            parts.append(f"{k}: {value}\n")
    return out + "\t".join(parts)


def _secret_data(v: Any) -> dict[str, bytes]:
    """Secret.data as Go decodes []byte values (StdEncoding, newlines ignored; null is empty)."""

    out: dict[str, bytes] = {}
    for k, x in _string_map_raw(v).items():
        if x is None:
            out[k] = b""
            continue
        if not isinstance(x, str):
            raise Unsupported("kubectl describe: secret data value is not a string")
        if x == _REDACTED_DATA:
            # a snapshot keeps the keys but not the values: their sizes are unknown, not guessed
            raise Unsupported("kubectl describe secret: data redacted in the snapshot")
        try:
            out[k] = base64.b64decode(x.replace("\r", "").replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise Unsupported("kubectl describe: secret data that is not canonical base64") from None
    return out


def _string_map_raw(v: Any) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise Unsupported("kubectl describe: secret data is not a map")
    return {_go_string(k, "secret data key"): x for k, x in v.items()}


def describe_secret(obj: dict[str, Any]) -> str:
    """describe.go describeSecret, through kubectl's describe tabwriter.

    Go prints the data keys in map iteration order, which is random; here they are sorted.
    """
    meta = obj.get("metadata") or {}
    if not isinstance(meta, dict):
        raise Unsupported("kubectl describe: metadata is not an object")
    typ = _go_string(obj.get("type"), "type")
    text = (f"Name:\t{_go_string(meta.get('name'), 'name')}\n"
            f"Namespace:\t{_go_string(meta.get('namespace'), 'namespace')}\n"
            + _labels_multiline("Labels", _string_map(meta.get("labels"), "labels"))
            + _annotations_multiline("Annotations", _string_map(meta.get("annotations"), "annotations"))
            + f"\nType:\t{typ}\n"
            + "\nData\n====\n")
    data = _secret_data(obj.get("data"))
    for k in sorted(data):
        if k == "token" and typ == "kubernetes.io/service-account-token":
            text += f"{k}:\t{dec(data[k])}\n"
        else:
            text += f"{k}:\t{len(data[k])} bytes\n"
    # describe's prefixWriter writes through printers.WriteEscaped (terminal escape characters, before tabwriter)
    text = text.replace("\x1b", "^[").replace("\r", "\\r")
    return go_tabwriter(text, _DESCRIBE_MINWIDTH, _DESCRIBE_PADDING)


# --------------------------------------------------------------------------- oc describe scc

_INT32, _INT64 = (-(2**31), 2**31 - 1), (-(2**63), 2**63 - 1)
_TW_BREAKS = re.compile("[\t\v\n\f]")


def _scc_fail(what: str) -> Unsupported:
    # oc decodes into its typed struct and fails on a mismatch; its message is not reproduced
    return Unsupported(f"oc describe scc: {what} does not decode into SecurityContextConstraints")


def _scc_obj(v: Any, what: str) -> dict[str, Any]:
    """A JSON object field (null or absent: the zero struct)."""
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise _scc_fail(what)
    return v


def _scc_str(v: Any, what: str) -> str:
    if v is not None and not isinstance(v, str):
        raise _scc_fail(what)
    return _go_string(v, what)


def _scc_bool(v: Any, what: str) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise _scc_fail(what)


def _scc_int(v: Any, what: str, bounds: tuple[int, int]) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not bounds[0] <= v <= bounds[1]:
        raise _scc_fail(what)
    return v


def _scc_strings(v: Any, what: str) -> list[str] | None:
    """A []string field: null is nil; a null element decodes as ""."""
    if v is None:
        return None
    if not isinstance(v, list):
        raise _scc_fail(what)
    return [_scc_str(x, what) for x in v]


def _or_none(s: str, default: str = "<none>") -> str:
    return s if s else default


def _id_ranges(v: Any, what: str) -> str:
    if v is None:
        return "<none>"
    if not isinstance(v, list):
        raise _scc_fail(what)
    out = []
    for x in v:
        r = _scc_obj(x, what)
        lo, hi = _scc_int(r.get("min"), what, _INT64) or 0, _scc_int(r.get("max"), what, _INT64) or 0
        out.append(f"{lo}-{hi}")
    return _or_none(",".join(out))


def describe_scc(obj: dict[str, Any]) -> str:
    """openshift/oc's describeSecurityContextConstraints (pkg/helpers/describe/describer.go), through its
    tabbedString: text/tabwriter with minwidth 0, tabwidth 8, padding 1 and tabs as padding."""
    meta = _scc_obj(obj.get("metadata"), "metadata")

    def strs(key: str) -> str:
        return ",".join(_scc_strings(obj.get(key), key) or [])

    def flag(key: str) -> str:
        return "true" if _scc_bool(obj.get(key), key) else "false"

    prio = _scc_int(obj.get("priority"), "priority", _INT32)
    escalation = _scc_bool(obj.get("allowPrivilegeEscalation"), "allowPrivilegeEscalation")
    flex = []
    fv = obj.get("allowedFlexVolumes")
    if fv is not None and not isinstance(fv, list):
        raise _scc_fail("allowedFlexVolumes")
    for x in fv or []:
        flex.append("driver=" + _scc_str(_scc_obj(x, "allowedFlexVolumes").get("driver"), "allowedFlexVolumes"))
    run_as = _scc_obj(obj.get("runAsUser"), "runAsUser")
    selinux = _scc_obj(obj.get("seLinuxContext"), "seLinuxContext")
    opts = _scc_obj(selinux.get("seLinuxOptions"), "seLinuxOptions")
    fs_group = _scc_obj(obj.get("fsGroup"), "fsGroup")
    sup = _scc_obj(obj.get("supplementalGroups"), "supplementalGroups")

    def uid(key: str) -> str:
        n = _scc_int(run_as.get(key), "runAsUser." + key, _INT64)
        return "<none>" if n is None else str(n)

    def strategy(o: dict[str, Any], what: str) -> str:
        return _scc_str(o.get("type"), what + ".type")

    rows = [
        ("Name:", _scc_str(meta.get("name"), "name")),
        ("Priority:", "<none>" if prio is None else str(prio)),
        ("Access:", ""),
        ("  Users:", _or_none(strs("users"))),
        ("  Groups:", _or_none(strs("groups"))),
        ("Settings:", ""),
        ("  Allow Privileged:", flag("allowPrivilegedContainer")),
        ("  Allow Privilege Escalation:", "<none>" if escalation is None else str(escalation).lower()),
        ("  Default Add Capabilities:", _or_none(strs("defaultAddCapabilities"))),
        ("  Required Drop Capabilities:", _or_none(strs("requiredDropCapabilities"))),
        ("  Allowed Capabilities:", _or_none(strs("allowedCapabilities"))),
        ("  Allowed Seccomp Profiles:", _or_none(strs("seccompProfiles"))),
        ("  Allowed Volume Types:", _or_none(strs("volumes"))),
        ("  Allowed Flexvolumes:", _or_none(",".join(flex), "<all>")),
        ("  Allowed Unsafe Sysctls:", _or_none(strs("allowedUnsafeSysctls"))),
        ("  Forbidden Sysctls:", _or_none(strs("forbiddenSysctls"))),
        ("  Allow Host Network:", flag("allowHostNetwork")),
        ("  Allow Host Ports:", flag("allowHostPorts")),
        ("  Allow Host PID:", flag("allowHostPID")),
        ("  Allow Host IPC:", flag("allowHostIPC")),
        ("  Read Only Root Filesystem:", flag("readOnlyRootFilesystem")),
        ("  Run As User Strategy: " + strategy(run_as, "runAsUser"), ""),
        ("    UID:", uid("uid")),
        ("    UID Range Min:", uid("uidRangeMin")),
        ("    UID Range Max:", uid("uidRangeMax")),
        ("  SELinux Context Strategy: " + strategy(selinux, "seLinuxContext"), ""),
        ("    User:", _or_none(_scc_str(opts.get("user"), "seLinuxOptions.user"))),
        ("    Role:", _or_none(_scc_str(opts.get("role"), "seLinuxOptions.role"))),
        ("    Type:", _or_none(_scc_str(opts.get("type"), "seLinuxOptions.type"))),
        ("    Level:", _or_none(_scc_str(opts.get("level"), "seLinuxOptions.level"))),
        ("  FSGroup Strategy: " + strategy(fs_group, "fsGroup"), ""),
        ("    Ranges:", _id_ranges(fs_group.get("ranges"), "fsGroup.ranges")),
        ("  Supplemental Groups Strategy: " + strategy(sup, "supplementalGroups"), ""),
        ("    Ranges:", _id_ranges(sup.get("ranges"), "supplementalGroups.ranges")),
    ]
    if any(_TW_BREAKS.search(label + value) for label, value in rows):
        # each line is then two cells of one column; other layouts are not derived here
        raise Unsupported("oc describe scc: a value with tabs or line breaks")
    # one column block: every label cell is padded with tabs to the same multiple of 8 past its widest cell
    # (tabwriter widths count runes; padding 1)
    cellw = -(-(max(len(label) for label, _ in rows) + 1) // 8) * 8
    return "".join(label + "\t" * -(-(cellw - len(label)) // 8) + value + "\n" for label, value in rows)


def _status_reason(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    return str(doc.get("reason") or "") if isinstance(doc, dict) else ""


def _describe_one(cluster: Cluster, r: APIResource, ns: str | None, name: str) -> str:
    """The describer's own GET of the object (kubectl fetches it again after resolving the arguments)."""
    status, body = cluster.get(r.collection(ns) + "/" + urllib.parse.quote(name, safe=""))
    if status != 200:
        raise _Fail(_status_error(status, body) + "\n")
    try:
        doc = json.loads(body)
    except ValueError:
        raise HostError(f"cluster: {r.name} {name}: invalid JSON") from None
    if not isinstance(doc, dict):
        raise HostError(f"cluster: {r.name} {name}: not an object")
    return describe_scc(doc) if r.kind == "SecurityContextConstraints" else describe_secret(doc)


# what ``oc describe`` resolves to openshift/oc's SCC describer (kubectl has none: its generic describer)
_SCC_TYPES = frozenset({"scc", "securitycontextconstraints", "securitycontextconstraint",
                        "securitycontextconstraints.security.openshift.io",
                        "securitycontextconstraints.v1.security.openshift.io"})


def _describe(ctx: Ctx, prog: str, cluster: Cluster, o: _Opts) -> int:
    """``describe secret NAME``, ``describe secret/NAME`` and ``describe secret`` (kubectl's DescribeOptions.Run);
    the same for ``oc describe scc``."""
    used = [flag for flag, on in (("-o", bool(o.output)), ("-l", o.selector is not None),
                                  ("--field-selector", o.field_selector is not None), ("-A", o.all_ns),
                                  ("--no-headers", o.no_headers), ("--ignore-not-found", o.ignore_not_found),
                                  ("--raw", o.raw is not None), ("--as", o.as_user is not None or bool(o.as_groups)),
                                  ("--", o.after_dashes is not None)) if on]
    if used:
        raise Unsupported(f"{prog} describe {used[0]}")
    if not o.args:
        raise Unsupported(f"{prog} describe without a resource type")
    typ, slash, name = o.args[0].partition("/")
    scc = prog == "oc" and typ.lower() in _SCC_TYPES
    if typ.lower() not in ("secret", "secrets") and not scc:
        raise Unsupported(f"{prog} describe {typ}")
    if slash and (not name or len(o.args) > 1):
        raise Unsupported(f"{prog} describe {o.args[0]} with other arguments")
    if not slash and len(o.args) > 2:
        raise Unsupported(f"{prog} describe {typ} with several names")
    if not slash and len(o.args) == 2:
        name = o.args[1]
    if not slash and len(o.args) == 2 and not name:
        raise Unsupported(f"{prog} describe {typ} with an empty name")
    r = Discovery(cluster).resolve(typ)
    if r is None:
        raise _Fail(f'error: the server doesn\'t have a resource type "{typ}"\n')
    if (not scc and (r.group or r.kind != "Secret" or not r.namespaced)) or (
            scc and (r.group != "security.openshift.io" or r.kind != "SecurityContextConstraints" or r.namespaced)):
        raise Unsupported(f"{prog} describe {typ} resolving to {r.group_version} {r.kind}")
    ns = _namespace(cluster, o)
    if not name:
        return _describe_all(ctx, prog, cluster, r, ns, o)
    status, body = _get_one(cluster, r, ns, name)
    if status == 200:
        ctx.write(_describe_one(cluster, r, ns, name))
        return 0
    err = _status_error(status, body)
    if slash or _status_reason(body) != "NotFound":
        raise _Fail(err + "\n")
    # DescribeMatchingResources: describe every secret whose name starts with NAME, each followed by a newline
    found = False
    for it in _list(cluster, r, ns, o):
        meta = it.get("metadata") or {}
        item = str(meta.get("name", ""))
        if item.startswith(name):
            found = True
            ctx.write(_describe_one(cluster, r, str(meta.get("namespace") or ns), item) + "\n")
    if not found:
        raise _Fail(err + "\n")
    return 0


def _describe_all(ctx: Ctx, prog: str, cluster: Cluster, r: APIResource, ns: str, o: _Opts) -> int:
    items = _list(cluster, r, ns, o)
    errors: list[str] = []
    first = True
    for it in items:
        meta = it.get("metadata") or {}
        try:
            s = _describe_one(cluster, r, str(meta.get("namespace") or ns), str(meta.get("name", "")))
        except _Fail as f:
            if f.msg not in errors:
                errors.append(f.msg)
            continue
        ctx.write(s if first else "\n\n" + s)
        first = False
    if not items:
        ctx.err.write(enc(f"No resources found in {ns} namespace.\n"))
    if len(errors) > 1:
        raise Unsupported(f"{prog} describe: kubectl's output for several errors")
    if errors:
        raise _Fail(errors[0])
    return 0


# --------------------------------------------------------------------------- auth can-i


def _can_i(ctx: Ctx, prog: str, cluster: Cluster, o: _Opts) -> int:
    """kubectl's CanIOptions: ``VERB TYPE[/NAME]`` or ``VERB /URL``, ``--subresource``, ``--as``/``--as-group``."""
    if o.output or o.selector or o.field_selector or o.raw:
        raise Unsupported(f"{prog} auth can-i form")
    if len(o.args) != 2:
        if prog != "kubectl":
            raise Unsupported(f"{prog} auth can-i usage error text")
        raise _Fail("error: you must specify two arguments: verb resource or verb resource/resourceName.\n"
                    "See 'kubectl auth can-i -h' for help and examples.\n")
    if o.as_groups and o.as_user is None:
        raise Unsupported(f"{prog} auth can-i --as-group without --as (its error text)")
    verb, res = o.args[0], o.args[1]
    if res.startswith("/"):
        return _can_i_url(ctx, prog, cluster, o, verb, res)
    typ, _, name = res.partition("/")
    sub = o.subresource or ""
    warn = ""
    r = Discovery(cluster).resolve(typ)
    if r is None:
        warn = f"Warning: the server doesn't have a resource type '{typ}'\n\n"
        group, resource = "", typ
    else:
        group, resource = r.group, r.name
    attrs: dict[str, Any] = {"namespace": "" if o.all_ns else _namespace(cluster, o), "verb": verb}
    if group:
        attrs["group"] = group
    attrs["resource"] = resource
    if sub:
        attrs["subresource"] = sub
    if name:
        attrs["name"] = name
    body = json.dumps(
        {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
         "metadata": {"creationTimestamp": None}, "spec": {"resourceAttributes": attrs}, "status": {"allowed": False}},
        separators=(",", ":"),
    ).encode()
    if r is not None and not r.namespaced and attrs["namespace"]:
        where = f" in group '{r.group}'" if r.group else ""
        warn += f"Warning: resource '{r.name}' is not namespace scoped{where}\n\n"
    if warn:
        ctx.err.write(enc(warn))
    return _review(ctx, cluster, o, body)


def _can_i_url(ctx: Ctx, prog: str, cluster: Cluster, o: _Opts, verb: str, url: str) -> int:
    """``auth can-i VERB /PATH``: a non-resource access review (no name, no namespace)."""
    if o.subresource is not None or o.all_ns or o.namespace is not None:
        raise Unsupported(f"{prog} auth can-i non-resource URL with a subresource or namespace")
    body = json.dumps(
        {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
         "metadata": {"creationTimestamp": None}, "spec": {"nonResourceAttributes": {"path": url, "verb": verb}},
         "status": {"allowed": False}},
        separators=(",", ":"),
    ).encode()
    return _review(ctx, cluster, o, body)


def _review(ctx: Ctx, cluster: Cluster, o: _Opts, body: bytes) -> int:
    status, resp = cluster.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body, o.as_user,
                                o.as_groups)
    if status not in (200, 201):
        raise _Fail(_status_error(status, resp) + "\n")
    st = (json.loads(resp).get("status") or {})
    if st.get("allowed"):
        ctx.write("yes\n")
        return 0
    line = "no"
    if st.get("reason"):
        line += f" - {st['reason']}"
    if st.get("evaluationError"):
        line += f" - {st['evaluationError']}"
    ctx.write(line + "\n")
    return 1


# --------------------------------------------------------------------------- oc debug


def _debug(ctx: Ctx, prog: str, cluster: Cluster, o: _Opts) -> int:
    cmd = o.after_dashes
    if prog != "oc" or len(o.args) != 1 or not o.args[0].startswith("node/") or not cmd:
        raise Unsupported(f"{prog} debug form")
    if cmd[:2] != ["chroot", "/host"] or len(cmd) < 3:
        raise Unsupported(f"{prog} debug without chroot /host")
    if not ctx.err.null:
        raise Unsupported("oc debug with its pod messages on stderr")
    node = o.args[0][len("node/"):]
    status, _ = cluster.get("/api/v1/nodes/" + urllib.parse.quote(node, safe=""))
    if status != 200:
        return 1
    return ctx.shell.run_utility(cmd[2:], ctx.stdin, ctx.out, ctx.err)


# --------------------------------------------------------------------------- entry points


def _cluster(ctx: Ctx) -> Cluster:
    c = current_cluster.get()
    return c if c is not None else NoCluster()


_SUBCOMMANDS = ("get", "describe", "auth", "debug", "api-resources")


def _subcommand(args: list[str]) -> str | None:
    """The first operand, skipping the values of the global options that take one."""
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a == "--":
            return None
        elif a in _WITH_VALUE or a in ("-c", "--container", "--context", "--kubeconfig", "--server", "--token"):
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def _run(ctx: Ctx, prog: str, args: list[str]) -> int:
    sub0 = _subcommand(args)
    if sub0 is not None and sub0 not in _SUBCOMMANDS:
        raise Unsupported(f"{prog} {sub0}")
    # global flags may precede the subcommand (``oc -n NS get ...``)
    o = _parse(prog, args, api_resources=sub0 == "api-resources")
    if not o.args:
        raise Unsupported(f"{prog} without a subcommand")
    sub, o.args = o.args[0], o.args[1:]
    if o.subresource is not None and not (sub == "auth" and o.args[:1] == ["can-i"]):
        raise Unsupported(f"{prog} {sub} --subresource")
    cluster = _cluster(ctx)
    try:
        if sub == "get":
            if o.after_dashes is not None:
                raise Unsupported(f"{prog} get --")
            return _get(ctx, prog, cluster, o)
        if sub == "describe":
            return _describe(ctx, prog, cluster, o)
        if sub == "auth" and o.args[:1] == ["can-i"]:
            o.args = o.args[1:]
            return _can_i(ctx, prog, cluster, o)
        if sub == "debug":
            return _debug(ctx, prog, cluster, o)
        if sub == "api-resources":
            return _api_resources(ctx, prog, cluster, o)
        raise Unsupported(f"{prog} {sub}")
    except NotNative as exc:
        raise Unsupported(f"{prog} with {exc}") from None
    except ClusterUnreachable as exc:
        if ctx.err.null:  # nothing on stdout and exit 1: the facts kubectl and oc show when stderr is discarded
            return 1
        # kubectl's error output here (klog lines with its time and pid) is not a fact we can reproduce
        # honestly; the audit is not run natively (auto runs the real kubectl, native reports WARN).
        raise Unsupported(f"{prog}: the cluster API at {exc.host} is not reachable") from None
    except _Fail as f:
        ctx.err.write(enc(f.msg))
        return 1


def u_kubectl(ctx: Ctx, args: list[str]) -> int:
    return _run(ctx, "kubectl", args)


def u_oc(ctx: Ctx, args: list[str]) -> int:
    return _run(ctx, "oc", args)
