"""The default system objects CIS accepts: never reported as findings (docs/policies.md lists the same rules).

RBAC (bindings and roles):

* the API server's RBAC bootstrap policy: a ClusterRoleBinding or RoleBinding named ``system:...`` (or the
  ``cluster-admin`` ClusterRoleBinding) carrying ``kubernetes.io/bootstrapping: rbac-defaults``, whose subjects are
  all Kubernetes system identities: users and groups named ``system:...``, or service accounts in
  ``kube-system``. The same label on a binding to anyone else does not exempt it.
* kubeadm's bindings, matched exactly (name, role and subjects): see :data:`KUBEADM_BINDINGS`.
* roles: the bootstrap ClusterRoles and Roles (``cluster-admin``, ``admin``, ``edit``, ``view``, ``system:...``,
  labelled ``rbac-defaults``) for the wildcard check. Aggregated ClusterRoles are never reported for wildcards
  (they repeat the rules of the roles they aggregate, which are reported themselves).
* extra binding names a benchmark set accepts (``--allow``, e.g. k3s's ``helm-kube-system-traefik``).

Workloads (pod security checks 5.2.x): in ``kube-system`` only, the static control-plane pods (mirror pods of
``kube-apiserver``, ``kube-controller-manager``, ``kube-scheduler``, ``etcd``: annotation
``kubernetes.io/config.mirror`` or an owner of kind Node, and the ``component`` label) and kube-proxy (the
``kube-proxy`` DaemonSet, its pods). Service-account token checks (5.1.6) exempt every workload in
``kube-system``: cluster components there talk to the API by design.
"""

from __future__ import annotations

from typing import Any

from kubecis.policies.rbac import Binding, RoleDef, Subject

__all__ = ["KUBEADM_BINDINGS", "is_default_binding", "is_default_role", "is_system_workload"]

_BOOTSTRAP = ("kubernetes.io/bootstrapping", "rbac-defaults")
_NODE_TOKEN = "Group:system:bootstrappers:kubeadm:default-node-token"

# (kind, namespace, name) -> (roleRef, subjects) of the bindings kubeadm creates
KUBEADM_BINDINGS: dict[tuple[str, str, str], tuple[str, frozenset[str]]] = {
    ("ClusterRoleBinding", "", "kubeadm:cluster-admins"): (
        "ClusterRole/cluster-admin", frozenset({"Group:kubeadm:cluster-admins"})),
    ("ClusterRoleBinding", "", "kubeadm:kubelet-bootstrap"): (
        "ClusterRole/system:node-bootstrapper", frozenset({_NODE_TOKEN})),
    ("ClusterRoleBinding", "", "kubeadm:node-autoapprove-bootstrap"): (
        "ClusterRole/system:certificates.k8s.io:certificatesigningrequests:nodeclient", frozenset({_NODE_TOKEN})),
    ("ClusterRoleBinding", "", "kubeadm:node-autoapprove-certificate-rotation"): (
        "ClusterRole/system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        frozenset({"Group:system:nodes"})),
    ("ClusterRoleBinding", "", "kubeadm:get-nodes"): ("ClusterRole/kubeadm:get-nodes", frozenset({_NODE_TOKEN})),
    ("ClusterRoleBinding", "", "kubeadm:node-proxier"): (
        "ClusterRole/system:node-proxier", frozenset({"ServiceAccount:kube-system/kube-proxy"})),
    ("ClusterRoleBinding", "", "system:coredns"): (
        "ClusterRole/system:coredns", frozenset({"ServiceAccount:kube-system/coredns"})),
    ("RoleBinding", "kube-system", "kube-proxy"): ("Role/kube-proxy", frozenset({_NODE_TOKEN})),
    ("RoleBinding", "kube-system", "kubeadm:kubelet-config"): (
        "Role/kubeadm:kubelet-config", frozenset({"Group:system:nodes", _NODE_TOKEN})),
    ("RoleBinding", "kube-system", "kubeadm:nodes-kubeadm-config"): (
        "Role/kubeadm:nodes-kubeadm-config", frozenset({"Group:system:nodes", _NODE_TOKEN})),
    ("RoleBinding", "kube-public", "kubeadm:bootstrap-signer-clusterinfo"): (
        "Role/kubeadm:bootstrap-signer-clusterinfo", frozenset({"User:system:anonymous"})),
}


def _system_identity(s: Subject, binding_namespace: str) -> bool:
    if s.kind in ("User", "Group"):
        return s.name.startswith("system:")
    if s.kind == "ServiceAccount":
        return (s.namespace or binding_namespace) == "kube-system"
    return False


def is_default_binding(b: Binding, allow: frozenset[str] = frozenset()) -> bool:
    if b.name in allow:
        return True
    bootstrap = b.labels.get(_BOOTSTRAP[0]) == _BOOTSTRAP[1] and (
        b.name.startswith("system:") or (b.kind == "ClusterRoleBinding" and b.name == "cluster-admin"))
    if bootstrap and b.subjects and all(_system_identity(s, b.namespace) for s in b.subjects):
        return True
    kubeadm = KUBEADM_BINDINGS.get((b.kind, b.namespace, b.name))
    if kubeadm is not None:
        role, subjects = kubeadm
        return b.role_ref == role and frozenset(s.label(b.namespace) for s in b.subjects) == subjects
    return False


def is_default_role(r: RoleDef) -> bool:
    if r.labels.get(_BOOTSTRAP[0]) != _BOOTSTRAP[1]:
        return False
    return r.name.startswith("system:") or (r.kind == "ClusterRole" and r.name in ("cluster-admin", "admin", "edit",
                                                                                    "view"))


_CONTROL_PLANE = frozenset({"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"})


def is_system_workload(obj: dict[str, Any]) -> bool:
    """A kube-system control-plane static pod or kube-proxy (DaemonSet or its pods)."""
    meta = obj.get("metadata") or {}
    if meta.get("namespace") != "kube-system":
        return False
    kind = obj.get("kind")
    labels = meta.get("labels") or {}
    owners = meta.get("ownerReferences") or []
    if kind == "Pod":
        mirror = "kubernetes.io/config.mirror" in (meta.get("annotations") or {}) or any(
            o.get("kind") == "Node" for o in owners)
        if mirror and labels.get("component") in _CONTROL_PLANE:
            return True
        return labels.get("k8s-app") == "kube-proxy" and any(
            o.get("kind") == "DaemonSet" and o.get("name") == "kube-proxy" for o in owners)
    return kind == "DaemonSet" and meta.get("name") == "kube-proxy"
