"""Node facts from the API's Node objects, node selection, roles and platform.

Everything here is a pure function of plain API objects (JSON dicts), so it is tested with object dumps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubecis.errors import UsageError

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ETCD_LABELS = ("node-role.kubernetes.io/etcd",)
CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What the API says about one node (``Node`` object), plus the control-plane pods seen on it."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[tuple[str, str, str], ...] = ()  # (key, value, effect)
    ready: bool = True
    ready_reason: str = ""
    unschedulable: bool = False
    provider_id: str = ""
    kubelet_version: str = ""
    os_image: str = ""
    components: tuple[str, ...] = ()  # control-plane/etcd pods running on it (kube-system mirror pods)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any], components: Iterable[str] = ()) -> NodeFacts:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        info = status.get("nodeInfo") or {}
        ready, reason = False, "no Ready condition reported"
        for c in status.get("conditions") or []:
            if isinstance(c, dict) and c.get("type") == "Ready":
                ready = c.get("status") == "True"
                reason = "" if ready else (f"Ready={c.get('status')}"
                                           + (f" ({c.get('reason')}: {c.get('message')})" if c.get("reason") else ""))
        taints = tuple((str(t.get("key", "")), str(t.get("value", "") or ""), str(t.get("effect", "")))
                       for t in spec.get("taints") or [] if isinstance(t, dict))
        return cls(
            name=str(meta.get("name", "")),
            labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
            taints=taints,
            ready=ready,
            ready_reason=reason,
            unschedulable=bool(spec.get("unschedulable")),
            provider_id=str(spec.get("providerID") or ""),
            kubelet_version=str(info.get("kubeletVersion") or ""),
            os_image=str(info.get("osImage") or ""),
            components=tuple(sorted(set(components))),
        )


def components_by_node(pods: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """node name → control-plane components whose pods run there (kubeadm/RKE2 static pods in kube-system:
    label ``component``, else the name prefix of ``<component>-<node>``)."""
    out: dict[str, set[str]] = {}
    known = (*CONTROL_PLANE_COMPONENTS, "etcd")
    for p in pods:
        meta, spec = p.get("metadata") or {}, p.get("spec") or {}
        node = spec.get("nodeName")
        if not node:
            continue
        comp = str((meta.get("labels") or {}).get("component", ""))
        if comp not in known:
            name = str(meta.get("name", ""))
            comp = next((k for k in known if name == f"{k}-{node}"), "")
        if comp:
            out.setdefault(str(node), set()).add(comp)
    return out


def roles(node: NodeFacts) -> tuple[list[str], list[str]]:
    """(roles, reasons): ``control-plane`` from labels, taints or its components running there; ``etcd`` from
    the RKE2 label or an etcd pod there; ``worker`` always (every node runs a kubelet: kube-bench's node target
    always runs)."""
    out: list[str] = []
    why: list[str] = []
    label = next((k for k in CONTROL_PLANE_LABELS if k in node.labels), "")
    taint = next((t[0] for t in node.taints if t[0] in CONTROL_PLANE_LABELS), "")
    running = [c for c in CONTROL_PLANE_COMPONENTS if c in node.components]
    if label or taint or running:
        out.append("control-plane")
        why.append("control-plane: " + "; ".join(x for x in (
            f"label {label}" if label else "", f"taint {taint}" if taint else "",
            f"running {', '.join(running)}" if running else "") if x))
    else:
        why.append("control-plane: no control-plane label or taint and no control-plane pod runs there")
    etcd_label = next((k for k in ETCD_LABELS if k in node.labels), "")
    if etcd_label or "etcd" in node.components:
        out.append("etcd")
        why.append("etcd: " + (f"label {etcd_label}" if etcd_label else "an etcd pod runs there"))
    out.append("worker")
    why.append("worker: every node runs a kubelet")
    return out, why


def platform(node: NodeFacts, server_git_version: str = "") -> tuple[str, str]:
    """(platform, why): ``eks``, ``gke``, ``aks``, ``k3s``, ``rke2r``, ... or ``""`` for upstream Kubernetes.

    Node labels first (managed node pools label their nodes), then the providerID, then the kubelet and API
    server version strings (``v1.30.2-eks-...``, ``v1.29.4-gke.100``, ``v1.28.5+k3s1``, ``v1.28.5+rke2r1``)."""
    labels = node.labels
    if any(k.startswith("eks.amazonaws.com/") for k in labels):
        return "eks", "node label eks.amazonaws.com/*"
    if any(k.startswith("cloud.google.com/gke-") for k in labels):
        return "gke", "node label cloud.google.com/gke-*"
    if any(k.startswith("kubernetes.azure.com/") for k in labels):
        return "aks", "node label kubernetes.azure.com/*"
    itype = labels.get("node.kubernetes.io/instance-type", "")
    if itype in ("k3s", "rke2"):
        return ("k3s" if itype == "k3s" else "rke2r"), f"node label node.kubernetes.io/instance-type={itype}"
    if node.provider_id.startswith("k3s://"):
        return "k3s", f"providerID {node.provider_id}"
    from kubecis.benchmark.versions import platform_of

    for what, gv in (("kubelet version", node.kubelet_version), ("API server version", server_git_version)):
        p, _ = platform_of(gv)
        if p:
            return p, f"{what} {gv}"
    return "", "no platform label, providerID or version suffix: upstream Kubernetes"


# ---- selection --------------------------------------------------------------------------------------------

_KEY = r"(?:[A-Za-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str  # =, !=, in, notin, exists, !exists
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        v = labels.get(self.key)
        if self.op in ("=", "=="):
            return has and v == self.values[0]
        if self.op == "!=":
            return not has or v != self.values[0]
        if self.op == "in":
            return has and v in self.values
        if self.op == "notin":
            return not has or v not in self.values
        if self.op == "exists":
            return has
        return not has


def parse_selector(text: str) -> list[Requirement]:
    """A Kubernetes label selector (``a=b,c!=d,e in (x,y),f notin (z),g,!h``), parsed like
    apimachinery's; :class:`UsageError` naming the bad term."""
    out: list[Requirement] = []
    terms: list[str] = []
    depth, cur = 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    for raw in terms:
        t = raw.strip()
        if not t:
            raise UsageError(f"--selector {text!r}: empty term")
        m = re.fullmatch(rf"({_KEY})\s+(in|notin)\s+\(([^()]*)\)", t)
        if m:
            vals = tuple(v.strip() for v in m.group(4).split(","))
            if not all(re.fullmatch(_VALUE, v) for v in vals):
                raise UsageError(f"--selector: invalid value in {t!r}")
            out.append(Requirement(m.group(1), m.group(3), vals))
            continue
        m = re.fullmatch(rf"({_KEY})\s*(==|!=|=)\s*({_VALUE})", t)
        if m:
            out.append(Requirement(m.group(1), m.group(3), (m.group(4),)))
            continue
        m = re.fullmatch(rf"(!?)\s*({_KEY})", t)
        if m:
            out.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists"))
            continue
        raise UsageError(f"--selector: cannot parse {t!r} (expected key=value, key!=value, key in (a,b), key, !key)")
    return out


@dataclass(frozen=True, slots=True)
class Selection:
    names: tuple[str, ...] = ()
    selector: str = ""
    exclude: tuple[str, ...] = ()

    def apply(self, nodes: Sequence[NodeFacts]) -> list[NodeFacts]:
        """The selected nodes, sorted by name; a ``--nodes`` name the cluster does not have is an error."""
        reqs = parse_selector(self.selector) if self.selector else []
        have = {n.name for n in nodes}
        missing = [n for n in self.names if n not in have]
        if missing:
            raise UsageError(f"--nodes: no such node: {', '.join(missing)}")
        out = [n for n in nodes
               if (not self.names or n.name in self.names)
               and all(r.matches(n.labels) for r in reqs)
               and n.name not in self.exclude]
        return sorted(out, key=lambda n: n.name)
