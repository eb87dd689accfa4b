"""``kubectl get``: names, lists, several types at once, ``TYPE/NAME``, and every output audits use.
"""

from __future__ import annotations

import json
from typing import Any

from kubecis.audit.native.context import Ctx
from kubecis.audit.native.errors import Unsupported
from kubecis.audit.native.streams import enc
from kubecis.audit.native.utilities.kubectl.flags import Opts
from kubecis.audit.native.utilities.kubectl.printers import (
    JsonPathFailed,
    cell,
    custom_columns,
    jsonpath_text,
    tabwrite,
)
from kubecis.audit.native.utilities.kubectl.requests import (
    CHUNK,
    KubectlError,
    ListError,
    get_one,
    kind_name,
    list_error,
    list_items,
    namespace_of,
    omit_managed_fields,
    status_error,
)
from kubecis.audit.native.utilities.kubectl.resources import RESTMapper
from kubecis.golang.errors import NotReproduced
from kubecis.golang.json import go_json_indent
from kubecis.host.cluster import APIResource, Cluster

__all__ = ["get", "table"]


_NO_TYPE = (
    'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported '
    'resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed '
    "description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples\n"
)


def get(ctx: Ctx, prog: str, cluster: Cluster, o: Opts) -> int:
    if o.raw is not None:
        if o.args or o.output:
            raise Unsupported(f"{prog} get --raw with other arguments")
        status, body = cluster.get(o.raw)
        if status != 200:
            raise KubectlError(status_error(status, body) + "\n")
        ctx.write(body)
        return 0
    if not o.args:
        if prog != "kubectl" and not ctx.err.null:
            raise Unsupported(f"{prog} get without a resource type (its usage error text)")
        raise KubectlError(_NO_TYPE)
    output = o.output
    if output not in ("", "wide", "json", "yaml", "name") and not output.startswith(("jsonpath=", "custom-columns=")):
        raise Unsupported(f"{prog} get -o {output}")
    if o.as_user is not None or o.as_groups:
        raise Unsupported(f"{prog} get --as (impersonation)")
    disc = RESTMapper(cluster)
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
                raise KubectlError(f'error: the server doesn\'t have a resource type "{typ}"\n')
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
                    raise KubectlError(f'error: the server doesn\'t have a resource type "{typ}"\n')
                if all((x.group, x.version, x.kind) != (r.group, r.version, r.kind) for x in rs):
                    rs.append(r)
        if given and len(rs) > 1:
            raise Unsupported(f"{prog} get names with several resource types")
        requests = [(r, list(given) if given else None) for r in rs]
        single = len(rs) == 1 and len(given) == 1 and "," not in first and first != "all"
    ns = None if o.all_ns else namespace_of(cluster, o)
    objs: list[tuple[APIResource, dict[str, Any]]] = []
    errors: list[str] = []
    for r, names in requests:
        if names is None:
            if output in ("", "wide"):
                continue
            try:
                items = list_items(cluster, r, ns if r.namespaced else None, o)
            except ListError as f:
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
                    raise KubectlError("error: resource name may not be empty\n")
                raise Unsupported(f"{prog} get with several empty names")
            status, body = get_one(cluster, r, ns, name, not o.ignore_not_found)
            if status == 404 and o.ignore_not_found:
                continue
            if status != 200:
                err = status_error(status, body)
                if single:
                    raise KubectlError(err + "\n")
                errors.append(err)
                continue
            objs.append((r, json.loads(body)))
    if output == "" or output == "wide":
        return table(ctx, prog, cluster, o, requests, ns, errors)
    if not objs and o.ignore_not_found:
        pass
    elif output == "name":
        for r, obj in objs:
            ctx.write(kind_name(r, obj) + "\n")
    else:
        if single and len(objs) == 1:
            doc: Any = objs[0][1]
        else:
            doc = {"apiVersion": "v1", "items": [obj for _, obj in objs], "kind": "List",
                   "metadata": {"resourceVersion": ""}}
        if output == "json":
            ctx.write(go_json_indent(omit_managed_fields(doc)) + "\n")
        elif output == "yaml":
            if not isinstance(doc, dict) or not doc:
                raise Unsupported("kubectl -o yaml of a non-object")
            from kubecis.golang.yamlemit import go_yaml  # -o yaml is rare in audits

            try:
                ctx.write(go_yaml(omit_managed_fields(doc)))
            except NotReproduced as exc:
                raise Unsupported(f"kubectl -o yaml: {exc}") from None
        elif output.startswith("jsonpath="):
            try:
                ctx.write(jsonpath_text(output[len("jsonpath="):], doc))
            except JsonPathFailed as exc:
                if not ctx.err.null:
                    raise Unsupported(f"{prog} jsonpath error output ({exc})") from None
                return 1
        else:
            items = doc["items"] if doc.get("kind") == "List" and "items" in doc and not single else [doc]
            ctx.write(custom_columns(output[len("custom-columns="):], items, not o.no_headers))
    for e in errors:
        ctx.err.write(enc(e + "\n"))
    return 1 if errors else 0


def table(
    ctx: Ctx, prog: str, cluster: Cluster, o: Opts,
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
            err, not_found = list_error(status, body, r, o)
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
            out = [cell(prog, cells[i]) for i in idx]
            if with_ns:
                meta = (row.get("object") or {}).get("metadata") or {}
                out.insert(0, cell(prog, str(meta.get("namespace") or "")))
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
