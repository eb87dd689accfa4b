"""Pod security rules over a pod's metadata and spec (a Pod's, or a workload's pod template).

Each rule returns the violations of one pod spec as short ``field=value`` strings (empty: compliant). The rules
follow Kubernetes' Pod Security Standards (``k8s.io/pod-security-admission/policy``, v1.34) where the CIS text
says the same thing, and every container list counts: ``containers``, ``initContainers`` and
``ephemeralContainers``:

=====================  =============================================================================================
rule                   violation
=====================  =============================================================================================
privileged             a container with ``securityContext.privileged: true`` (PSS baseline "privileged")
host_pid / host_ipc /  ``hostPID`` / ``hostIPC`` / ``hostNetwork: true`` (PSS baseline "hostNamespaces", one field
host_network           each)
privilege_escalation   a container whose ``allowPrivilegeEscalation`` is not explicitly ``false`` (PSS restricted
                       "allowPrivilegeEscalation"; Windows pods exempt): unset means the runtime allows it
root                   ``runAsNonRoot`` not true for a container (its own value, else the pod's), or ``runAsUser: 0``
                       at either level (PSS restricted "runAsNonRoot" + "runAsUser")
net_raw                a Linux container that does not drop ``NET_RAW`` (or ``ALL``), adds ``NET_RAW``/``ALL``, or is
                       privileged (CIS 5.2.8; container runtimes grant NET_RAW by default)
added_capabilities     any ``capabilities.add`` entry (CIS: "allowedCapabilities ... an empty array")
assigned_capabilities  a Linux container that does not drop ``ALL`` or adds anything but ``NET_BIND_SERVICE``
                       (PSS restricted "capabilities")
host_process           ``windowsOptions.hostProcess: true`` at pod or container level (PSS baseline "hostProcess")
host_path              a ``hostPath`` volume (PSS baseline "hostPathVolumes")
host_ports             a container port with a non-zero ``hostPort`` (PSS baseline "hostPorts")
seccomp                neither the pod nor every container sets ``seccompProfile.type`` ``RuntimeDefault`` or
                       ``Localhost``, or something sets ``Unconfined`` (PSS restricted "seccompProfile"; Windows pods
                       exempt)
security_context       a container with no securityContext of its own in a pod with none either (CIS 5.6.3)
secret_env             an ``env[].valueFrom.secretKeyRef`` or ``envFrom[].secretRef`` (CIS 5.4.1)
=====================  =============================================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["RULES", "containers"]

_LISTS = (("initContainers", "initContainer"), ("containers", "container"),
          ("ephemeralContainers", "ephemeralContainer"))


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``container=NAME`` / ``initContainer=NAME`` / ``ephemeralContainer=NAME``, container) for every container."""
    for key, label in _LISTS:
        for c in _l(spec.get(key)):
            if isinstance(c, dict):
                yield f"{label}={c.get('name', '')}", c


def _sc(c: dict[str, Any]) -> dict[str, Any]:
    return _d(c.get("securityContext"))


def _windows(spec: dict[str, Any]) -> bool:
    return _d(spec.get("os")).get("name") == "windows"


def privileged(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    return [f"{who} privileged=true" for who, c in containers(spec) if _sc(c).get("privileged") is True]


def _host(field: str) -> Callable[[dict[str, Any], dict[str, Any]], list[str]]:
    def rule(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
        return [f"{field}=true"] if spec.get(field) is True else []

    rule.__name__ = field
    return rule


def privilege_escalation(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    if _windows(spec):
        return []
    out = []
    for who, c in containers(spec):
        v = _sc(c).get("allowPrivilegeEscalation")
        if v is not False:
            out.append(f"{who} allowPrivilegeEscalation={'unset' if v is None else _fmt(v)}")
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def root(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    pod = _d(spec.get("securityContext"))
    out = []
    if pod.get("runAsUser") == 0:
        out.append("securityContext.runAsUser=0")
    for who, c in containers(spec):
        sc = _sc(c)
        v = sc["runAsNonRoot"] if sc.get("runAsNonRoot") is not None else pod.get("runAsNonRoot")
        if v is not True:
            out.append(f"{who} runAsNonRoot={'unset' if v is None else _fmt(v)}")
        if sc.get("runAsUser") == 0:
            out.append(f"{who} runAsUser=0")
    return out


def _caps(c: dict[str, Any]) -> tuple[list[str], list[str]]:
    caps = _d(_sc(c).get("capabilities"))
    return [str(x) for x in _l(caps.get("add"))], [str(x) for x in _l(caps.get("drop"))]


def net_raw(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    if _windows(spec):
        return []
    out = []
    for who, c in containers(spec):
        add, drop = _caps(c)
        if _sc(c).get("privileged") is True:
            out.append(f"{who} privileged=true")
        elif any(a.upper().removeprefix("CAP_") in ("NET_RAW", "ALL") for a in add):
            out.append(f"{who} capabilities.add={','.join(add)}")
        elif not any(d.upper().removeprefix("CAP_") in ("NET_RAW", "ALL") for d in drop):
            out.append(f"{who} capabilities.drop lacks NET_RAW")
    return out


def added_capabilities(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    return [f"{who} capabilities.add={','.join(add)}" for who, c in containers(spec) if (add := _caps(c)[0])]


def assigned_capabilities(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    if _windows(spec):
        return []
    out = []
    for who, c in containers(spec):
        add, drop = _caps(c)
        if "ALL" not in drop:
            out.append(f"{who} capabilities.drop lacks ALL")
        extra = [a for a in add if a != "NET_BIND_SERVICE"]
        if extra:
            out.append(f"{who} capabilities.add={','.join(extra)}")
    return out


def host_process(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    out = []
    if _d(_d(spec.get("securityContext")).get("windowsOptions")).get("hostProcess") is True:
        out.append("securityContext.windowsOptions.hostProcess=true")
    for who, c in containers(spec):
        if _d(_sc(c).get("windowsOptions")).get("hostProcess") is True:
            out.append(f"{who} windowsOptions.hostProcess=true")
    return out


def host_path(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    out = []
    for v in _l(spec.get("volumes")):
        if isinstance(v, dict) and v.get("hostPath") is not None:
            out.append(f"volume={v.get('name', '')} hostPath={_d(v.get('hostPath')).get('path', '')}")
    return out


def host_ports(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    out = []
    for who, c in containers(spec):
        for p in _l(c.get("ports")):
            if isinstance(p, dict) and p.get("hostPort") not in (None, 0):
                out.append(f"{who} hostPort={p['hostPort']}")
    return out


_SECCOMP_OK = ("RuntimeDefault", "Localhost")


def seccomp(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    if _windows(spec):
        return []
    pod = _d(_d(spec.get("securityContext")).get("seccompProfile")).get("type")
    out = []
    if pod is not None and pod not in _SECCOMP_OK:
        out.append(f"securityContext.seccompProfile.type={pod}")
    for who, c in containers(spec):
        t = _d(_sc(c).get("seccompProfile")).get("type")
        if t is not None and t not in _SECCOMP_OK:
            out.append(f"{who} seccompProfile.type={t}")
        elif t is None and pod is None:
            out.append(f"{who} seccompProfile=unset")
    return out


def security_context(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    if _d(spec.get("securityContext")):
        return []
    return [f"{who} securityContext=unset" for who, c in containers(spec) if not _sc(c)]


def secret_env(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    out = []
    for who, c in containers(spec):
        for e in _l(c.get("env")):
            ref = _d(_d(_d(e).get("valueFrom")).get("secretKeyRef"))
            if ref:
                out.append(f"{who} env={_d(e).get('name', '')} secretKeyRef={ref.get('name', '')}/{ref.get('key', '')}")
        for e in _l(c.get("envFrom")):
            ref = _d(_d(e).get("secretRef"))
            if ref:
                out.append(f"{who} envFrom.secretRef={ref.get('name', '')}")
    return out


Rule = Callable[[dict[str, Any], dict[str, Any]], list[str]]

RULES: dict[str, Rule] = {
    "privileged": privileged,
    "host_pid": _host("hostPID"),
    "host_ipc": _host("hostIPC"),
    "host_network": _host("hostNetwork"),
    "privilege_escalation": privilege_escalation,
    "root": root,
    "net_raw": net_raw,
    "added_capabilities": added_capabilities,
    "assigned_capabilities": assigned_capabilities,
    "host_process": host_process,
    "host_path": host_path,
    "host_ports": host_ports,
    "seccomp": seccomp,
    "security_context": security_context,
    "secret_env": secret_env,
}
