"""Export a profile for Docker/containerd/CRI-O (the plain OCI file) or Kubernetes
(a security-profiles-operator ``SeccompProfile`` plus the pod ``securityContext`` snippet)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from kubecis.seccomp.errors import SeccompError
from kubecis.seccomp.profile import Profile

SPO_API_VERSION = "security-profiles-operator.x-k8s.io/v1beta1"
KUBELET_SECCOMP_DIR = "/var/lib/kubelet/seccomp"
# RFC 1123 subdomain (metadata.name) and label (namespace)
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_name(name: str, namespace: str) -> None:
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise SeccompError(f"invalid --name {name!r}: must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.')")
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        raise SeccompError(f"invalid --namespace {namespace!r}: must be a lowercase RFC 1123 label")


def docker(profile: Profile) -> str:
    """The plain OCI/Docker profile (``docker run --security-opt seccomp=FILE``)."""
    return profile.to_json()


def spo_object(profile: Profile, *, name: str, namespace: str) -> dict[str, Any]:
    """The SPO ``SeccompProfile``. SPO's spec has no defaultErrnoRet; the runtime default (EPERM) applies,
    and SPO spells ``errnoRet`` as a string."""
    check_name(name, namespace)
    if profile.default_errno_ret not in (None, 1):
        raise SeccompError(
            f"defaultErrnoRet {profile.default_errno_ret} cannot be expressed in a SeccompProfile "
            "(the operator always uses EPERM); use --format docker"
        )
    if profile.flags:
        raise SeccompError("profile flags are not exported to Kubernetes; use --format docker")
    spec: dict[str, Any] = {"defaultAction": profile.default_action}
    if profile.architectures:
        spec["architectures"] = list(profile.architectures)
    syscalls: list[dict[str, Any]] = []
    for r in profile.rules:
        entry: dict[str, Any] = {"action": r.action, "names": sorted(r.names)}
        if r.errno_ret is not None:
            entry["errnoRet"] = str(r.errno_ret)
        syscalls.append(entry)
    if syscalls:
        spec["syscalls"] = syscalls
    return {
        "apiVersion": SPO_API_VERSION,
        "kind": "SeccompProfile",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def localhost_paths(name: str, namespace: str) -> dict[str, str]:
    """``localhostProfile`` values and where the file lives on the node."""
    return {
        "operator": f"operator/{namespace}/{name}.json",
        "operator_file": f"{KUBELET_SECCOMP_DIR}/operator/{namespace}/{name}.json",
        "plain": f"profiles/{name}.json",
        "plain_file": f"{KUBELET_SECCOMP_DIR}/profiles/{name}.json",
    }


def pod_snippet(name: str, namespace: str) -> dict[str, Any]:
    p = localhost_paths(name, namespace)
    return {"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": p["operator"]}}}


def k8s(profile: Profile, *, name: str, namespace: str) -> str:
    """A YAML document ``kubectl apply -f`` accepts, followed by the pod snippet as comments."""
    obj = spo_object(profile, name=name, namespace=namespace)
    p = localhost_paths(name, namespace)
    snippet = yaml.safe_dump(pod_snippet(name, namespace), sort_keys=False).rstrip("\n").splitlines()
    lines = [
        "# Pod or container spec, with the security-profiles-operator installing the profile",
        f"# on every node as {p['operator_file']}:",
        *(f"#   {s}" for s in snippet),
        "# Without the operator: install the plain profile (kubecis seccomp export --format docker)",
        f"# on every node as {p['plain_file']} and use:",
        f"#   localhostProfile: {p['plain']}",
    ]
    return yaml.safe_dump(obj, sort_keys=False) + "\n".join(lines) + "\n"
