"""kubectl's requests and its error messages: chunked lists, single GETs, ``Error from server (...)``.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from kubecis.audit.native.utilities.kubectl.flags import Opts
from kubecis.errors import HostError, ToolError
from kubecis.golang.fmt import go_quote
from kubecis.host.cluster import APIResource, Cluster

__all__ = [
    "CHUNK", "KubectlError", "ListError", "get_one", "kind_name", "list_error", "list_items", "namespace_of",
    "omit_managed_fields", "status_error", "status_reason"
]


CHUNK = "500"


class KubectlError(ToolError):
    """kubectl exits 1 after printing ``msg`` (already formatted, newline-terminated) on stderr."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class ListError(KubectlError):
    """A list request failed; ``not_found``: with a NotFound (which ``--ignore-not-found`` drops)."""

    def __init__(self, msg: str, not_found: bool) -> None:
        super().__init__(msg)
        self.not_found = not_found


def status_error(status: int, body: bytes) -> str:
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


def list_items(cluster: Cluster, r: APIResource, ns: str | None, o: Opts) -> list[dict[str, Any]]:
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
            msg, not_found = list_error(status, body, r, o)
            raise ListError(msg + "\n", not_found)
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


def omit_managed_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """kubectl -o json/yaml drops metadata.managedFields (unless --show-managed-fields)."""

    def strip(obj: Any) -> Any:
        if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) and "managedFields" in obj["metadata"]:
            obj = dict(obj, metadata={k: v for k, v in obj["metadata"].items() if k != "managedFields"})
        return obj

    doc = strip(doc)
    if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        doc = dict(doc, items=[strip(it) for it in doc["items"]])
    return doc


def kind_name(r: APIResource, obj: dict[str, Any]) -> str:
    kind = str(obj.get("kind") or r.kind).lower()
    name = str((obj.get("metadata") or {}).get("name", ""))
    return f"{kind}.{r.group}/{name}" if r.group else f"{kind}/{name}"


def namespace_of(cluster: Cluster, o: Opts) -> str:
    return o.namespace if o.namespace is not None else cluster.namespace


def get_one(cluster: Cluster, r: APIResource, ns: str | None, name: str, check_ns: bool = True) -> tuple[int, bytes]:
    """GET one object; on 404 kubectl checks the namespace and reports it instead when it does not exist."""
    path = r.collection(ns if r.namespaced else None) + "/" + urllib.parse.quote(name, safe="")
    status, body = cluster.get(path)
    if status == 404 and check_ns and r.namespaced and ns is not None:
        ns_status, ns_body = cluster.get("/api/v1/namespaces/" + urllib.parse.quote(ns, safe=""))
        if ns_status == 404:
            status, body = ns_status, ns_body
    return status, body


def list_error(status: int, body: bytes, r: APIResource, o: Opts) -> tuple[str, bool]:
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
        return status_error(status, json.dumps(dict(doc, message=msg)).encode()), not_found
    return status_error(status, body), not_found


def status_reason(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    return str(doc.get("reason") or "") if isinstance(doc, dict) else ""
