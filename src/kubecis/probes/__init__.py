"""Probes: kubecis's own evaluations, called by benchmark audits as ``kubecis probe NAME [ARGS]``.

A probe prints ``key: value`` lines that a check's test items read, then one evidence line per offending object
(sorted), then ``note:`` lines. The native interpreter runs ``kubecis probe`` in-process (the ``kubecis`` utility);
``kubecis probe`` is also a real subcommand, so ``--executor shell`` runs the same code through the installed
console script.

A probe that cannot decide (the cluster is unreachable, a list is forbidden, a kind is missing from an object dump)
returns status 1 with the reason: natively the check becomes WARN with that reason; through a shell kube-bench's
rule for a failing audit applies (FAIL if scored, WARN if not), never PASS. Status 2 is a bad probe command line.

:data:`PROBES` is the registry: name -> :class:`ProbeSpec` (the function is imported only when the probe runs).
Its ``summary`` and ``inspects`` describe each probe in words (a check catalogue is generated from them).

:data:`NODE_PROBES` are the probes that read the node instead of the cluster API: the kube-apiserver's configuration
files (:mod:`kubecis.probes.configs`, docs/config-checks.md), each given as its argument.

Adding a probe: a function ``f(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult`` in any module, and an
entry here. If that module defines ``parse_args(name, args)`` (raising :class:`ProbeUsageError`), static
coverage (``kubecis audits coverage``) calls it to reject malformed calls without evaluating anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubecis.errors import UsageError

if TYPE_CHECKING:
    from kubecis.host.base import Host
    from kubecis.host.cluster import Cluster

__all__ = ["NODE_PROBES", "PROBES", "ProbeContext", "ProbeResult", "ProbeSpec", "ProbeUsageError", "run_probe"]

DECIDED, UNDECIDED, USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """What a probe may look at: the node (``host``), the cluster API (``cluster``; None: none configured) and the
    environment the audit runs in."""

    host: Host | None = None
    cluster: Cluster | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """``output`` (status 0: the lines tests read; otherwise the reason) and ``status`` (0 decided, 1 cannot
    decide, 2 bad usage)."""

    output: str
    status: int = DECIDED


class ProbeUsageError(UsageError):
    """A probe's arguments are wrong (status 2)."""


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    name: str
    target: str  # "module:function", function(ctx, args) -> ProbeResult
    summary: str  # one line: what the probe reports
    inspects: str  # what it reads, in words
    usage: str = ""  # its arguments, e.g. "[--allow NAME,...]"
    key: str = ""  # the ``key: N`` line its output starts with

    def load(self) -> Callable[[ProbeContext, Sequence[str]], ProbeResult]:
        module, _, fn = self.target.partition(":")
        f: Callable[[ProbeContext, Sequence[str]], ProbeResult] = getattr(importlib.import_module(module), fn)
        return f


_C = "kubecis.probes.cluster"
_RBAC = ("Roles, ClusterRoles (aggregated ones with the rules the aggregation controller gives them), RoleBindings "
         "and ClusterRoleBindings")
_WORKLOADS = ("Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, "
              "ReplicationControllers, Jobs and CronJobs (init and ephemeral containers included)")
_PODS = _WORKLOADS + ", and Namespaces' Pod Security Admission labels"
_ALLOW = "[--allow BINDING[,BINDING...]]"


def _spec(name: str, fn: str, key: str, summary: str, inspects: str, usage: str = "", module: str = _C,
          ) -> tuple[str, ProbeSpec]:
    return name, ProbeSpec(name, f"{module}:{fn}", summary, inspects, usage, key)


_F = "kubecis.probes.configs"


PROBES: dict[str, ProbeSpec] = dict([
    _spec("cluster-admin-bindings", "cluster_admin", "cluster_admin_bindings",
          "bindings of the cluster-admin ClusterRole beyond the Kubernetes/kubeadm defaults", _RBAC, _ALLOW),
    _spec("secret-access", "secret_access", "secret_access",
          "subjects that can get, list or watch Secrets", _RBAC, _ALLOW),
    _spec("rbac-wildcards", "wildcards", "wildcard_rules",
          "Roles and ClusterRoles with * in verbs, resources, apiGroups or nonResourceURLs", _RBAC),
    _spec("pod-create-access", "pod_create", "pod_create_access", "subjects that can create Pods", _RBAC, _ALLOW),
    _spec("default-service-accounts", "default_service_accounts", "default_service_account_issues",
          "default service accounts that automount a token or are bound to roles", f"ServiceAccounts and {_RBAC}"),
    _spec("token-automount", "token_automount", "token_automount",
          "pods and workload templates outside kube-system that mount a service account token",
          _WORKLOADS + ", and ServiceAccounts"),
    _spec("system-masters", "system_masters", "system_masters_uses",
          "bindings naming the system:masters group, certificate requests asking for or made by it",
          f"{_RBAC}, CertificateSigningRequests (their PKCS#10 subject)"),
    _spec("escalation-access", "escalation", "escalation_access",
          "subjects that can bind or escalate roles, or impersonate users, groups, service accounts, uids or "
          "extras", _RBAC, _ALLOW),
    _spec("pv-create-access", "pv_create", "pv_create_access", "subjects that can create PersistentVolumes", _RBAC,
          _ALLOW),
    _spec("node-proxy-access", "node_proxy", "node_proxy_access", "subjects that can use the nodes/proxy "
          "subresource (the kubelet API)", _RBAC, _ALLOW),
    _spec("csr-approval-access", "csr_approval", "csr_approval_access",
          "subjects that can update the approval subresource of CertificateSigningRequests", _RBAC, _ALLOW),
    _spec("webhook-config-access", "webhook_config", "webhook_config_access",
          "subjects that can create, change or delete admission webhook configurations", _RBAC, _ALLOW),
    _spec("token-create-access", "token_create", "token_create_access",
          "subjects that can create service account tokens (serviceaccounts/token)", _RBAC, _ALLOW),
    _spec("subject-bindings", "subject_bindings", "subject_bindings",
          "non-default bindings naming the given subjects", _RBAC, "--subject KIND:NAME [--subject ...] " + _ALLOW),
    _spec("policy-mechanism", "policy_mechanism", "namespaces_without_policy",
          "namespaces (except kube-system) with neither a Pod Security Admission enforce label nor an admission "
          "webhook or ValidatingAdmissionPolicy that sees pod creation",
          "Namespaces, Validating/MutatingWebhookConfigurations, ValidatingAdmissionPolicies and their bindings"),
    _spec("psa-enforce", "psa_enforce", "namespaces_not_enforcing",
          "namespaces (except kube-system) not enforcing the given Pod Security Standard or a stricter one",
          "Namespaces' pod-security.kubernetes.io/enforce labels", "[--level baseline|restricted]"),
    _spec("privileged-containers", "privileged", "privileged_containers", "privileged containers", _PODS),
    _spec("host-pid", "host_pid", "host_pid_pods", "pods sharing the host PID namespace", _PODS),
    _spec("host-ipc", "host_ipc", "host_ipc_pods", "pods sharing the host IPC namespace", _PODS),
    _spec("host-network", "host_network", "host_network_pods", "pods sharing the host network namespace", _PODS),
    _spec("privilege-escalation", "privilege_escalation", "privilege_escalation_containers",
          "containers not setting allowPrivilegeEscalation: false", _PODS),
    _spec("root-containers", "root_containers", "root_containers",
          "containers that may run as root (runAsNonRoot not true, or runAsUser 0)", _PODS),
    _spec("net-raw", "net_raw", "net_raw_containers", "Linux containers that keep or add NET_RAW", _PODS),
    _spec("added-capabilities", "added_capabilities", "added_capabilities_containers",
          "containers adding capabilities", _PODS),
    _spec("assigned-capabilities", "assigned_capabilities", "assigned_capabilities_containers",
          "Linux containers not dropping ALL capabilities or adding any but NET_BIND_SERVICE", _PODS),
    _spec("host-process", "host_process", "host_process_pods", "Windows HostProcess pods and containers", _PODS),
    _spec("host-path-volumes", "host_path", "host_path_pods", "pods with hostPath volumes", _PODS),
    _spec("host-ports", "host_ports", "host_port_containers", "containers with host ports", _PODS),
    _spec("seccomp-profiles", "seccomp", "seccomp_unconfined",
          "containers without a RuntimeDefault or Localhost seccomp profile", _PODS),
    _spec("security-contexts", "security_context", "no_security_context",
          "containers with no securityContext in pods with none either", _PODS),
    _spec("secret-env-vars", "secret_env", "secret_env_references",
          "containers taking Secrets as environment variables (env secretKeyRef, envFrom secretRef)", _PODS),
    _spec("network-policies", "network_policies", "namespaces_without_network_policy",
          "namespaces no NetworkPolicy applies to",
          "Namespaces, NetworkPolicies, Cilium (clusterwide) network policies, Calico (global) network policies"),
    _spec("default-namespace", "default_namespace", "default_namespace_objects",
          "objects in the default namespace beyond those Kubernetes creates there",
          "every namespaced object in the default namespace (all listable resources)"),
    # the kube-apiserver's own configuration files, read on the node (kubecis.configfiles, docs/config-checks.md)
    _spec("encryption-config", "encryption_config", "secrets_provider",
          "the provider new Secrets are written with (the first provider of the first resources entry covering "
          "secrets, including *. and *.* wildcards; identity when none does or no file is named), the entry and its "
          "provider list",
          "the EncryptionConfiguration file named by the kube-apiserver's --encryption-provider-config (the FILE "
          "argument; empty: none is named)", "[--kubernetes X.Y] [FILE]", _F),
    _spec("audit-policy", "audit_policy", "audit_gaps",
          "requests on Secrets, ConfigMaps and TokenReviews not recorded at exactly Metadata, and changes to Pods and "
          "Deployments and uses of pods/exec, pods/portforward, pods/proxy and services/proxy not recorded, each "
          "with the rule that decides it (first matching rule wins)",
          "the audit Policy file named by the kube-apiserver's --audit-policy-file (the FILE argument; empty: none "
          "is named)", "[FILE]", _F),
    _spec("event-rate-limit", "event_rate_limit", "event_rate_limits",
          "the limits the EventRateLimit admission plugin is configured with (0: no configuration)",
          "the AdmissionConfiguration file named by the kube-apiserver's --admission-control-config-file (the FILE "
          "argument; empty: none is named) and the EventRateLimit configuration it holds inline or names by path",
          "[FILE]", _F),
])

# Probes that read the node (its files), not the cluster API.
NODE_PROBES = frozenset(name for name, spec in PROBES.items() if spec.target.startswith(_F + ":"))


def run_probe(name: str, args: Sequence[str], ctx: ProbeContext) -> ProbeResult:
    """Run one probe; an unknown name or bad arguments give status 2."""
    spec = PROBES.get(name)
    if spec is None:
        return ProbeResult(f"unknown probe {name!r} (kubecis probe --list)", USAGE)
    try:
        return spec.load()(ctx, list(args))
    except ProbeUsageError as exc:
        return ProbeResult(f"{name}: {exc}", USAGE)


def check_usage(name: str, args: Sequence[str]) -> str | None:
    """Why ``kubecis probe NAME ARGS`` is malformed, or None (for static checks: nothing is evaluated)."""
    spec = PROBES.get(name)
    if spec is None:
        return f"unknown probe {name!r}"
    parse = getattr(importlib.import_module(spec.target.partition(":")[0]), "parse_args", None)
    if parse is not None:
        try:
            parse(name, list(args))
        except ProbeUsageError as exc:
            return str(exc)
    return None
