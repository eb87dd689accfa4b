"""Kubescape's regolibrary rule tests (copied unchanged) as an oracle: for each case, the subjects (RBAC rules) or
objects (workload rules) our CIS check reports equal the ones regolibrary's expected.json alerts on.

regolibrary's rules that map to a CIS check with the same meaning are used (the mapping below); its fixture
objects often have no namespace, so namespaced ones get ``default`` (what ``kubectl apply`` would give them).

Deliberate differences (DIFFERENT: the case and what kubecis reports instead):
- a RoleBinding to cluster-admin is reported by 5.1.1 (the role is used, with full control of the namespace;
  regolibrary looks at cluster role bindings only);
- a Localhost seccomp profile passes 5.6.2 (like the restricted Pod Security Standard; it is what
  ``kubecis seccomp export --format k8s`` produces); regolibrary accepts RuntimeDefault only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecis.policies import cis, podsec
from kubecis.policies.load import iter_objects

from .conftest import REGO

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CiliumClusterwideNetworkPolicy"}


class FixtureSource:
    """A Source over a handful of objects (no kind is required to be present)."""

    description = "the fixture"

    def __init__(self, objs: list[dict[str, Any]]) -> None:
        self.objs = objs

    def objects(self, group: str, kind: str) -> list[dict[str, Any]]:
        def grp(o: dict[str, Any]) -> str:
            api = str(o.get("apiVersion", ""))
            return api.rpartition("/")[0] if "/" in api else ""

        return [o for o in self.objs if o["kind"] == kind and grp(o) == group]

    def namespaced_in(self, namespace: str) -> Iterator[dict[str, Any]]:
        return (o for o in self.objs if o["metadata"].get("namespace") == namespace)


def _pod_rule(rule: str) -> Callable[[FixtureSource], cis.Report]:
    return lambda s: cis.pod_rule(s, "k", podsec.RULES[rule], exempt=lambda o: False)


RULES: dict[str, tuple[str, Callable[[Any], cis.Report]]] = {
    "cluster-admin-role": ("subjects", cis.cluster_admin),
    "rule-can-list-get-secrets-v1": ("subjects", cis.secret_access),
    "rule-can-create-pod": ("subjects", cis.pod_create),
    "rule-can-bind-escalate": ("subjects", cis.escalation),
    "rule-can-impersonate-users-groups-v1": ("subjects", cis.escalation),
    "rule-can-create-pv": ("subjects", cis.pv_create),
    "rule-can-access-proxy-subresource": ("subjects", cis.node_proxy),
    "rule-can-approve-cert-signing-request": ("subjects", cis.csr_approval),
    "rule-can-modify-admission-webhooks": ("subjects", cis.webhook_config),
    "rule-can-create-service-account-token": ("subjects", cis.token_create),
    "automount-default-service-account": ("objects", cis.default_service_accounts),
    "automount-service-account": ("objects", cis.token_automount),
    "internal-networking": ("objects", cis.network_policies),
    "pods-in-default-namespace": ("objects", cis.default_namespace),
    "rule-secrets-in-env-var": ("objects", _pod_rule("secret_env")),
    "set-seccomp-profile-RuntimeDefault": ("objects", _pod_rule("seccomp")),
}


def cases() -> list[tuple[str, Path]]:
    if not REGO.is_dir():
        return []
    return [(rule, case) for rule in RULES for case in sorted((REGO / rule).iterdir()) if case.is_dir()]


DIFFERENT: dict[tuple[str, str], set[tuple[str, str]]] = {
    ("cluster-admin-role", "clusterrole-rolebinding"): {("User", "jane")},
    ("set-seccomp-profile-RuntimeDefault", "pod"): set(),
    ("set-seccomp-profile-RuntimeDefault", "workloads"): set(),
}


def _expected(case: Path, what: str) -> set[tuple[str, str]]:
    if (case.parent.name, case.name) in DIFFERENT:
        return DIFFERENT[(case.parent.name, case.name)]
    out = set()
    for alert in json.loads((case / "expected.json").read_text()):
        obj = alert.get("alertObject", {})
        if what == "subjects":
            x = obj["externalObjects"]
            out.add((x["kind"], x["name"]))
        else:
            out |= {(o["kind"], o["metadata"]["name"]) for o in obj.get("k8sApiObjects", [])}
    return out


def _ours(report: cis.Report, what: str) -> set[tuple[str, str]]:
    if what == "objects":
        return {(f.kind, f.name) for f in report.findings}
    out = set()
    for f in report.findings:
        subject = f.detail.split()[0].removeprefix("subject=")
        kind, _, name = subject.partition(":")
        out.add((kind, name.rpartition("/")[2] if kind == "ServiceAccount" else name))
    return out


def test_cases_found() -> None:
    if not REGO.is_dir():
        pytest.skip(f"regolibrary fixtures not found at {REGO}")
    assert len(cases()) >= 60


@pytest.mark.parametrize(("rule", "case"), cases(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_same_findings_as_regolibrary(rule: str, case: Path) -> None:
    objs = []
    for o in iter_objects(case / "input"):
        if o["kind"] not in CLUSTER_SCOPED:
            o["metadata"].setdefault("namespace", "default")
        objs.append(o)
    what, check = RULES[rule]
    assert _ours(check(FixtureSource(objs)), what) == _expected(case, what)


def test_regolibrary_inputs_are_unchanged_yaml() -> None:
    # the copies parse as the YAML/JSON they are (a guard against editing the oracle by accident)
    for _, case in cases():
        for f in (case / "input").iterdir():
            assert yaml.safe_load(f.read_text()) is not None
