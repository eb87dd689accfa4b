"""Exports of a runtime profile for where it will run.

* seccomp part: the plain OCI file and the security-profiles-operator ``SeccompProfile``
  (:mod:`kubecis.seccomp.export`);
* file part: an AppArmor profile (``apparmor_parser`` syntax) and the operator's ``AppArmorProfile``
  (``spec.abstract``);
* network part: a Kubernetes ``NetworkPolicy`` suggestion for the pod's labels.

A path that a format cannot express is one clear error naming it, never a silently broader rule.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import yaml

from kubecis.profile.errors import ProfileError
from kubecis.profile.model import RuntimeProfile
from kubecis.profile.paths import TREE, PathRule
from kubecis.seccomp import export as seccomp_export
from kubecis.seccomp.errors import SeccompError

SPO_APPARMOR_API_VERSION = "security-profiles-operator.x-k8s.io/v1alpha1"
# Characters written as they are in an AppArmor path; a space makes the rule quoted. Anything else
# (glob characters, quotes, '@', ',', '#', '\') is refused rather than escaped by guesswork.
_AA_SAFE = re.compile(r"^[A-Za-z0-9._/+=~%:\- ]*$")
# The operator's CRD pattern for paths (api/apparmorprofile: readOnlyPaths etc.)
_SPO_PATH = re.compile(r"^(?:/(?:[a-zA-Z0-9_./*?+@ -]|@\{[a-zA-Z0-9_]+\})*)$")
_SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
_AA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")

_AA_FAMILIES = {"unix": "unix", "inet": "inet", "inet6": "inet6", "netlink": "netlink", "packet": "packet"}
_AA_TYPES = {"stream": "stream", "dgram": "dgram", "raw": "raw", "seqpacket": "seqpacket"}


def _check_name(name: str, namespace: str) -> None:
    try:
        seccomp_export.check_name(name, namespace)
    except SeccompError as e:
        raise ProfileError(str(e)) from None


def _aa_path(rule: PathRule, *, where: str) -> list[str]:
    """AppArmor path expressions for ``rule`` (a tree also names its directory)."""
    if rule.base.startswith("/proc/self"):
        rest = rule.text[len("/proc/self"):]
        texts = ["/proc/[0-9]*" + rest]
    elif rule.kind == TREE:
        base = rule.base.rstrip("/")
        texts = [base + "/", base + "/**"] if base else ["/", "/**"]
    else:
        texts = [rule.text]
    for t in texts:
        check = t.replace("/proc/[0-9]*", "/proc/N")
        check = check[:-3] if check.endswith("/**") else check
        check = check[:-1] if check.endswith("*") else check
        if not _AA_SAFE.match(check):
            raise ProfileError(f"{where}: path rule {rule.text!r} cannot be represented in an AppArmor profile "
                               "(only letters, digits, space and ._/+=~%:- are written as they are)")
    return [f'"{t}"' if " " in t else t for t in texts]


def _is_library(rule: PathRule) -> bool:
    """Trees of programs and shared objects are mapped executable ('m') as well as read."""
    if rule.base.startswith("/proc"):
        return False
    return rule.kind == TREE or _SHARED_OBJECT.search(rule.base.rsplit("/", 1)[-1]) is not None


def apparmor(profile: RuntimeProfile, *, name: str) -> str:
    """An AppArmor profile for ``apparmor_parser`` (load it with ``apparmor_parser -r FILE``)."""
    if not _AA_NAME.match(name):
        raise ProfileError(f"invalid --name {name!r} for an AppArmor profile (letters, digits, . _ -)")
    perms: dict[str, set[str]] = {}

    def grant(rule: PathRule, tokens: tuple[str, ...], where: str) -> None:
        for expr in _aa_path(rule, where=where):
            perms.setdefault(expr, set()).update(tokens)

    f = profile.files
    for r in f.read:
        grant(r, ("m", "r") if _is_library(r) else ("r",), "files.read")
    for r in f.write:
        grant(r, ("w",), "files.write")
    for r in f.create:
        grant(r, ("w",), "files.create")  # AppArmor checks create/delete on the new name itself
    for r in f.execute:
        grant(r, ("m", "r", "ix"), "files.execute")  # ix: run it under this same profile
    order = ("m", "r", "w", "ix")
    lines = [
        "# AppArmor profile learned by kubecis (kubecis profile export --format apparmor).",
        "# Parse-check: apparmor_parser -Q FILE   Load: apparmor_parser -r FILE",
        f"# Pod: securityContext.appArmorProfile: {{type: Localhost, localhostProfile: {name}}}",
        "# Capabilities are not learned: add 'capability NAME,' lines the program needs.",
        "",
        f"profile {name} flags=(attach_disconnected,mediate_deleted) {{",
    ]
    for expr in sorted(perms):
        lines.append(f"  {expr} {''.join(t for t in order if t in perms[expr])},")
    lines.append("")
    kinds = set(profile.network.sockets)
    if any(k.startswith("other/") for k in kinds):
        lines.append("  network,")
    for k in sorted(kinds):
        fam, _, typ = k.partition("/")
        if fam in _AA_FAMILIES:
            lines.append(f"  network {_AA_FAMILIES[fam]}{' ' + _AA_TYPES[typ] if typ in _AA_TYPES else ''},")
    if any(0 < e.port < 1024 for e in profile.network.tcp_bind + profile.network.udp_bind):
        lines.append("  capability net_bind_service,")
    lines += [
        "",
        "  # let the runtime stop the container, and the program signal itself",
        "  signal (receive) peer=unconfined,",
        f"  signal (send, receive) peer={name},",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _spo_paths(rules: list[PathRule], where: str) -> list[str]:
    out: list[str] = []
    for r in rules:
        text = "/proc/@{pid}" + r.text[len("/proc/self"):] if r.base.startswith("/proc/self") else r.text
        if not _SPO_PATH.match(text):
            raise ProfileError(f"{where}: path rule {r.text!r} cannot be represented in an AppArmorProfile "
                               "(the operator accepts letters, digits and _./*?+@ - only)")
        out.append(text)
    return sorted(set(out))


def spo_apparmor(profile: RuntimeProfile, *, name: str, namespace: str) -> dict[str, Any]:
    """The security-profiles-operator ``AppArmorProfile`` (``spec.abstract``)."""
    _check_name(name, namespace)
    f = profile.files
    writes = {r.text for r in f.write} | {r.text for r in f.create}
    read_rules = [r for r in f.read if not _is_library(r)]
    libs = [r for r in f.read if _is_library(r)]
    rw = [r for r in [*f.read, *f.write, *f.create] if r.text in writes and any(x.text == r.text for x in f.read)]
    rw_texts = {r.text for r in rw}
    ro = [r for r in read_rules if r.text not in rw_texts]
    wo = [r for r in [*f.write, *f.create] if r.text not in rw_texts]
    abstract: dict[str, Any] = {}
    executable: dict[str, Any] = {}
    if f.execute:
        executable["allowedExecutables"] = _spo_paths(list(f.execute), "files.execute")
    if libs:
        executable["allowedLibraries"] = _spo_paths([r for r in libs if r.text not in rw_texts], "files.read")
    if executable:
        abstract["executable"] = executable
    fs: dict[str, Any] = {}
    if ro:
        fs["readOnlyPaths"] = _spo_paths(ro, "files.read")
    if wo:
        fs["writeOnlyPaths"] = _spo_paths(wo, "files.write")
    if rw:
        fs["readWritePaths"] = _spo_paths(rw, "files.write")
    if fs:
        abstract["filesystem"] = fs
    kinds = set(profile.network.sockets)
    inet = {k.split("/")[1] for k in kinds if k.split("/")[0] in ("inet", "inet6")}
    network: dict[str, Any] = {}
    if "raw" in inet or any(k.startswith("packet/") for k in kinds):
        network["allowRaw"] = True
    protocols = {}
    if "stream" in inet:
        protocols["allowTcp"] = True
    if "dgram" in inet:
        protocols["allowUdp"] = True
    if protocols:
        network["allowedProtocols"] = protocols
    if network:
        abstract["network"] = network
    if any(0 < e.port < 1024 for e in profile.network.tcp_bind + profile.network.udp_bind):
        abstract["capability"] = {"allowedCapabilities": ["net_bind_service"]}
    return {
        "apiVersion": SPO_APPARMOR_API_VERSION,
        "kind": "AppArmorProfile",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"abstract": abstract},
    }


def parse_labels(labels: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` pod labels, validated like the API server does."""
    out: dict[str, str] = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep:
            raise ProfileError(f"invalid --label {item!r}: expected KEY=VALUE")
        prefix, slash, label = key.rpartition("/")
        if not _LABEL_NAME.match(label) or len(label) > 63 or (
                slash and (len(prefix) > 253 or not _LABEL_PREFIX.match(prefix))):
            raise ProfileError(f"invalid --label {item!r}: {key!r} is not a valid label key")
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            raise ProfileError(f"invalid --label {item!r}: {value!r} is not a valid label value")
        out[key] = value
    return out


def _peer(address: str) -> dict[str, Any] | None:
    """An ``ipBlock`` peer, or None for "any address"; loopback is not a NetworkPolicy matter."""
    if address == "*":
        return None
    ip = ipaddress.ip_address(address)
    return {"ipBlock": {"cidr": f"{ip.compressed}/{ip.max_prefixlen}"}}


def network_policy(profile: RuntimeProfile, *, name: str, namespace: str, labels: dict[str, str]
                   ) -> tuple[dict[str, Any], list[str]]:
    """A ``networking.k8s.io/v1`` NetworkPolicy and the notes about what it leaves out."""
    _check_name(name, namespace)
    if not labels:
        raise ProfileError("--format networkpolicy needs the pod's labels: --label KEY=VALUE (repeatable)")
    notes: list[str] = []
    net = profile.network
    ingress_ports: list[dict[str, Any]] = []
    for proto, eps in (("TCP", net.tcp_bind), ("UDP", net.udp_bind)):
        for e in eps:
            if e.port == 0:
                notes.append(f"{proto.lower()} bind {e.text}: an ephemeral port, not an ingress rule")
                continue
            if e.address != "*" and ipaddress.ip_address(e.address).is_loopback:
                notes.append(f"{proto.lower()} bind {e.text}: loopback only, not reachable from other pods")
                continue
            entry = {"protocol": proto, "port": e.port}
            if entry not in ingress_ports:
                ingress_ports.append(entry)
    egress: list[dict[str, Any]] = []
    by_peer: dict[str, dict[str, Any]] = {}
    for proto, eps in (("TCP", net.tcp_connect), ("UDP", net.udp_send)):
        for e in eps:
            if e.address != "*" and ipaddress.ip_address(e.address).is_loopback:
                notes.append(f"{proto.lower()} {e.text}: loopback, inside the pod")
                continue
            key = e.address
            rule = by_peer.get(key)
            if rule is None:
                rule = {}
                peer = _peer(e.address)
                if peer is not None:
                    rule["to"] = [peer]
                rule["ports"] = []
                by_peer[key] = rule
                egress.append(rule)
            entry = {"protocol": proto, "port": e.port}
            if entry not in rule["ports"]:
                rule["ports"].append(entry)
    if any(e.port == 53 for e in net.udp_send + net.tcp_connect):
        notes.append("DNS (port 53) was used: in a cluster, allow it to kube-dns (namespaceSelector kube-system, "
                     "podSelector k8s-app: kube-dns) instead of the learned address")
    if net.unix_connect or net.unix_bind:
        notes.append("unix sockets are local to the pod: no NetworkPolicy rule")
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": dict(sorted(labels.items()))},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"ports": ingress_ports}] if ingress_ports else [],
        "egress": egress,
    }
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    return obj, notes


def network_policy_yaml(profile: RuntimeProfile, *, name: str, namespace: str, labels: dict[str, str]) -> str:
    obj, notes = network_policy(profile, name=name, namespace=namespace, labels=labels)
    head = ["# NetworkPolicy suggested by kubecis from the connections it saw. Review before applying:",
            "# addresses of in-cluster peers are pod/service IPs of the learning run; prefer podSelector /",
            "# namespaceSelector peers for them."]
    head += [f"# left out: {n}" for n in notes]
    return "\n".join(head) + "\n" + yaml.safe_dump(obj, sort_keys=False)


def spo_apparmor_yaml(profile: RuntimeProfile, *, name: str, namespace: str) -> str:
    obj = spo_apparmor(profile, name=name, namespace=namespace)
    head = ("# AppArmorProfile for the security-profiles-operator; pod: securityContext.appArmorProfile:\n"
            f"#   {{type: Localhost, localhostProfile: {name}}}\n")
    return head + yaml.safe_dump(obj, sort_keys=False)
