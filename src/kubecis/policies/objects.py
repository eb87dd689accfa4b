"""An object dump behind the :class:`~kubecis.host.cluster.Cluster` protocol (``kubecis run --objects PATH``).

:class:`ObjectStore` reads the dump once (:mod:`kubecis.policies.load`, streamed) and keeps every object as
compressed compact JSON plus its :func:`~kubecis.policies.project.project` projection (what the policy checks
read). :class:`ObjectsCluster` answers, read-only, what ``kubectl``/``oc`` and the probes ask an API server:

* discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/GROUP/VERSION``): the built-in resources below plus every
  kind found in the dump (a CustomResourceDefinition in the dump names its resource; otherwise the plural is
  derived from the kind as Kubernetes does);
* lists (all namespaces or one, ``limit``/``continue``, ``labelSelector``, ``fieldSelector``) and single GETs,
  answered in the API server's order (namespace, then name); an object is served under its kind's resource
  whatever version it was dumped in;
* ``SelfSubjectAccessReview`` POSTs (``kubectl auth can-i``), answered by the RBAC evaluator
  (:mod:`kubecis.policies.rbac`) for the impersonated user (``--as``/``--as-group``; an object dump has no
  current user, so ``can-i`` without ``--as`` is declined).

A list of a kind every cluster has (:data:`ALWAYS_PRESENT`) that the dump holds none of answers 503 with a Status
naming the missing kind: the dump is incomplete, and nothing may be concluded from an empty list. Other kinds
absent from the dump list as empty. Server-side Tables (kubectl's default output) are not reproduced from a dump.
"""

from __future__ import annotations

import json
import urllib.parse
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubecis.host.cluster import NotNative
from kubecis.policies.load import ObjectsError, iter_objects
from kubecis.policies.project import project
from kubecis.policies.selectors import SelectorError, parse_field_selector, parse_label_selector

__all__ = ["ALWAYS_PRESENT", "BUILTIN", "ObjectStore", "ObjectsCluster", "Resource"]

# kinds every cluster has objects of (kube-system pods, the default namespace and its service account, the RBAC
# bootstrap policy's roles and bindings in kube-system): a dump without them is incomplete
ALWAYS_PRESENT = ("Namespace", "Pod", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    name: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    singular: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def doc(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "singularName": self.singular or self.kind.lower(),
                             "namespaced": self.namespaced, "kind": self.kind, "verbs": ["get", "list"]}
        if self.short_names:
            d["shortNames"] = list(self.short_names)
        if self.categories:
            d["categories"] = list(self.categories)
        return d


def _r(gv: str, name: str, kind: str, namespaced: bool, short: str = "", cat: bool = False) -> Resource:
    group, _, version = gv.rpartition("/")
    return Resource(group, version, name, kind, namespaced, tuple(short.split(",")) if short else (),
                    ("all",) if cat else ())


BUILTIN: tuple[Resource, ...] = (
    _r("v1", "configmaps", "ConfigMap", True, "cm"),
    _r("v1", "endpoints", "Endpoints", True, "ep"),
    _r("v1", "events", "Event", True, "ev"),
    _r("v1", "limitranges", "LimitRange", True, "limits"),
    _r("v1", "namespaces", "Namespace", False, "ns"),
    _r("v1", "nodes", "Node", False, "no"),
    _r("v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "pvc"),
    _r("v1", "persistentvolumes", "PersistentVolume", False, "pv"),
    _r("v1", "pods", "Pod", True, "po", cat=True),
    _r("v1", "podtemplates", "PodTemplate", True),
    _r("v1", "replicationcontrollers", "ReplicationController", True, "rc", cat=True),
    _r("v1", "resourcequotas", "ResourceQuota", True, "quota"),
    _r("v1", "secrets", "Secret", True),
    _r("v1", "serviceaccounts", "ServiceAccount", True, "sa"),
    _r("v1", "services", "Service", True, "svc", cat=True),
    _r("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
    _r("admissionregistration.k8s.io/v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", False),
    _r("admissionregistration.k8s.io/v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding",
       False),
    _r("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration",
       False),
    _r("apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", False, "crd,crds"),
    _r("apps/v1", "controllerrevisions", "ControllerRevision", True),
    _r("apps/v1", "daemonsets", "DaemonSet", True, "ds", cat=True),
    _r("apps/v1", "deployments", "Deployment", True, "deploy", cat=True),
    _r("apps/v1", "replicasets", "ReplicaSet", True, "rs", cat=True),
    _r("apps/v1", "statefulsets", "StatefulSet", True, "sts", cat=True),
    _r("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, "hpa", cat=True),
    _r("batch/v1", "cronjobs", "CronJob", True, "cj", cat=True),
    _r("batch/v1", "jobs", "Job", True, cat=True),
    _r("certificates.k8s.io/v1", "certificatesigningrequests", "CertificateSigningRequest", False, "csr"),
    _r("coordination.k8s.io/v1", "leases", "Lease", True),
    _r("discovery.k8s.io/v1", "endpointslices", "EndpointSlice", True),
    _r("networking.k8s.io/v1", "ingressclasses", "IngressClass", False),
    _r("networking.k8s.io/v1", "ingresses", "Ingress", True, "ing"),
    _r("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", True, "netpol"),
    _r("node.k8s.io/v1", "runtimeclasses", "RuntimeClass", False),
    _r("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", True, "pdb"),
    _r("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _r("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False),
    _r("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True),
    _r("rbac.authorization.k8s.io/v1", "roles", "Role", True),
    _r("scheduling.k8s.io/v1", "priorityclasses", "PriorityClass", False, "pc"),
    _r("storage.k8s.io/v1", "csidrivers", "CSIDriver", False),
    _r("storage.k8s.io/v1", "storageclasses", "StorageClass", False, "sc"),
)
_AUTHZ = Resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False)
# API groups that moved: objects dumped under the old group are served under the new one
_LEGACY_GROUP = {("extensions", "Deployment"): "apps", ("extensions", "DaemonSet"): "apps",
                 ("extensions", "ReplicaSet"): "apps", ("extensions", "NetworkPolicy"): "networking.k8s.io",
                 ("extensions", "Ingress"): "networking.k8s.io", ("apps", "ReplicationController"): ""}
SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def plural(kind: str) -> str:
    """Kubernetes' default plural of a kind (gengo's namer, as kubectl's RESTMapper guesses it)."""
    k = kind.lower()
    if k.endswith(("s", "x", "z", "ch", "sh")):
        return k + "es"
    if k.endswith("y") and len(k) > 1 and k[-2] not in "aeiou":
        return k[:-1] + "ies"
    return k + "s"


def group_of(api_version: str, kind: str) -> str:
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return _LEGACY_GROUP.get((group, kind), group)


@dataclass(slots=True)
class _Entry:
    namespace: str
    name: str
    blob: bytes  # zlib(compact JSON of the full object)
    proj: dict[str, Any]


@dataclass(slots=True)
class _Kind:
    group: str
    kind: str
    versions: list[str] = field(default_factory=list)
    entries: list[_Entry] = field(default_factory=list)
    namespaced: bool = False


class ObjectStore:
    """Every object of a dump, once, indexed by (group, kind)."""

    def __init__(self, source: str = "objects") -> None:
        self.source = source
        self.kinds: dict[tuple[str, str], _Kind] = {}
        self.count = 0

    @classmethod
    def load(cls, path: str | Path) -> ObjectStore:
        store = cls(str(path))
        seen: set[tuple[str, str, str, str]] = set()
        for obj in iter_objects(path):
            store.add(obj, seen)
        if store.count == 0:
            raise ObjectsError(f"{path}: no Kubernetes objects")
        store.finish()
        return store

    @classmethod
    def from_objects(cls, objs: Iterator[dict[str, Any]] | list[dict[str, Any]], source: str = "objects"
                     ) -> ObjectStore:
        store = cls(source)
        seen: set[tuple[str, str, str, str]] = set()
        for obj in objs:
            store.add(obj, seen)
        store.finish()
        return store

    def add(self, obj: dict[str, Any], seen: set[tuple[str, str, str, str]]) -> None:
        kind = str(obj["kind"])
        api = str(obj.get("apiVersion") or "v1")
        group = group_of(api, kind)
        meta = obj["metadata"]
        ns, name = str(meta.get("namespace") or ""), str(meta["name"])
        key = (group, kind, ns, name)
        if key in seen:  # the same object dumped twice (overlapping kubectl get): the first one counts
            return
        seen.add(key)
        k = self.kinds.get((group, kind))
        if k is None:
            k = self.kinds[(group, kind)] = _Kind(group, kind)
        version = api.rpartition("/")[2]
        if version not in k.versions:
            k.versions.append(version)
        if ns:
            k.namespaced = True
        blob = zlib.compress(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(), 1)
        k.entries.append(_Entry(ns, name, blob, project(obj)))
        self.count += 1

    def finish(self) -> None:
        for k in self.kinds.values():
            k.entries.sort(key=lambda e: (e.namespace, e.name))

    # ---- what the policy checks read -------------------------------------------------------------------
    def projections(self, kind: str, group: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for k in self.kinds.values():
            if k.kind == kind and (group is None or k.group == group):
                out.extend(e.proj for e in k.entries)
        return out

    def all_projections(self) -> Iterator[dict[str, Any]]:
        for k in self.kinds.values():
            for e in k.entries:
                yield e.proj

    @staticmethod
    def full(e: _Entry) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(zlib.decompress(e.blob))
        return doc


# --------------------------------------------------------------------------- the Cluster


def _status(code: int, reason: str, message: str) -> tuple[int, bytes]:
    doc = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason, "code": code}
    return code, json.dumps(doc).encode()


def _ok(doc: Any) -> tuple[int, bytes]:
    return 200, json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


class ObjectsCluster:
    """Read-only API answers from an :class:`ObjectStore`."""

    namespace = "default"

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._rbac: Any = None
        self.resources = self._resources()

    @classmethod
    def load(cls, path: str | Path) -> ObjectsCluster:
        return cls(ObjectStore.load(path))

    # ---- discovery --------------------------------------------------------------------------------------
    def _resources(self) -> list[Resource]:
        out = list(BUILTIN)
        known = {(r.group, r.kind) for r in out}
        crds: dict[tuple[str, str], Resource] = {}
        for p in self.store.projections("CustomResourceDefinition"):
            spec = p.get("spec") if isinstance(p.get("spec"), dict) else {}
            assert isinstance(spec, dict)
            names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
            assert isinstance(names, dict)
            versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served", True)]
            storage = next((v for v in versions if v.get("storage")), versions[0] if versions else {"name": "v1"})
            group, kind = str(spec.get("group", "")), str(names.get("kind", ""))
            if group and kind:
                crds[(group, kind)] = Resource(
                    group, str(storage.get("name")), str(names.get("plural") or plural(kind)), kind,
                    spec.get("scope") == "Namespaced", tuple(str(s) for s in names.get("shortNames") or ()),
                    tuple(str(c) for c in names.get("categories") or ()), str(names.get("singular") or ""))
        for (group, kind), k in sorted(self.store.kinds.items()):
            if (group, kind) in known:
                continue
            r = crds.pop((group, kind), None)
            if r is None:
                r = Resource(group, k.versions[0] if k.versions else "v1", plural(kind), kind, k.namespaced)
            out.append(r)
        out.extend(crds.values())
        return out

    def _groups(self) -> list[tuple[str, str]]:
        seen: dict[tuple[str, str], None] = {}
        for r in [*self.resources, _AUTHZ]:
            seen.setdefault((r.group, r.version), None)
        return list(seen)

    def _discovery(self, parts: list[str]) -> tuple[int, bytes] | None:
        if parts == ["api"]:
            return _ok({"kind": "APIVersions", "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "objects"}]})
        if parts == ["apis"]:
            groups: dict[str, list[str]] = {}
            for g, v in self._groups():
                if g:
                    groups.setdefault(g, []).append(v)
            return _ok({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                for g, vs in groups.items()]})
        gv: tuple[str, str] | None = None
        if len(parts) == 2 and parts[0] == "api":
            gv = ("", parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            gv = (parts[1], parts[2])
        if gv is None:
            return None
        rs = [r for r in [*self.resources, _AUTHZ] if (r.group, r.version) == gv]
        if not rs:
            return _status(404, "NotFound", "the server could not find the requested resource")
        docs = [r.doc() for r in rs]
        for d in docs:
            if d["name"] == _AUTHZ.name:
                d["verbs"] = ["create"]
        return _ok({"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": gv[0] + "/" + gv[1] if gv[0] else gv[1], "resources": docs})

    # ---- reads ------------------------------------------------------------------------------------------
    def _entries(self, r: Resource) -> list[_Entry]:
        k = self.store.kinds.get((r.group, r.kind))
        return k.entries if k is not None else []

    def get(self, path: str, query: Mapping[str, str] | None = None, *, table: bool = False) -> tuple[int, bytes]:
        if table:
            raise NotNative("a server-side Table (kubectl's default output) from an object dump")
        u = urllib.parse.urlsplit(path)
        parts = [urllib.parse.unquote(p) for p in u.path.split("/") if p]
        q = dict(query or {})
        q.update({k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()})
        d = self._discovery(parts)
        if d is not None:
            return d
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return _status(404, "NotFound", "the server could not find the requested resource")
        ns: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        r = next((x for x in self.resources if x.group == group and x.version == version and rest
                  and x.name == rest[0]), None)
        if r is None or len(rest) > 2 or (ns is not None and not r.namespaced):
            return _status(404, "NotFound", "the server could not find the requested resource")
        if len(rest) == 2:
            return self._get_one(r, ns, rest[1])
        return self._list(r, ns, q)

    def _missing(self, r: Resource) -> tuple[int, bytes] | None:
        if r.group in ("", "rbac.authorization.k8s.io") and r.kind in ALWAYS_PRESENT and not self._entries(r):
            return _status(503, "ServiceUnavailable",
                           f"the object dump {self.store.source} holds no {r.kind} objects (every cluster has some: "
                           "the dump is incomplete)")
        return None

    def _get_one(self, r: Resource, ns: str | None, name: str) -> tuple[int, bytes]:
        for e in self._entries(r):
            if e.name == name and (ns is None or e.namespace == ns):
                return _ok(ObjectStore.full(e))
        missing = self._missing(r)
        if missing is not None:
            return missing
        return _status(404, "NotFound", f'{r.name}{"." + r.group if r.group else ""} "{name}" not found')

    def _list(self, r: Resource, ns: str | None, q: dict[str, str]) -> tuple[int, bytes]:
        missing = self._missing(r)
        if missing is not None:
            return missing
        try:
            label_pred = parse_label_selector(q["labelSelector"]) if q.get("labelSelector") else None
            field_pred = parse_field_selector(q["fieldSelector"]) if q.get("fieldSelector") else None
        except SelectorError as exc:
            return _status(400, "BadRequest", str(exc))
        try:
            start = int(q.get("continue") or 0)
            limit = int(q.get("limit") or 0)
        except ValueError:
            return _status(400, "BadRequest", "invalid limit or continue")
        items: list[dict[str, Any]] = []
        cont = ""
        entries = self._entries(r)
        for i in range(start, len(entries)):
            e = entries[i]
            if ns is not None and e.namespace != ns:
                continue
            if label_pred is not None and not label_pred(e.proj["metadata"].get("labels") or {}):
                continue
            obj = ObjectStore.full(e)
            if field_pred is not None and not field_pred(obj):
                continue
            if limit and len(items) >= limit:
                cont = str(i)
                break
            obj.pop("kind", None)
            obj.pop("apiVersion", None)
            items.append(obj)
        meta: dict[str, Any] = {"resourceVersion": "1"}
        if cont:
            meta["continue"] = cont
        return _ok({"kind": r.kind + "List", "apiVersion": r.group_version, "metadata": meta, "items": items})

    # ---- access reviews ---------------------------------------------------------------------------------
    def rbac(self) -> Any:
        from kubecis.policies.rbac import RBAC

        if self._rbac is None:
            self._rbac = RBAC(p for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
                              for p in self.store.projections(kind, "rbac.authorization.k8s.io"))
        return self._rbac

    def post(self, path: str, body: bytes, impersonate: str | None = None, groups: Sequence[str] = ()
             ) -> tuple[int, bytes]:
        if path.split("?")[0] != SSAR_PATH:
            return _status(405, "MethodNotAllowed", "an object dump is read-only")
        if impersonate is None:
            raise NotNative("auth can-i without --as (an object dump has no current user)")
        try:
            doc = json.loads(body)
        except ValueError:
            return _status(400, "BadRequest", "invalid SelfSubjectAccessReview")
        return 201, json.dumps(review(self.rbac(), doc, impersonate, groups)).encode()


def review(rbac: Any, doc: Any, user: str, groups: Sequence[str]) -> dict[str, Any]:
    """A SelfSubjectAccessReview answered for the impersonated ``user``/``groups``."""
    from kubecis.policies.rbac import Request, impersonated

    spec = doc.get("spec") if isinstance(doc, dict) and isinstance(doc.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    ra = spec.get("resourceAttributes")
    nra = spec.get("nonResourceAttributes")
    if isinstance(ra, dict):
        req = Request(verb=str(ra.get("verb", "")), resource=str(ra.get("resource", "")),
                      api_group=str(ra.get("group", "")), subresource=str(ra.get("subresource", "")),
                      name=str(ra.get("name", "")), namespace=str(ra.get("namespace", "")))
    elif isinstance(nra, dict):
        req = Request(verb=str(nra.get("verb", "")), path=str(nra.get("path", "")) or "/")
    else:
        req = Request(verb="")
    decision = rbac.authorize(impersonated(user, groups), req)
    status: dict[str, Any] = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    out = dict(doc) if isinstance(doc, dict) else {}
    out.update({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "status": status})
    return out
