"""The CIS check functions on the tricky cases: templates vs pods, init and ephemeral containers, exemptions that
cannot be forged, groups as subjects, admission webhooks and PSA labels, cluster-wide network policies, CSRs."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubecis.policies import cis, podsec
from kubecis.policies.objects import ObjectStore
from kubecis.policies.source import StoreSource, Undecided

RBAC = "rbac.authorization.k8s.io/v1"


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


BASE: list[dict[str, Any]] = [
    ns("default"), ns("kube-system"), ns("app"),
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "app"},
     "automountServiceAccountToken": False},
    {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
     "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
    {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "none"},
     "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": []},
    {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "r", "namespace": "app"}, "rules": []},
    {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "r", "namespace": "app"},
     "roleRef": {"kind": "Role", "name": "r"}, "subjects": []},
]


def src(*objs: dict[str, Any]) -> StoreSource:
    return StoreSource(ObjectStore.from_objects([*BASE, *objs]))


def lines(r: cis.Report) -> list[str]:
    return [f.line() for f in sorted(r.findings)]


def pod(name: str, namespace: str = "app", owner: tuple[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    spec.setdefault("containers", [{"name": "c"}])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def workload(kind: str, name: str, spec: dict[str, Any], owner: tuple[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "app"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    template = {"metadata": {}, "spec": spec}
    body = {"jobTemplate": {"spec": {"template": template}}} if kind == "CronJob" else {"template": template}
    api = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": body}


PRIV = {"containers": [{"name": "c", "securityContext": {"privileged": True}}]}


def privileged(s: StoreSource) -> list[str]:
    return lines(cis.pod_rule(s, "k", podsec.RULES["privileged"]))


def test_a_workload_is_reported_once_not_with_every_replica() -> None:
    s = src(workload("Deployment", "web", PRIV), workload("ReplicaSet", "web-1", PRIV, ("Deployment", "web")),
            pod("web-1-a", owner=("ReplicaSet", "web-1"), **PRIV),
            pod("web-1-b", owner=("ReplicaSet", "web-1"), **PRIV))
    assert privileged(s) == ["Deployment app/web container=c privileged=true"]


def test_an_object_differing_from_its_owner_or_without_one_is_reported() -> None:
    s = src(workload("Deployment", "web", {"containers": [{"name": "c"}]}),
            workload("ReplicaSet", "web-1", PRIV, ("Deployment", "web")),  # an old rollout, still privileged
            pod("orphan", owner=("ReplicaSet", "gone"), **PRIV),
            workload("CronJob", "nightly", PRIV), workload("Job", "nightly-1", PRIV, ("CronJob", "nightly")))
    assert privileged(s) == ["CronJob app/nightly container=c privileged=true",
                             "Pod app/orphan container=c privileged=true",
                             "ReplicaSet app/web-1 container=c privileged=true"]


def test_init_and_ephemeral_containers_count() -> None:
    s = src(pod("p", initContainers=[{"name": "init", "securityContext": {"privileged": True}}],
                ephemeralContainers=[{"name": "debug", "securityContext": {"privileged": True}}]))
    assert privileged(s) == ["Pod app/p ephemeralContainer=debug privileged=true",
                             "Pod app/p initContainer=init privileged=true"]


def test_only_real_control_plane_pods_are_exempt() -> None:
    mirror = {"labels": {"component": "kube-apiserver"}, "annotations": {"kubernetes.io/config.mirror": "x"}}
    real = pod("kube-apiserver-cp", "kube-system", **PRIV)
    real["metadata"].update(mirror)
    forged = pod("kube-apiserver-fake", "kube-system", **PRIV)
    forged["metadata"]["labels"] = {"component": "kube-apiserver"}  # the label alone is not a static pod
    elsewhere = pod("kube-apiserver-x", "app", **PRIV)
    elsewhere["metadata"].update(mirror)
    assert privileged(src(real, forged, elsewhere)) == [
        "Pod app/kube-apiserver-x container=c privileged=true",
        "Pod kube-system/kube-apiserver-fake container=c privileged=true"]


def binding(kind: str, name: str, role: str, subjects: list[dict[str, Any]], namespace: str = "",
            labels: dict[str, str] | None = None, role_kind: str = "ClusterRole") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels or {}}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta, "roleRef": {"kind": role_kind, "name": role},
            "subjects": subjects}


DEFAULTS = {"kubernetes.io/bootstrapping": "rbac-defaults"}


def test_default_bindings_are_exempt_and_the_label_cannot_be_borrowed() -> None:
    s = src(binding("ClusterRoleBinding", "cluster-admin", "cluster-admin",
                    [{"kind": "Group", "name": "system:masters"}], labels=DEFAULTS),
            binding("ClusterRoleBinding", "system:sneaky", "cluster-admin",
                    [{"kind": "User", "name": "mallory"}], labels=DEFAULTS),
            binding("ClusterRoleBinding", "kubeadm:cluster-admins", "cluster-admin",
                    [{"kind": "Group", "name": "kubeadm:cluster-admins"}]),
            binding("ClusterRoleBinding", "kubeadm:node-proxier", "cluster-admin",  # kubeadm's name, another role
                    [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]),
            binding("RoleBinding", "ns-admin", "cluster-admin", [{"kind": "User", "name": "bob"}], "app"))
    assert lines(cis.cluster_admin(s)) == [
        "ClusterRoleBinding kubeadm:node-proxier subject=ServiceAccount:kube-system/kube-proxy "
        "role=ClusterRole/cluster-admin",
        "ClusterRoleBinding system:sneaky subject=User:mallory role=ClusterRole/cluster-admin",
        "RoleBinding app/ns-admin subject=User:bob role=ClusterRole/cluster-admin"]
    assert lines(cis.cluster_admin(s, ["system:sneaky", "kubeadm:node-proxier", "ns-admin"])) == []


def test_groups_of_service_accounts_include_default_ones() -> None:
    s = src({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "reader"},
             "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]},
            binding("ClusterRoleBinding", "all-sa", "reader", [{"kind": "Group", "name": "system:serviceaccounts"}]),
            binding("RoleBinding", "dflt", "reader", [{"kind": "ServiceAccount", "name": "default"}], "app"))
    assert lines(cis.default_service_accounts(s)) == [
        "ClusterRoleBinding all-sa subject=Group:system:serviceaccounts role=ClusterRole/reader "
        "(includes default service accounts)",
        "RoleBinding app/dflt subject=ServiceAccount:app/default role=ClusterRole/reader"]
    assert lines(cis.secret_access(s)) == [
        "ClusterRoleBinding all-sa subject=Group:system:serviceaccounts role=ClusterRole/reader can=list secrets",
        "RoleBinding app/dflt subject=ServiceAccount:app/default role=ClusterRole/reader can=list secrets"]


def test_token_automount_pod_setting_wins_over_the_service_account() -> None:
    s = src(pod("off"), pod("on", automountServiceAccountToken=True),
            pod("other-sa", serviceAccountName="builder"), pod("sys", "kube-system"))
    assert lines(cis.token_automount(s)) == [
        "Pod app/on serviceAccount=default automountServiceAccountToken=true",
        "Pod app/other-sa serviceAccount=builder automountServiceAccountToken=unset (ServiceAccount: unset)"]


def webhook(name: str, selector: dict[str, Any] | None, resources: list[str]) -> dict[str, Any]:
    wh: dict[str, Any] = {"name": "w.example.com", "rules": [{"operations": ["CREATE"], "apiGroups": [""],
                                                            "apiVersions": ["v1"], "resources": resources}]}
    if selector is not None:
        wh["namespaceSelector"] = selector
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name}, "webhooks": [wh]}


def test_policy_mechanism_per_namespace() -> None:
    s = src(ns("psa", **{"pod-security.kubernetes.io/enforce": "baseline"}), ns("gk"),
            webhook("gatekeeper", {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                          "values": ["app", "default"]}]}, ["pods"]),
            webhook("cm-only", None, ["configmaps"]))
    r = cis.policy_mechanism(s)
    assert lines(r) == [f"Namespace {n} no pod-security.kubernetes.io/enforce label and no admission webhook or "
                        "policy on pods" for n in ("app", "default")]
    assert "Pod Security Admission enforces baseline in: psa" in r.notes
    assert "admission controls on pods: ValidatingWebhookConfiguration gatekeeper" in r.notes


def test_network_policies_including_cluster_wide_ones() -> None:
    netpol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "deny", "namespace": "app"}, "spec": {"podSelector": {}}}
    ccnp = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "ks"},
            "spec": {"endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system"}}}}
    assert lines(cis.network_policies(src(netpol, ccnp))) == ["Namespace default no NetworkPolicy"]
    gnp = {"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy", "metadata": {"name": "all"},
           "spec": {"selector": "all()"}}
    assert lines(cis.network_policies(src(gnp))) == []
    r = cis.network_policies(src())
    assert len(r.findings) == 3 and "holds no network policy of any kind" in r.notes[0]


def test_default_namespace_ignores_what_kubernetes_puts_there() -> None:
    system = [{"apiVersion": "v1", "kind": k, "metadata": {"name": n, "namespace": "default"}}
              for k, n in (("Service", "kubernetes"), ("Endpoints", "kubernetes"), ("ConfigMap", "kube-root-ca.crt"),
                           ("ServiceAccount", "default"), ("Event", "x.123"))]
    s = src(*system, pod("web", "default"),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}})
    assert lines(cis.default_namespace(s)) == ["Pod default/web", "Service default/web"]


def test_missing_kinds_cannot_decide() -> None:
    s = StoreSource(ObjectStore.from_objects([ns("a")]))
    with pytest.raises(Undecided, match="holds no Pod objects"):
        cis.pod_rule(s, "k", podsec.RULES["privileged"])
    with pytest.raises(Undecided, match="holds no Role objects"):
        cis.cluster_admin(s)


def _csr(tmp_path: Path, subject: str) -> str:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    key, req = tmp_path / "k.pem", tmp_path / "r.pem"
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(req),
                    "-subj", subject], check=True, capture_output=True)
    return base64.b64encode(req.read_bytes()).decode()


def test_system_masters_in_bindings_and_certificate_requests(tmp_path: Path) -> None:
    assert cis.csr_organizations(_csr(tmp_path, "/O=system:masters/O=devs/CN=eve")) == ["system:masters", "devs"]
    csrs = [{"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": n},
             "spec": {"request": _csr(tmp_path, subj), "username": user, "groups": groups}}
            for n, subj, user, groups in (("eve", "/O=system:masters/CN=eve", "bob", ["system:authenticated"]),
                                          ("ok", "/O=devs/CN=dan", "root", ["system:masters"]),
                                          ("fine", "/O=devs/CN=ann", "ann", ["devs"]))]
    s = src(*csrs, binding("ClusterRoleBinding", "more", "view", [{"kind": "Group", "name": "system:masters"}]))
    assert lines(cis.system_masters(s)) == [
        "CertificateSigningRequest eve requests O=system:masters",
        "CertificateSigningRequest ok requested by root in group system:masters",
        "ClusterRoleBinding more subject=Group:system:masters role=ClusterRole/view"]
    assert cis.system_masters(src()).undecided
