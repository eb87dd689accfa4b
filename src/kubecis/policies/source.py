"""Where the policy checks get their objects: a dump (:class:`StoreSource`) or any Cluster (:class:`ClusterSource`).

Both give projections (:mod:`kubecis.policies.project`) per kind, read once per source and kept for every check of
a run. A kind that cannot be read raises :class:`Undecided` with the reason (the check is then WARN, never PASS):

* live/replayed cluster: the API is unreachable, the list is forbidden or fails; a list answering 404 means the
  kind is not served (custom resources, newer built-ins) and counts as none;
* dump: a kind every cluster has (:data:`~kubecis.policies.objects.ALWAYS_PRESENT`) with no object in the dump.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Iterator
from typing import Any, Protocol

from kubecis.errors import AuditError, HostError
from kubecis.host.base import NotInSnapshot
from kubecis.host.cluster import APIDiscovery, Cluster, ClusterUnreachable
from kubecis.policies.objects import ALWAYS_PRESENT, ObjectsCluster, ObjectStore
from kubecis.policies.project import project

__all__ = ["KINDS", "ClusterSource", "Source", "StoreSource", "Undecided", "source_for"]


class Undecided(AuditError):
    """The objects a check needs cannot be had; ``str()`` says why."""


# kind -> (group, version, resource, served by every cluster)
KINDS: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("", "Pod"): ("v1", "pods", True),
    ("", "Namespace"): ("v1", "namespaces", True),
    ("", "ServiceAccount"): ("v1", "serviceaccounts", True),
    ("", "ReplicationController"): ("v1", "replicationcontrollers", True),
    ("apps", "Deployment"): ("v1", "deployments", True),
    ("apps", "StatefulSet"): ("v1", "statefulsets", True),
    ("apps", "DaemonSet"): ("v1", "daemonsets", True),
    ("apps", "ReplicaSet"): ("v1", "replicasets", True),
    ("batch", "Job"): ("v1", "jobs", True),
    ("batch", "CronJob"): ("v1", "cronjobs", True),
    ("rbac.authorization.k8s.io", "Role"): ("v1", "roles", True),
    ("rbac.authorization.k8s.io", "ClusterRole"): ("v1", "clusterroles", True),
    ("rbac.authorization.k8s.io", "RoleBinding"): ("v1", "rolebindings", True),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ("v1", "clusterrolebindings", True),
    ("networking.k8s.io", "NetworkPolicy"): ("v1", "networkpolicies", True),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): ("v1", "validatingwebhookconfigurations",
                                                                         True),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): ("v1", "mutatingwebhookconfigurations", True),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): ("v1", "validatingadmissionpolicies", False),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): ("v1", "validatingadmissionpolicybindings",
                                                                           False),
    ("certificates.k8s.io", "CertificateSigningRequest"): ("v1", "certificatesigningrequests", True),
    ("cilium.io", "CiliumNetworkPolicy"): ("v2", "ciliumnetworkpolicies", False),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"): ("v2", "ciliumclusterwidenetworkpolicies", False),
    ("crd.projectcalico.org", "NetworkPolicy"): ("v1", "networkpolicies", False),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"): ("v1", "globalnetworkpolicies", False),
}
WORKLOADS = (("", "Pod"), ("", "ReplicationController"), ("apps", "Deployment"), ("apps", "StatefulSet"),
             ("apps", "DaemonSet"), ("apps", "ReplicaSet"), ("batch", "Job"), ("batch", "CronJob"))
RBAC_KINDS = tuple(("rbac.authorization.k8s.io", k) for k in ("Role", "ClusterRole", "RoleBinding",
                                                              "ClusterRoleBinding"))


class Source(Protocol):
    description: str

    def objects(self, group: str, kind: str) -> list[dict[str, Any]]:
        """Projections of every object of the kind (raises Undecided)."""
        ...

    def namespaced_in(self, namespace: str) -> Iterator[dict[str, Any]]:
        """Projections of every namespaced object in ``namespace``, of every kind (raises Undecided)."""
        ...


class StoreSource:
    """The objects of a dump."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.description = f"the object dump {store.source}"

    def objects(self, group: str, kind: str) -> list[dict[str, Any]]:
        objs = self.store.projections(kind, group)
        if not objs and kind in ALWAYS_PRESENT and group in ("", "rbac.authorization.k8s.io"):
            raise Undecided(f"{self.description} holds no {kind} objects (every cluster has some: the dump is "
                            f"incomplete; dump {kind}s too)")
        return objs

    def namespaced_in(self, namespace: str) -> Iterator[dict[str, Any]]:
        self.objects("", "Namespace")
        for p in self.store.all_projections():
            if p["metadata"].get("namespace") == namespace:
                yield p


class ClusterSource:
    """The objects of a cluster read through the Cluster protocol (live, replayed or recorded)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.description = "the cluster"
        self._cache: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # a transport failure, remembered: every check of a run asks, and an unreachable server may take
        # its whole timeout to say so each time
        self._broken = ""

    def _get(self, path: str, query: dict[str, str]) -> tuple[int, bytes]:
        if self._broken:
            raise Undecided(self._broken)
        try:
            return self.cluster.get(path, query)
        except ClusterUnreachable as exc:
            self._broken = f"the cluster API at {exc.host} is not reachable"
        except NotInSnapshot as exc:
            raise Undecided(f"not in snapshot: {exc}") from None
        except HostError as exc:
            self._broken = str(exc)
        raise Undecided(self._broken)

    def _list(self, path: str, what: str, optional: bool) -> list[dict[str, Any]] | None:
        out: list[dict[str, Any]] = []
        q = {"limit": "500"}
        while True:
            status, body = self._get(path, q)
            if status == 404 and optional:
                return None
            if status != 200:
                raise Undecided(f"listing {what}: {_status_text(status, body)}")
            try:
                doc = json.loads(body)
            except ValueError:
                raise Undecided(f"listing {what}: the answer is not JSON") from None
            if not isinstance(doc, dict):
                raise Undecided(f"listing {what}: the answer is not a list")
            kind = str(doc.get("kind", "")).removesuffix("List")
            api = str(doc.get("apiVersion", ""))
            for it in doc.get("items") or []:
                if isinstance(it, dict) and isinstance(it.get("metadata"), dict):
                    it.setdefault("kind", kind)
                    it.setdefault("apiVersion", api)
                    out.append(project(it))
            cont = (doc.get("metadata") or {}).get("continue")
            if not cont:
                return out
            q = {"limit": "500", "continue": str(cont)}

    def objects(self, group: str, kind: str) -> list[dict[str, Any]]:
        key = (group, kind)
        if key in self._cache:
            return self._cache[key]
        version, resource, always = KINDS[key]
        base = f"/apis/{group}/{version}" if group else f"/api/{version}"
        got = self._list(f"{base}/{resource}", f"{resource}{'.' + group if group else ''}", optional=not always)
        if got is None:
            got = []
        self._cache[key] = got
        return got

    def namespaced_in(self, namespace: str) -> Iterator[dict[str, Any]]:
        try:
            resources, failed = APIDiscovery(self.cluster).preferred()
        except ClusterUnreachable as exc:
            raise Undecided(f"the cluster API at {exc.host} is not reachable") from None
        except NotInSnapshot as exc:
            raise Undecided(f"not in snapshot: {exc}") from None
        except HostError as exc:
            raise Undecided(str(exc)) from None
        if any(code for _, code in failed):
            raise Undecided(f"discovery failed for {', '.join(gv for gv, code in failed if code)}")
        for r in resources:
            if not r.namespaced or "list" not in r.verbs:
                continue
            got = self._list(r.collection(namespace), f"{r.name} in {namespace}", optional=True)
            yield from got or []


def _status_text(status: int, body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("message"):
        return f"HTTP {status}: {doc['message']}"
    return f"HTTP {status}"


_SOURCES: weakref.WeakKeyDictionary[Any, Source] = weakref.WeakKeyDictionary()


def source_for(cluster: Cluster | None) -> Source:
    """The object source of a cluster, cached per cluster object (every check of a run reads a kind once)."""
    if cluster is None:
        raise Undecided("no cluster is configured (kubectl's configuration, or kubecis run --objects PATH)")
    with contextlib.suppress(TypeError):
        cached = _SOURCES.get(cluster)
        if cached is not None:
            return cached
    src: Source = StoreSource(cluster.store) if isinstance(cluster, ObjectsCluster) else ClusterSource(cluster)
    with contextlib.suppress(TypeError):
        _SOURCES[cluster] = src
    return src
