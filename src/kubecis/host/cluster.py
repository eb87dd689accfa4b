"""Read-only access to the Kubernetes API, for the native ``kubectl``/``oc``.

A :class:`Cluster` answers raw API requests: ``get(path, query)`` and
``post(path, body, impersonate, groups)`` (SelfSubjectAccessReview), both
returning ``(status, body)``. A server that cannot be reached raises
:class:`ClusterUnreachable` (kubectl's "connection ... refused" case); any other
transport or configuration failure raises :class:`~kubecis.errors.HostError`
(never a made-up answer).

Implementations:

* :class:`LiveCluster` - configured like kubectl: ``$KUBECONFIG`` (a ``:`` list,
  merged the way client-go merges), else ``~/.kube/config``, else the in-cluster
  service account, else ``http://localhost:8080`` (kubectl's default with no
  configuration). Configuration is only read on the first request, and loaded and
  spoken to by the ``kubernetes`` client library (:mod:`kubecis.host.kubeapi`).
* :class:`NoCluster` - behaves like kubectl with no configuration and nothing
  listening on localhost:8080 (used for ``--root``).
* :class:`RecordingCluster` / :class:`SnapshotCluster` - record and replay the
  answers in the same snapshot document as the host entries (keys starting with
  ``["api", ...``). Secret data, tokens, passwords and private keys in
  responses are replaced with ``REDACTED-BY-KUBECIS`` before they are stored.

:class:`APIDiscovery` lists the API resources a cluster serves (legacy discovery, as client-go reads it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import urllib.parse
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any, Protocol

from kubecis.errors import HostError
from kubecis.host.apibase import DEFAULT_SERVER, MARKER, ClusterUnreachable, NeedsPlugin, TransportError
from kubecis.host.base import NotInSnapshot
from kubecis.records import dataclass

if TYPE_CHECKING:
    from kubecis.host.kubeapi import KubeTransport
    from kubecis.host.snapshot import SnapshotHost

__all__ = [
    "MARKER",
    "APIDiscovery",
    "APIResource",
    "Cluster",
    "ClusterUnreachable",
    "EmptyCluster",
    "LiveCluster",
    "NoCluster",
    "NotNative",
    "RecordingCluster",
    "SnapshotCluster",
    "redact_api_body",
]

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


class NotNative(HostError):
    """The configuration needs something a native client does not do (a credential plugin process...).

    kubectl/oc report these as "audit not supported natively", so ``--executor auto`` runs the real tool.
    """


class Cluster(Protocol):
    """Read-only view of one cluster's API."""

    @property
    def namespace(self) -> str:
        """The namespace of the current context (kubectl's default for ``-n``)."""
        ...

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        """GET ``path``; ``table`` asks for the server-side Table rendering kubectl prints."""
        ...

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]: ...


# --------------------------------------------------------------------------- live


class LiveCluster:
    """The cluster kubectl would talk to from this process (configuration read lazily).

    Configuration and transport are the ``kubernetes`` client library's, through
    :class:`~kubecis.host.kubeapi.KubeTransport` (the same layer the cluster commands use). A kubeconfig
    whose user runs a credential plugin is declined (:class:`NotNative`): the native executor starts no
    process, so ``--executor auto`` runs the real kubectl for such audits.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *, transport: KubeTransport | None = None) -> None:
        self._env = env
        self._transport = transport

    @property
    def _t(self) -> KubeTransport:
        """The transport, made (and its module imported) when an audit first talks to the cluster."""
        if self._transport is None:
            from kubecis.host.kubeapi import KubeTransport

            self._transport = KubeTransport(self._env, allow_plugins=False, user_agent="kubectl (kubecis native)")
        return self._transport

    @property
    def namespace(self) -> str:
        return self._t.namespace

    def _request(self, method: str, path: str, query: Sequence[tuple[str, str]], body: bytes | None,
                 headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            return self._t.request(method, path, query=query, body=body, headers=headers)
        except NeedsPlugin as exc:
            raise NotNative(str(exc)) from None
        except TransportError as exc:
            # kubectl prints Go's error text here ("Unable to connect to the server: ..."): not reproduced
            raise NotNative(f"kubectl's error output for a failed connection ({exc})") from None

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        accept = TABLE_ACCEPT if table else "application/json"
        return self._request("GET", path, sorted((query or {}).items()), None, {"Accept": accept})

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if impersonate is not None:
            headers["Impersonate-User"] = impersonate
        if groups:
            raise NotNative("impersonating groups")
        return self._request("POST", path, (), body, headers)


class NoCluster:
    """kubectl with no configuration and nothing listening on localhost:8080."""

    namespace = "default"

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        raise ClusterUnreachable("localhost:8080", DEFAULT_SERVER)

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        raise ClusterUnreachable("localhost:8080", DEFAULT_SERVER)


class EmptyCluster:
    """A reachable cluster serving no resources (every object is NotFound; every access review says no).

    Used to dry-run scripts for the static coverage check, so that kubectl/oc forms are exercised
    without a real API server.
    """

    namespace = "default"

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        if path == "/api":
            return 200, b'{"kind":"APIVersions","versions":[]}'
        if path == "/apis":
            return 200, b'{"kind":"APIGroupList","apiVersion":"v1","groups":[]}'
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": "the server could not find the requested resource", "reason": "NotFound", "code": 404}
        return 404, json.dumps(status).encode()

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        return 201, b'{"kind":"SelfSubjectAccessReview","status":{"allowed":false}}'


# --------------------------------------------------------------------------- record / replay

def redact_api_body(body: bytes) -> bytes:
    """An API response with secret material replaced: Secret data, secret-named fields, pod env values and
    container args by the structural rules of :mod:`kubecis.host.redact`, every string by its text rules
    (JSON re-encoded; a body that is not JSON goes through the text rules)."""
    from kubecis.host.redact import redact_json, redact_text_bytes

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return redact_text_bytes(body)
    if isinstance(doc, dict) and doc.get("kind") == "SecretList" and isinstance(doc.get("items"), list):
        # list items carry no kind of their own: mark them as Secrets for the walker, then unmark
        marked = [isinstance(it, dict) and "kind" not in it for it in doc["items"]]
        for it, m in zip(doc["items"], marked, strict=True):
            if m:
                it["kind"] = "Secret"
        red = redact_json(doc)
        for it, m in zip(red["items"], marked, strict=True):
            if m:
                it.pop("kind", None)
        return json.dumps(red, separators=(",", ":")).encode()
    return json.dumps(redact_json(doc), separators=(",", ":")).encode()


def _get_key(path: str, query: Mapping[str, str] | None, table: bool) -> str:
    return json.dumps(["api", "GET", path, sorted((query or {}).items()), table])


def _post_key(path: str, body: bytes, impersonate: str | None, groups: Sequence[str]) -> str:
    return json.dumps(["api", "POST", path, body.decode("utf-8", "replace"), impersonate, list(groups)])


class RecordingCluster:
    """Forwards to ``inner`` and records every answer into ``entries`` (a RecordingHost's entries)."""

    def __init__(self, inner: Cluster, entries: dict[str, Any]) -> None:
        self.inner = inner
        self.entries = entries

    @property
    def namespace(self) -> str:
        ns = self.inner.namespace
        self.entries[json.dumps(["api", "namespace"])] = {"ok": ns}
        return ns

    def _rec(self, key: str, fn: Any) -> tuple[int, bytes]:
        try:
            status, body = fn()
        except ClusterUnreachable as exc:
            from kubecis.host.redact import redact_text

            self.entries[key] = {"refused": redact_text(exc.host), "url": redact_text(exc.url)}  # (URL userinfo)
            raise
        self.entries[key] = {"status": status, "body": base64.b64encode(redact_api_body(body)).decode()}
        return status, body

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        return self._rec(_get_key(path, query, table), lambda: self.inner.get(path, query, table=table))

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        return self._rec(
            _post_key(path, body, impersonate, groups), lambda: self.inner.post(path, body, impersonate, groups)
        )


class SnapshotCluster:
    """Replays the ``api`` entries of a snapshot; a request never recorded raises NotInSnapshot."""

    def __init__(self, entries: Mapping[str, Any]) -> None:
        self._entries = {k: v for k, v in entries.items() if k.startswith('["api"')}

    @classmethod
    def from_host(cls, host: SnapshotHost) -> SnapshotCluster:
        """The api entries of the document a SnapshotHost replays."""
        return cls(host.api_entries())

    @property
    def namespace(self) -> str:
        v = self._entries.get(json.dumps(["api", "namespace"]))
        if not isinstance(v, dict):
            raise NotInSnapshot("api: current namespace")
        return str(v.get("ok", "default"))

    def _get(self, key: str, what: str) -> tuple[int, bytes]:
        v = self._entries.get(key)
        if v is None:
            raise NotInSnapshot(f"api {what}")
        if not isinstance(v, dict):
            raise HostError(f"corrupt snapshot entry for api {what}")
        if "refused" in v:
            raise ClusterUnreachable(str(v["refused"]), str(v.get("url", "")))
        return int(v.get("status", 0)), base64.b64decode(str(v.get("body", "")))

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        q = "?" + urllib.parse.urlencode(sorted(query.items())) if query else ""
        return self._get(_get_key(path, query, table), f"GET {path}{q}")

    def post(
        self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
    ) -> tuple[int, bytes]:
        return self._get(_post_key(path, body, impersonate, groups), f"POST {path}")


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class APIResource:
    group: str
    version: str
    name: str  # plural resource name
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection(self, namespace: str | None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            return f"{base}/namespaces/{urllib.parse.quote(namespace, safe='')}/{self.name}"
        return f"{base}/{self.name}"


@dataclass
class _Catalog:
    """What legacy discovery answered: groups in /api, /apis order, each group version's resources or failure."""

    # (group, versions in the order the server lists them, preferred version)
    groups: list[tuple[str, list[str], str]]
    # (group, version) -> its resources (subresources excluded), or the HTTP status of a failed request
    lists: dict[tuple[str, str], list[APIResource] | int]
    # group versions whose resource list was empty (client-go: "received empty response")
    empty: set[tuple[str, str]] = field(default_factory=set)


# discovery per cluster object: kubectl caches discovery too, and audits call kubectl in loops
_DISCOVERY: weakref.WeakKeyDictionary[Any, _Catalog] = weakref.WeakKeyDictionary()


def _api_resource(group: str, version: str, r: Any) -> APIResource | None:
    if not isinstance(r, dict):
        return None
    name = str(r.get("name", ""))
    if not name or "/" in name:
        return None
    return APIResource(
        group=group,
        version=version,
        name=name,
        kind=str(r.get("kind", "")),
        namespaced=bool(r.get("namespaced")),
        singular=str(r.get("singularName") or ""),
        short_names=tuple(str(x) for x in r.get("shortNames") or ()),
        categories=tuple(str(x) for x in r.get("categories") or ()),
        verbs=tuple(str(x) for x in r.get("verbs") or ()),
    )


class APIDiscovery:
    """The API resources a cluster serves, as legacy discovery lists them (cached per cluster object).

    Mapping what a user types to a resource is kubectl's business (its RESTMapper lives in
    :mod:`kubecis.audit.native.utilities.kubectl.resources`).
    """

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._catalog: _Catalog | None = None

    def _doc(self, path: str) -> tuple[int, Any]:
        status, body = self.cluster.get(path)
        if status != 200:
            return status, None
        try:
            doc = json.loads(body)
        except ValueError:
            raise HostError(f"cluster: discovery {path}: invalid JSON") from None
        if not isinstance(doc, dict):
            raise HostError(f"cluster: discovery {path}: not an object")
        return status, doc

    def _json(self, path: str) -> Any:
        status, doc = self._doc(path)
        if doc is None:
            raise NotNative(f"kubectl's error output when discovery fails ({path}: HTTP {status})")
        return doc

    def catalog(self) -> _Catalog:
        """Every group version's resources as discovery answered (failed group versions: their HTTP status).

        /api or /apis failing raises NotNative (kubectl's output then is not reproduced).
        """
        if self._catalog is not None:
            return self._catalog
        with contextlib.suppress(TypeError):  # TypeError: not weakly referenceable, no cache
            self._catalog = _DISCOVERY.get(self.cluster)
        if self._catalog is not None:
            return self._catalog
        groups: list[tuple[str, list[str], str]] = []
        core = [str(v) for v in self._json("/api").get("versions") or []]
        if core:
            groups.append(("", core, core[0]))
        for g in self._json("/apis").get("groups") or []:
            if not isinstance(g, dict):
                continue
            versions = [str(v.get("version")) for v in g.get("versions") or [] if isinstance(v, dict)]
            pref = (g.get("preferredVersion") or {}).get("version")
            if versions:
                groups.append((str(g.get("name")), versions, str(pref) if pref else ""))
        lists: dict[tuple[str, str], list[APIResource] | int] = {}
        empty: set[tuple[str, str]] = set()
        for group, versions, _ in groups:
            for version in versions:
                path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                status, doc = self._doc(path)
                if doc is None:
                    lists[(group, version)] = status
                    continue
                raw = doc.get("resources") or []
                if not raw:
                    empty.add((group, version))
                rs = [_api_resource(group, version, r) for r in raw]
                lists[(group, version)] = [r for r in rs if r is not None]
        self._catalog = _Catalog(groups, lists, empty)
        with contextlib.suppress(TypeError):
            _DISCOVERY[self.cluster] = self._catalog
        return self._catalog

    def resources(self) -> list[APIResource]:
        """All resources, each group's preferred version first (a failed group version raises NotNative)."""
        cat = self.catalog()
        out: list[APIResource] = []
        for group, versions, pref in cat.groups:
            ordered = ([pref] if pref in versions else []) + [v for v in versions if v != pref]
            for v in ordered:
                got = cat.lists[(group, v)]
                if isinstance(got, int):
                    path = f"/apis/{group}/{v}" if group else f"/api/{v}"
                    raise NotNative(f"kubectl's error output when discovery fails ({path}: HTTP {got})")
                out.extend(got)
        return out

    def preferred(self) -> tuple[list[APIResource], list[tuple[str, int]]]:
        """client-go's ServerPreferredResources: each group/resource once, from the group's preferred version or
        else the first version listing it; and the group versions whose discovery failed (``group/version``, with
        the HTTP status, or 0 for an empty resource list)."""
        cat = self.catalog()
        chosen: dict[tuple[str, str], APIResource] = {}
        failed: list[tuple[str, int]] = []
        for group, versions, pref in cat.groups:
            for v in versions:
                got = cat.lists[(group, v)]
                gv = f"{group}/{v}" if group else v
                if isinstance(got, int):
                    failed.append((gv, got))
                    continue
                if (group, v) in cat.empty:
                    failed.append((gv, 0))
                    continue
                for r in got:
                    if (group, r.name) in chosen and v != pref:
                        continue
                    chosen[(group, r.name)] = r
        return list(chosen.values()), failed
