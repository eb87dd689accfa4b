"""What the policy checks keep of an object: the same shape, pruned to the fields they read.

A cluster of 50,000 pods is mostly status, managed fields, images and resource requests; the checks read a
pod's security-relevant fields only. :func:`project` returns a small copy with exactly those fields (so the checks
run the same on a full object and on its projection), and the object source keeps the projections only.
"""

from __future__ import annotations

from typing import Any

__all__ = ["POD_TEMPLATE_PATHS", "project", "template_of"]

# where each workload kind keeps its pod template
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

_ANNOTATION_PREFIXES = ("seccomp.security.alpha.kubernetes.io/", "container.seccomp.security.alpha.kubernetes.io/",
                        "container.apparmor.security.beta.kubernetes.io/", "kubernetes.io/config.")
_POD_KEYS = ("hostNetwork", "hostPID", "hostIPC", "hostUsers", "securityContext", "os", "serviceAccountName",
             "serviceAccount", "automountServiceAccountToken", "nodeName")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _meta(meta: Any) -> dict[str, Any]:
    m = _d(meta)
    out: dict[str, Any] = {"name": m.get("name")}
    if m.get("namespace") is not None:
        out["namespace"] = m["namespace"]
    if isinstance(m.get("labels"), dict):
        out["labels"] = {str(k): str(v) for k, v in m["labels"].items()}
    ann = {str(k): v for k, v in _d(m.get("annotations")).items() if str(k).startswith(_ANNOTATION_PREFIXES)}
    if ann:
        out["annotations"] = ann
    owners = [{"kind": o.get("kind"), "name": o.get("name"), "controller": bool(o.get("controller"))}
              for o in _l(m.get("ownerReferences")) if isinstance(o, dict)]
    if owners:
        out["ownerReferences"] = owners
    return out


def _container(c: Any) -> Any:
    if not isinstance(c, dict):
        return c
    out: dict[str, Any] = {"name": c.get("name")}
    if "securityContext" in c:
        out["securityContext"] = c["securityContext"]
    ports = [p for p in _l(c.get("ports")) if isinstance(p, dict) and p.get("hostPort")]
    if ports:
        out["ports"] = [{"hostPort": p.get("hostPort"), "containerPort": p.get("containerPort")} for p in ports]
    env = [e for e in _l(c.get("env"))
           if isinstance(e, dict) and "secretKeyRef" in _d(e.get("valueFrom"))]
    if env:
        out["env"] = env
    env_from = [e for e in _l(c.get("envFrom")) if isinstance(e, dict) and "secretRef" in e]
    if env_from:
        out["envFrom"] = env_from
    return out


def _volume(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    out: dict[str, Any] = {}
    for k, x in v.items():
        # the volume's name, its type (the one other key) and, for hostPath, where it points
        out[k] = x if k in ("name", "hostPath") else ({} if isinstance(x, dict) else x)
    return out


def pod_spec(spec: Any) -> dict[str, Any]:
    s = _d(spec)
    out: dict[str, Any] = {k: s[k] for k in _POD_KEYS if k in s}
    for key in _CONTAINER_LISTS:
        if key in s:
            out[key] = [_container(c) for c in _l(s[key])]
    if "volumes" in s:
        out["volumes"] = [_volume(v) for v in _l(s["volumes"])]
    return out


def _template(t: Any) -> dict[str, Any]:
    t = _d(t)
    out: dict[str, Any] = {"metadata": _meta(t.get("metadata"))}
    out["metadata"].pop("name", None)
    out["spec"] = pod_spec(t.get("spec"))
    return out


def _set_path(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    cur = obj
    for p in path[:-1]:
        cur = cur.setdefault(p, {})
    cur[path[-1]] = value


def template_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template of a workload (a full object or a projection), or None."""
    path = POD_TEMPLATE_PATHS.get(str(obj.get("kind")))
    if path is None:
        return None
    cur: Any = obj
    for p in path:
        cur = cur.get(p) if isinstance(cur, dict) else None
    return cur if isinstance(cur, dict) else None


_KEEP_WHOLE = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
               "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
               "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy", "CustomResourceDefinition"}


def project(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields the policy checks read, in the object's own shape."""
    kind = str(obj.get("kind", ""))
    out: dict[str, Any] = {"apiVersion": obj.get("apiVersion"), "kind": kind, "metadata": _meta(obj.get("metadata"))}
    if kind == "Pod":
        out["spec"] = pod_spec(obj.get("spec"))
        return out
    path = POD_TEMPLATE_PATHS.get(kind)
    if path is not None:
        t = template_of(obj)
        _set_path(out, path, _template(t))
        return out
    if kind in _KEEP_WHOLE:
        for k, v in obj.items():
            if k not in ("metadata", "status"):
                out[k] = v
        return out
    if kind == "ServiceAccount":
        if "automountServiceAccountToken" in obj:
            out["automountServiceAccountToken"] = obj["automountServiceAccountToken"]
        return out
    if kind == "CertificateSigningRequest":
        spec = _d(obj.get("spec"))
        out["spec"] = {k: spec[k] for k in ("groups", "username", "request", "signerName") if k in spec}
        conds = [{"type": c.get("type")} for c in _l(_d(obj.get("status")).get("conditions")) if isinstance(c, dict)]
        out["status"] = {"conditions": conds}
        return out
    if kind == "Namespace" or kind.endswith("NetworkPolicy"):
        return out
    return out
