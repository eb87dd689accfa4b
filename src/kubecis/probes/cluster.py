"""Probes over the cluster's API objects (CIS section 5): thin wrappers of :mod:`kubecis.policies.cis`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kubecis.policies import cis, podsec
from kubecis.policies.source import Source, Undecided, source_for
from kubecis.probes import DECIDED, PROBES, UNDECIDED, ProbeContext, ProbeResult, ProbeUsageError


@dataclass(slots=True)
class Args:
    allow: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    level: str = "baseline"


_TAKES = {"--allow": "allow", "--subject": "subjects", "--level": "level"}
_ACCEPTS: dict[str, tuple[str, ...]] = {"subject-bindings": ("--allow", "--subject"), "psa-enforce": ("--level",)}
_ALLOW_ONLY = ("cluster-admin-bindings", "secret-access", "pod-create-access", "escalation-access", "pv-create-access",
               "node-proxy-access", "csr-approval-access", "webhook-config-access", "token-create-access")


def parse_args(name: str, args: list[str]) -> Args:
    """``--opt VALUE`` / ``--opt=VALUE``; list options take comma-separated values and repeat."""
    accepted = _ACCEPTS.get(name, ("--allow",) if name in _ALLOW_ONLY else ())
    out = Args()
    i = 0
    while i < len(args):
        a = args[i]
        opt, eq, value = a.partition("=")
        if opt not in accepted:
            raise ProbeUsageError(f"unexpected argument {a!r}" + (f" (accepted: {', '.join(accepted)})"
                                                                  if accepted else " (takes none)"))
        if not eq:
            if i + 1 >= len(args):
                raise ProbeUsageError(f"{opt} needs a value")
            i += 1
            value = args[i]
        attr = _TAKES[opt]
        if attr == "level":
            if value not in ("baseline", "restricted"):
                raise ProbeUsageError(f"--level {value!r}: baseline or restricted")
            out.level = value
        else:
            getattr(out, attr).extend(v.strip() for v in value.split(",") if v.strip())
        i += 1
    if name == "subject-bindings" and not out.subjects:
        raise ProbeUsageError("--subject KIND:NAME is required")
    return out


def _run(ctx: ProbeContext, name: str, args: Sequence[str], fn: Callable[[Source, Args], cis.Report]) -> ProbeResult:
    a = parse_args(name, list(args))
    try:
        report = fn(source_for(ctx.cluster), a)
    except Undecided as exc:
        return ProbeResult(str(exc), UNDECIDED)
    if report.undecided and not report.findings:
        return ProbeResult(report.undecided, UNDECIDED)
    return ProbeResult(report.render(), DECIDED)


def cluster_admin(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "cluster-admin-bindings", args, lambda s, a: cis.cluster_admin(s, a.allow))


def secret_access(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "secret-access", args, lambda s, a: cis.secret_access(s, a.allow))


def wildcards(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "rbac-wildcards", args, lambda s, a: cis.wildcards(s))


def pod_create(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "pod-create-access", args, lambda s, a: cis.pod_create(s, a.allow))


def default_service_accounts(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "default-service-accounts", args, lambda s, a: cis.default_service_accounts(s))


def token_automount(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "token-automount", args, lambda s, a: cis.token_automount(s))


def system_masters(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "system-masters", args, lambda s, a: cis.system_masters(s))


def escalation(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "escalation-access", args, lambda s, a: cis.escalation(s, a.allow))


def pv_create(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "pv-create-access", args, lambda s, a: cis.pv_create(s, a.allow))


def node_proxy(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "node-proxy-access", args, lambda s, a: cis.node_proxy(s, a.allow))


def csr_approval(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "csr-approval-access", args, lambda s, a: cis.csr_approval(s, a.allow))


def webhook_config(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "webhook-config-access", args, lambda s, a: cis.webhook_config(s, a.allow))


def token_create(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "token-create-access", args, lambda s, a: cis.token_create(s, a.allow))


def subject_bindings(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "subject-bindings", args, lambda s, a: cis.subject_bindings(s, a.subjects, a.allow))


def policy_mechanism(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "policy-mechanism", args, lambda s, a: cis.policy_mechanism(s))


def psa_enforce(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "psa-enforce", args, lambda s, a: cis.psa_enforce(s, a.level))


def network_policies(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "network-policies", args, lambda s, a: cis.network_policies(s))


def default_namespace(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
    return _run(ctx, "default-namespace", args, lambda s, a: cis.default_namespace(s))


def _pod(name: str, rule: str) -> Callable[[ProbeContext, Sequence[str]], ProbeResult]:
    def probe(ctx: ProbeContext, args: Sequence[str]) -> ProbeResult:
        return _run(ctx, name, args, lambda s, a: cis.pod_rule(s, PROBES[name].key, podsec.RULES[rule]))

    probe.__name__ = rule
    return probe


privileged = _pod("privileged-containers", "privileged")
host_pid = _pod("host-pid", "host_pid")
host_ipc = _pod("host-ipc", "host_ipc")
host_network = _pod("host-network", "host_network")
privilege_escalation = _pod("privilege-escalation", "privilege_escalation")
root_containers = _pod("root-containers", "root")
net_raw = _pod("net-raw", "net_raw")
added_capabilities = _pod("added-capabilities", "added_capabilities")
assigned_capabilities = _pod("assigned-capabilities", "assigned_capabilities")
host_process = _pod("host-process", "host_process")
host_path = _pod("host-path-volumes", "host_path")
host_ports = _pod("host-ports", "host_ports")
seccomp = _pod("seccomp-profiles", "seccomp")
security_context = _pod("security-contexts", "security_context")
secret_env = _pod("secret-env-vars", "secret_env")
