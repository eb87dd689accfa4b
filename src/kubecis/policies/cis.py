"""One function per CIS section 5 check: the objects that fail it, sorted, with the field at fault.

Every function takes a :class:`~kubecis.policies.source.Source` and returns a :class:`Report`; a source that cannot
give what a check needs raises :class:`~kubecis.policies.source.Undecided`. What each check means, what it exempts
and why: docs/policies.md (the exemptions themselves: :mod:`kubecis.policies.defaults`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubecis.policies.defaults import is_default_binding, is_default_role, is_system_workload
from kubecis.policies.project import template_of
from kubecis.policies.rbac import RBAC, Binding, api_group_matches, verb_matches
from kubecis.policies.selectors import selector_matches
from kubecis.policies.source import RBAC_KINDS, WORKLOADS, Source

__all__ = ["Finding", "Report"]

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    kind: str
    namespace: str
    name: str
    detail: str = ""

    def line(self) -> str:
        who = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {who}" + (f" {self.detail}" if self.detail else "")


@dataclass(slots=True)
class Report:
    """``key: N`` then one line per finding (sorted); notes after. ``undecided``: no verdict without findings."""

    key: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undecided: str = ""

    def render(self) -> str:
        found = sorted(set(self.findings))  # a finding reached twice (a subject listed twice) is one line
        lines = [f"{self.key}: {len(found)}"]
        lines += [f.line() for f in found]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def _ident(obj: dict[str, Any]) -> tuple[str, str, str]:
    m = _meta(obj)
    return str(obj.get("kind", "")), str(m.get("namespace") or ""), str(m.get("name", ""))


# --------------------------------------------------------------------------- RBAC


def _rbac(src: Source) -> RBAC:
    cache = _cache(src)
    if "rbac" not in cache:
        cache["rbac"] = RBAC(o for g, k in RBAC_KINDS for o in src.objects(g, k))
    rbac: RBAC = cache["rbac"]
    return rbac


def _cache(src: Source) -> dict[str, Any]:
    c = getattr(src, "_policy_cache", None)
    if c is None:
        c = {}
        src._policy_cache = c  # type: ignore[attr-defined]
    return c


Perm = tuple[tuple[str, ...], str, str, str]  # verbs, api group, resource, subresource


def _what(resource: str, sub: str, group: str) -> str:
    res = f"{resource}/{sub}" if sub else resource
    return f"{res}.{group}" if group else res


def _binding_findings(b: Binding, detail: str) -> list[Finding]:
    return [Finding(b.kind, b.namespace, b.name, f"subject={s.label(b.namespace)} role={b.role_ref}{detail}")
            for s in b.subjects]


def access(src: Source, key: str, perms: Sequence[Perm], allow: Iterable[str] = (),
           extra: Callable[[Binding], list[str]] | None = None) -> Report:
    """Non-default bindings granting any of ``perms``: one finding per binding and subject, naming what it can do
    (``can=VERBS RESOURCE; VERBS RESOURCE``; a rule limited to resourceNames shows them in brackets)."""
    rbac = _rbac(src)
    allowed = frozenset(allow)
    grants: dict[Binding, dict[str, list[str]]] = {}
    for verbs, group, resource, sub in perms:
        for b, rule, got in rbac.granting(verbs, group, resource, sub):
            if is_default_binding(b, allowed):
                continue
            names = f"[{','.join(rule.resource_names)}]" if rule.resource_names else ""
            vs = grants.setdefault(b, {}).setdefault(_what(resource, sub, group) + names, [])
            vs.extend(v for v in got if v not in vs)
    if extra is not None:
        for b in rbac.bindings:
            if not is_default_binding(b, allowed):
                for what in extra(b):
                    grants.setdefault(b, {})[what] = []
    r = Report(key)
    for b, whats in grants.items():
        can = "; ".join(f"{','.join(vs)} {what}" if vs else what for what, vs in whats.items())
        r.findings += _binding_findings(b, f" can={can}")
    return r


def cluster_admin(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.1: bindings of the cluster-admin ClusterRole beyond the defaults."""
    allowed = frozenset(allow)
    r = Report("cluster_admin_bindings")
    for b in _rbac(src).bindings:
        if b.role_kind == "ClusterRole" and b.role_name == "cluster-admin" and not is_default_binding(b, allowed):
            r.findings += _binding_findings(b, "")
    return r


def secret_access(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.2: get, list or watch on secrets."""
    return access(src, "secret_access", [(("get", "list", "watch"), "", "secrets", "")], allow)


def wildcards(src: Source) -> Report:
    """5.1.3: ``*`` in the verbs, resources, apiGroups or nonResourceURLs of a non-default Role or ClusterRole."""
    r = Report("wildcard_rules")
    for role in _rbac(src).roles:
        if is_default_role(role) or role.aggregated:
            continue
        for i, rule in enumerate(role.rules):
            where = [f"{f}=*" if "*" in vals else f"{f}={','.join(v for v in vals if '*' in v)}"
                     for f, vals in (("verbs", rule.verbs), ("resources", rule.resources),
                                     ("apiGroups", rule.api_groups), ("nonResourceURLs", rule.non_resource_urls))
                     if any("*" in v for v in vals)]
            if where:
                r.findings.append(Finding(role.kind, role.namespace, role.name, f"rules[{i}] {' '.join(where)}"))
    return r


def pod_create(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.4: create on pods."""
    return access(src, "pod_create_access", [(("create",), "", "pods", "")], allow)


def default_service_accounts(src: Source) -> Report:
    """5.1.5: default service accounts with token automount not off, or with non-default bindings."""
    r = Report("default_service_account_issues")
    for sa in src.objects("", "ServiceAccount"):
        _, ns, name = _ident(sa)
        if name == "default" and sa.get("automountServiceAccountToken") is not False:
            v = sa.get("automountServiceAccountToken")
            r.findings.append(Finding("ServiceAccount", ns, name,
                                      f"automountServiceAccountToken={'unset' if v is None else 'true'}"))
    for b in _rbac(src).bindings:
        if is_default_binding(b):
            continue
        for s in b.subjects:
            if s.kind == "ServiceAccount" and s.name == "default":
                r.findings.append(Finding(b.kind, b.namespace, b.name, f"subject={s.label(b.namespace)} "
                                                                       f"role={b.role_ref}"))
            elif s.kind == "Group" and (s.name == "system:serviceaccounts"
                                        or s.name.startswith("system:serviceaccounts:")):
                r.findings.append(Finding(b.kind, b.namespace, b.name, f"subject={s.label()} role={b.role_ref} "
                                                                       "(includes default service accounts)"))
    return r


def _workloads(src: Source) -> list[dict[str, Any]]:
    return [o for g, k in WORKLOADS for o in src.objects(g, k)]


def _pod_specs(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(metadata, spec) of a Pod or of a workload's pod template."""
    if obj.get("kind") == "Pod":
        spec = obj.get("spec")
        return _meta(obj), spec if isinstance(spec, dict) else {}
    t = template_of(obj)
    if t is None:
        return None
    spec = t.get("spec")
    meta = t.get("metadata")
    return meta if isinstance(meta, dict) else {}, spec if isinstance(spec, dict) else {}


def _dedupe(found: dict[tuple[str, str, str], list[str]], objs: dict[tuple[str, str, str], dict[str, Any]]
            ) -> list[Finding]:
    """Findings per object; an object whose controller (in the source) has the same findings is left out."""
    out: list[Finding] = []
    for ident, details in found.items():
        kind, ns, name = ident
        owner = next((o for o in _meta(objs[ident]).get("ownerReferences") or [] if o.get("controller")), None)
        if owner is not None:
            parent = (str(owner.get("kind")), ns, str(owner.get("name")))
            if parent in found and set(details) <= set(found[parent]):
                continue
        out += [Finding(kind, ns, name, d) for d in details]
    return out


def pod_rule(src: Source, key: str, rule: Callable[[dict[str, Any], dict[str, Any]], list[str]],
             exempt: Callable[[dict[str, Any]], bool] = is_system_workload) -> Report:
    """A pod security rule over every Pod and workload template, with the namespaces' PSA levels as notes."""
    found: dict[tuple[str, str, str], list[str]] = {}
    objs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for obj in _workloads(src):
        specs = _pod_specs(obj)
        if specs is None or exempt(obj):
            continue
        details = rule(*specs)
        if details:
            ident = _ident(obj)
            found[ident] = details
            objs[ident] = obj
    r = Report(key, _dedupe(found, objs))
    r.notes += psa_notes(src)
    return r


def psa_notes(src: Source) -> list[str]:
    levels: dict[str, list[str]] = {}
    for ns in src.objects("", "Namespace"):
        level = (_meta(ns).get("labels") or {}).get(PSA_ENFORCE)
        if level in ("restricted", "baseline"):
            levels.setdefault(level, []).append(_ident(ns)[2])
    return [f"Pod Security Admission enforces {lv} in: {', '.join(sorted(levels[lv]))}"
            for lv in ("restricted", "baseline") if lv in levels]


def token_automount(src: Source) -> Report:
    """5.1.6: pods and templates outside kube-system whose service account token is mounted."""
    sas = {(_ident(sa)[1], _ident(sa)[2]): sa.get("automountServiceAccountToken")
           for sa in src.objects("", "ServiceAccount")}

    def rule(meta: dict[str, Any], spec: dict[str, Any], ns: str) -> list[str]:
        sa = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
        pod_v = spec.get("automountServiceAccountToken")
        if pod_v is False:
            return []
        if pod_v is True:
            return [f"serviceAccount={sa} automountServiceAccountToken=true"]
        sa_v = sas.get((ns, sa))
        if sa_v is False:
            return []
        return [f"serviceAccount={sa} automountServiceAccountToken=unset (ServiceAccount: "
                f"{'true' if sa_v is True else 'unset'})"]

    found: dict[tuple[str, str, str], list[str]] = {}
    objs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for obj in _workloads(src):
        specs = _pod_specs(obj)
        ident = _ident(obj)
        if specs is None or ident[1] == "kube-system":
            continue
        details = rule(specs[0], specs[1], ident[1])
        if details:
            found[ident] = details
            objs[ident] = obj
    return Report("token_automount", _dedupe(found, objs))


# --------------------------------------------------------------------------- system:masters


def _der(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``."""
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("bad DER length")
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    if pos + n > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + n


def csr_organizations(request_b64: str) -> list[str]:
    """The O= values of a CertificateSigningRequest's ``spec.request`` (base64 PEM of a PKCS#10 request)."""
    try:
        pem = base64.b64decode(request_b64, validate=False).decode("ascii", "replace")
        body = re.search(r"-----BEGIN [A-Z ]*REQUEST-----(.*?)-----END", pem, re.S)
        der = base64.b64decode("".join(body.group(1).split())) if body else b""
        _, s, _ = _der(der, 0)  # CertificationRequest
        _, s, _ = _der(der, s)  # CertificationRequestInfo
        _, _, vend = _der(der, s)  # version
        tag, s, name_end = _der(der, vend)  # subject Name
        if tag != 0x30:
            return []
        out = []
        while s < name_end:
            _, rs, rend = _der(der, s)  # RelativeDistinguishedName (SET)
            while rs < rend:
                _, a, aend = _der(der, rs)  # AttributeTypeAndValue
                _, o, oend = _der(der, a)
                if der[o:oend] == b"\x55\x04\x0a":
                    _, v, vend2 = _der(der, oend)
                    out.append(der[v:vend2].decode("utf-8", "replace"))
                rs = aend
            s = rend
        return out
    except (ValueError, IndexError, binascii.Error):
        return []


def system_masters(src: Source) -> Report:
    """5.1.7: non-default bindings naming system:masters, CSRs asking for it or made by a member of it."""
    r = Report("system_masters_uses")
    for b in _rbac(src).bindings:
        if is_default_binding(b):
            continue
        for s in b.subjects:
            if s.kind == "Group" and s.name == "system:masters":
                r.findings.append(Finding(b.kind, b.namespace, b.name, f"subject=Group:system:masters "
                                                                       f"role={b.role_ref}"))
    for csr in src.objects("certificates.k8s.io", "CertificateSigningRequest"):
        spec = csr.get("spec") if isinstance(csr.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        name = _ident(csr)[2]
        if "system:masters" in csr_organizations(str(spec.get("request") or "")):
            r.findings.append(Finding("CertificateSigningRequest", "", name, "requests O=system:masters"))
        if "system:masters" in (spec.get("groups") or []):
            r.findings.append(Finding("CertificateSigningRequest", "", name,
                                      f"requested by {spec.get('username', '?')} in group system:masters"))
    if not r.findings:
        r.undecided = ("no RBAC binding or certificate signing request shows system:masters in use; client "
                       "certificates signed outside the API (with the cluster CA, or kubeadm's admin.conf before "
                       "1.29) are not objects: review them")
    return r


def escalation(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.8: bind or escalate on roles/clusterroles, impersonate on users, groups, service accounts, uids, extras."""
    rbac_group = "rbac.authorization.k8s.io"

    def extras(b: Binding) -> list[str]:
        # userextras/KEY: a rule naming the resource with its subresource (``*`` is found through uids already)
        return [f"impersonate {x}.authentication.k8s.io" for rule in b.rules
                if verb_matches(rule, "impersonate") and api_group_matches(rule, "authentication.k8s.io")
                for x in rule.resources if x.startswith("userextras/")]

    return access(src, "escalation_access", [
        (("bind", "escalate"), rbac_group, "roles", ""), (("bind", "escalate"), rbac_group, "clusterroles", ""),
        (("impersonate",), "", "users", ""), (("impersonate",), "", "groups", ""),
        (("impersonate",), "", "serviceaccounts", ""), (("impersonate",), "authentication.k8s.io", "uids", ""),
    ], allow, extras)


def pv_create(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.9: create on persistentvolumes."""
    return access(src, "pv_create_access", [(("create",), "", "persistentvolumes", "")], allow)


def node_proxy(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.10: any verb the kubelet maps its API to (get, create, update, patch, delete) on nodes/proxy."""
    verbs = ("get", "list", "watch", "create", "update", "patch", "delete")
    return access(src, "node_proxy_access", [(verbs, "", "nodes", "proxy")], allow)


def csr_approval(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.11: update or patch on certificatesigningrequests/approval."""
    return access(src, "csr_approval_access",
                  [(("update", "patch"), "certificates.k8s.io", "certificatesigningrequests", "approval")], allow)


def webhook_config(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.12: create, update, patch or delete on validating/mutating webhook configurations."""
    verbs = ("create", "update", "patch", "delete", "deletecollection")
    group = "admissionregistration.k8s.io"
    return access(src, "webhook_config_access", [(verbs, group, "validatingwebhookconfigurations", ""),
                                                 (verbs, group, "mutatingwebhookconfigurations", "")], allow)


def token_create(src: Source, allow: Iterable[str] = ()) -> Report:
    """5.1.13: create on serviceaccounts/token."""
    return access(src, "token_create_access", [(("create",), "", "serviceaccounts", "token")], allow)


def subject_bindings(src: Source, subjects: Sequence[str], allow: Iterable[str] = ()) -> Report:
    """Non-default bindings naming any of ``subjects`` (``Kind:name``, e.g. ``Group:system:authenticated``)."""
    wanted = set(subjects)
    allowed = frozenset(allow)
    r = Report("subject_bindings")
    for b in _rbac(src).bindings:
        if is_default_binding(b, allowed):
            continue
        for s in b.subjects:
            if s.label(b.namespace) in wanted:
                r.findings.append(Finding(b.kind, b.namespace, b.name, f"subject={s.label(b.namespace)} "
                                                                       f"role={b.role_ref}"))
    return r


# --------------------------------------------------------------------------- admission policy


def _covers_pods(rule: Any, ops_key: str = "operations") -> bool:
    if not isinstance(rule, dict):
        return False
    ops = [str(o) for o in rule.get(ops_key) or []]
    groups = [str(g) for g in rule.get("apiGroups") or []]
    resources = [str(x) for x in rule.get("resources") or []]
    return (any(o in ("CREATE", "*") for o in ops) and any(g in ("", "*") for g in groups)
            and any(x in ("pods", "*", "*/*") for x in resources))


def _admission_controls(src: Source) -> list[tuple[str, Callable[[dict[str, str]], bool]]]:
    """(description, namespace-labels predicate) of every webhook or admission policy that sees pod creation."""
    out: list[tuple[str, Callable[[dict[str, str]], bool]]] = []
    group = "admissionregistration.k8s.io"
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for cfg in src.objects(group, kind):
            for wh in cfg.get("webhooks") or []:
                if isinstance(wh, dict) and any(_covers_pods(x) for x in wh.get("rules") or []):
                    out.append((f"{kind} {_ident(cfg)[2]}", _ns_selector([wh.get("namespaceSelector", {})])))
    policies = {_ident(p)[2]: p for p in src.objects(group, "ValidatingAdmissionPolicy")}
    for b in src.objects(group, "ValidatingAdmissionPolicyBinding"):
        spec = b.get("spec") if isinstance(b.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        pol = policies.get(str(spec.get("policyName", "")))
        if pol is None:
            continue
        pspec = pol.get("spec") if isinstance(pol.get("spec"), dict) else {}
        assert isinstance(pspec, dict)
        mc = pspec.get("matchConstraints") if isinstance(pspec.get("matchConstraints"), dict) else {}
        assert isinstance(mc, dict)
        if not any(_covers_pods(x) for x in mc.get("resourceRules") or []):
            continue
        mr = spec.get("matchResources") if isinstance(spec.get("matchResources"), dict) else {}
        assert isinstance(mr, dict)
        out.append((f"ValidatingAdmissionPolicyBinding {_ident(b)[2]}",
                    _ns_selector([mc.get("namespaceSelector", {}), mr.get("namespaceSelector", {})])))
    return out


def _ns_selector(selectors: list[Any]) -> Callable[[dict[str, str]], bool]:
    """Namespace labels matched by every selector (an absent selector matches all namespaces)."""

    def pred(labels: dict[str, str]) -> bool:
        return all(selector_matches(s if s is not None else {}, labels) for s in selectors)

    return pred


def _ns_labels(ns: dict[str, Any]) -> dict[str, str]:
    labels = dict(_meta(ns).get("labels") or {})
    labels.setdefault("kubernetes.io/metadata.name", _ident(ns)[2])
    return labels


def policy_mechanism(src: Source) -> Report:
    """5.2.1: namespaces (except kube-system) with neither a PSA enforce label nor an admission control on pods."""
    controls = _admission_controls(src)
    r = Report("namespaces_without_policy")
    for ns in src.objects("", "Namespace"):
        name = _ident(ns)[2]
        labels = _ns_labels(ns)
        if name == "kube-system":
            continue
        level = labels.get(PSA_ENFORCE)
        if level in ("baseline", "restricted", "privileged"):
            continue
        if any(pred(labels) for _, pred in controls):
            continue
        r.findings.append(Finding("Namespace", "", name, f"no {PSA_ENFORCE} label and no admission webhook or "
                                                         "policy on pods"))
    r.notes += psa_notes(src)
    privileged = sorted(_ident(ns)[2] for ns in src.objects("", "Namespace")
                        if _ns_labels(ns).get(PSA_ENFORCE) == "privileged")
    if privileged:
        r.notes.append(f"Pod Security Admission enforces privileged (no restriction) in: {', '.join(privileged)}")
    if controls:
        r.notes.append(f"admission controls on pods: {', '.join(sorted({d for d, _ in controls}))}")
    return r


def psa_enforce(src: Source, level: str = "baseline") -> Report:
    """Namespaces (except kube-system) that do not enforce Pod Security Standard ``level`` or stricter."""
    ok = ("baseline", "restricted") if level == "baseline" else ("restricted",)
    r = Report("namespaces_not_enforcing")
    for ns in src.objects("", "Namespace"):
        name = _ident(ns)[2]
        got = _ns_labels(ns).get(PSA_ENFORCE)
        if name != "kube-system" and got not in ok:
            r.findings.append(Finding("Namespace", "", name, f"{PSA_ENFORCE}={got or 'unset'}"))
    return r


# --------------------------------------------------------------------------- network, secrets, namespaces


def _ccnp_namespaces(spec: Any) -> set[str] | None:
    """Namespaces a CiliumClusterwideNetworkPolicy selects: None for all of them."""
    specs = [spec] if isinstance(spec, dict) else []
    out: set[str] = set()
    for s in specs:
        sel = s.get("endpointSelector")
        if not isinstance(sel, dict):
            continue
        labels = {k: v for k, v in (sel.get("matchLabels") or {}).items()}
        if not labels and not sel.get("matchExpressions"):
            return None
        ns = labels.pop("k8s:io.kubernetes.pod.namespace", None) or labels.pop("io.kubernetes.pod.namespace", None)
        if ns and not labels and not sel.get("matchExpressions"):
            out.add(str(ns))
    return out


def network_policies(src: Source) -> Report:
    """5.3.2: namespaces with no NetworkPolicy (Kubernetes, Calico or Cilium; cluster-wide ones that select every
    endpoint of a namespace count for it)."""
    covered: set[str] = set()
    every = False
    any_policy = False
    for g, k in (("networking.k8s.io", "NetworkPolicy"), ("cilium.io", "CiliumNetworkPolicy"),
                 ("crd.projectcalico.org", "NetworkPolicy")):
        for p in src.objects(g, k):
            any_policy = True
            covered.add(_ident(p)[1])
    for p in src.objects("cilium.io", "CiliumClusterwideNetworkPolicy"):
        any_policy = True
        for s in ([p.get("spec")] if p.get("spec") else []) + list(p.get("specs") or []):
            got = _ccnp_namespaces(s)
            if got is None:
                every = True
            else:
                covered |= got
    for p in src.objects("crd.projectcalico.org", "GlobalNetworkPolicy"):
        any_policy = True
        spec = p.get("spec") if isinstance(p.get("spec"), dict) else {}
        assert isinstance(spec, dict)
        sel = str(spec.get("selector", "")).strip()
        if sel in ("", "all()") and not spec.get("namespaceSelector"):
            every = True
    r = Report("namespaces_without_network_policy")
    if not every:
        for ns in src.objects("", "Namespace"):
            name = _ident(ns)[2]
            if name not in covered:
                r.findings.append(Finding("Namespace", "", name, "no NetworkPolicy"))
    if not any_policy:
        r.notes.append(f"{src.description} holds no network policy of any kind (if they exist but were not read, "
                       "this check cannot see them)")
    return r


_DEFAULT_NS_SYSTEM = {("Service", "kubernetes"), ("Endpoints", "kubernetes"), ("ServiceAccount", "default"),
                      ("ConfigMap", "kube-root-ca.crt")}


def default_namespace(src: Source) -> Report:
    """5.6.4: objects in the default namespace beyond the ones Kubernetes puts there."""
    r = Report("default_namespace_objects")
    for obj in src.namespaced_in("default"):
        kind, ns, name = _ident(obj)
        labels = _meta(obj).get("labels") or {}
        if (kind, name) in _DEFAULT_NS_SYSTEM or kind in ("Event", "Lease"):
            continue
        if kind == "EndpointSlice" and labels.get("kubernetes.io/service-name") == "kubernetes":
            continue
        if kind == "Secret" and name.startswith("default-token-"):
            continue
        r.findings.append(Finding(kind, ns, name))
    return r
