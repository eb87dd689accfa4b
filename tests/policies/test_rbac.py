"""The RBAC evaluator against the upstream authorizer's rules (plugin/pkg/auth/authorizer/rbac and the rbac/v1
helpers), table-driven, and the tricky cases: aggregation, `*` in verbs vs resources vs apiGroups, subresources,
resourceNames, non-resource URLs, groups and service accounts, role bindings to cluster roles, impersonation."""

from __future__ import annotations

from typing import Any

import pytest

from kubecis.policies.rbac import (
    RBAC,
    Request,
    Rule,
    User,
    api_group_matches,
    impersonated,
    non_resource_url_matches,
    resource_matches,
    resource_name_matches,
    rule_allows,
    verb_matches,
)


def rule(verbs: str = "", groups: str | None = None, resources: str = "", names: str = "", urls: str = "") -> Rule:
    def split(s: str) -> tuple[str, ...]:
        return tuple(s.split(",")) if s else ()

    return Rule(split(verbs), ("",) if groups is None else tuple(groups.split(",")), split(resources),
                split(names), split(urls))


# (rule, verb) -> VerbMatches
VERBS = [(rule("get"), "get", True), (rule("get"), "list", False), (rule("*"), "escalate", True),
         (rule("get,*"), "impersonate", True), (rule(""), "get", False), (rule("GET"), "get", False)]


@pytest.mark.parametrize(("r", "verb", "want"), VERBS)
def test_verb_matches(r: Rule, verb: str, want: bool) -> None:
    assert verb_matches(r, verb) is want


GROUPS = [(rule(groups=""), "", True), (rule(groups=""), "apps", False), (rule(groups="*"), "apps", True),
          (rule(groups="apps,batch"), "batch", True), (rule(groups="apps"), "", False)]


@pytest.mark.parametrize(("r", "group", "want"), GROUPS)
def test_api_group_matches(r: Rule, group: str, want: bool) -> None:
    assert api_group_matches(r, group) is want


# ResourceMatches(rule, combinedRequestedResource, requestedSubresource)
RESOURCES = [
    ("pods", "pods", "", True),
    ("pods", "pods/exec", "exec", False),  # a resource does not cover its subresources
    ("pods/exec", "pods/exec", "exec", True),
    ("*", "pods/exec", "exec", True),  # * covers subresources too
    ("*/exec", "pods/exec", "exec", True),
    ("*/exec", "pods", "", False),
    ("*/status", "pods/exec", "exec", False),
    ("*/scale", "deployments/scale", "scale", True),
    ("nodes/*", "nodes/proxy", "proxy", False),  # only "*/sub" is a pattern; "nodes/*" is a literal name
    ("secrets,pods", "pods", "", True),
    ("Pods", "pods", "", False),
]


@pytest.mark.parametrize(("resources", "combined", "sub", "want"), RESOURCES)
def test_resource_matches(resources: str, combined: str, sub: str, want: bool) -> None:
    assert resource_matches(rule(resources=resources), combined, sub) is want


NAMES = [("", "", True), ("", "x", True), ("a,b", "b", True), ("a", "", False), ("a", "ab", False)]


@pytest.mark.parametrize(("names", "name", "want"), NAMES)
def test_resource_name_matches(names: str, name: str, want: bool) -> None:
    assert resource_name_matches(rule(names=names), name) is want


URLS = [("*", "/anything", True), ("/healthz", "/healthz", True), ("/healthz", "/healthz/etcd", False),
        ("/healthz/*", "/healthz/etcd", True), ("/healthz*", "/healthzz", True), ("/api/*", "/api", False),
        ("/logs**", "/logs/x", True), ("/version", "/version/", False)]


@pytest.mark.parametrize(("urls", "path", "want"), URLS)
def test_non_resource_url_matches(urls: str, path: str, want: bool) -> None:
    assert non_resource_url_matches(rule(urls=urls), path) is want


def test_rule_allows_combines_all_parts() -> None:
    r = rule("get", "apps", "deployments/scale", "web")
    assert rule_allows(Request("get", "deployments", "apps", "scale", "web"), r)
    assert not rule_allows(Request("get", "deployments", "apps", "scale", "db"), r)
    assert not rule_allows(Request("get", "deployments", "", "scale", "web"), r)
    assert not rule_allows(Request("update", "deployments", "apps", "scale", "web"), r)
    # a resource rule never allows a non-resource request, and the other way round
    assert not rule_allows(Request("get", path="/healthz"), rule("get", "*", "*"))
    assert rule_allows(Request("get", path="/healthz"), rule("get", urls="/healthz"))
    assert not rule_allows(Request("get", "pods"), rule("get", urls="*"))


def _binding(kind: str, name: str, role_kind: str, role: str, subjects: list[dict[str, Any]],
             ns: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"kind": kind, "metadata": meta, "roleRef": {"kind": role_kind, "name": role}, "subjects": subjects}


def _role(kind: str, name: str, rules: list[dict[str, Any]], ns: str | None = None,
          labels: dict[str, str] | None = None, agg: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels or {}}
    if ns:
        meta["namespace"] = ns
    obj: dict[str, Any] = {"kind": kind, "metadata": meta, "rules": rules}
    if agg is not None:
        obj["aggregationRule"] = agg
    return obj


OBJECTS = [
    # aggregation: "monitoring" collects every ClusterRole labelled aggregate-to-monitoring, transitively
    _role("ClusterRole", "monitoring", [], agg={"clusterRoleSelectors": [{"matchLabels": {"agg/monitoring": "true"}}]}),
    _role("ClusterRole", "metrics-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
          labels={"agg/monitoring": "true"}),
    _role("ClusterRole", "sub-aggregate", [], labels={"agg/monitoring": "true"},
          agg={"clusterRoleSelectors": [{"matchExpressions": [{"key": "agg/logs", "operator": "Exists"}]}]}),
    _role("ClusterRole", "log-reader", [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}],
          labels={"agg/logs": "x"}),
    _role("ClusterRole", "secret-reader", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                                            "resourceNames": ["db"]}]),
    _role("ClusterRole", "health", [{"nonResourceURLs": ["/healthz", "/metrics*"], "verbs": ["get"]}]),
    _role("ClusterRole", "star-verbs", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]),
    _role("Role", "pod-creator", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}], ns="team-a"),
    _binding("ClusterRoleBinding", "ops-monitoring", "ClusterRole", "monitoring",
             [{"kind": "Group", "name": "ops"}]),
    _binding("ClusterRoleBinding", "health", "ClusterRole", "health",
             [{"kind": "Group", "name": "system:authenticated"}]),
    _binding("RoleBinding", "secrets", "ClusterRole", "secret-reader",
             [{"kind": "ServiceAccount", "name": "app"}], ns="team-a"),  # SA namespace defaults to the binding's
    _binding("RoleBinding", "deployers", "ClusterRole", "star-verbs",
             [{"kind": "Group", "name": "system:serviceaccounts:ci"}], ns="team-b"),
    _binding("RoleBinding", "creators", "Role", "pod-creator", [{"kind": "User", "name": "bob"}], ns="team-a"),
    _binding("RoleBinding", "dangling", "Role", "missing", [{"kind": "User", "name": "bob"}], ns="team-a"),
    _binding("ClusterRoleBinding", "crb-to-role", "Role", "pod-creator", [{"kind": "User", "name": "eve"}]),
]
ALICE = User("alice", ("ops", "system:authenticated"))
APP = impersonated("system:serviceaccount:team-a:app")
CI = impersonated("system:serviceaccount:ci:builder")

AUTHZ = [
    (ALICE, Request("list", "pods", namespace="x"), True),  # aggregated from metrics-reader
    (ALICE, Request("get", "pods", subresource="log", namespace="x"), True),  # aggregated twice over
    (ALICE, Request("delete", "pods", namespace="x"), False),
    (ALICE, Request("get", path="/metrics/slis"), True),  # via system:authenticated, trailing *
    (ALICE, Request("get", path="/healthz/etcd"), False),
    (APP, Request("get", "secrets", name="db", namespace="team-a"), True),
    (APP, Request("get", "secrets", name="other", namespace="team-a"), False),
    (APP, Request("list", "secrets", namespace="team-a"), False),  # no name: resourceNames never match
    (APP, Request("get", "secrets", name="db", namespace="team-b"), False),  # RoleBinding: its namespace only
    (APP, Request("get", "secrets", name="db"), False),  # cluster scope: no role binding applies
    (CI, Request("escalate", "deployments", "apps", namespace="team-b"), True),  # group of every SA in "ci"
    (CI, Request("get", "deployments", "", namespace="team-b"), False),  # core group is not apps
    (User("bob", ("system:authenticated",)), Request("create", "pods", namespace="team-a"), True),
    (User("eve", ("system:authenticated",)), Request("create", "pods", namespace="team-a"), False),
]


@pytest.mark.parametrize(("user", "req", "want"), AUTHZ)
def test_authorize(user: User, req: Request, want: bool) -> None:
    assert RBAC(OBJECTS).authorize(user, req).allowed is want


def test_aggregation_reaches_a_fixed_point_and_skips_itself() -> None:
    rbac = RBAC(OBJECTS)
    got = rbac.role("ClusterRole", "", "monitoring")
    assert got is not None
    assert {r.resources for r in got} == {("pods",), ("pods/log",)}
    assert rbac.role("ClusterRole", "", "sub-aggregate") == (Rule(("get",), ("",), ("pods/log",)),)


def test_dangling_role_refs_grant_nothing() -> None:
    rbac = RBAC(OBJECTS)
    dangling = next(b for b in rbac.bindings if b.name == "dangling")
    assert not dangling.role_found and dangling.rules == ()
    crb = next(b for b in rbac.bindings if b.name == "crb-to-role")
    assert not crb.role_found  # a ClusterRoleBinding cannot reference a Role


IMPERSONATION = [
    ("alice", [], ("system:authenticated",)),
    ("alice", ["devs"], ("devs", "system:authenticated")),
    ("alice", ["system:authenticated"], ("system:authenticated",)),
    ("alice", ["system:unauthenticated"], ("system:unauthenticated",)),
    ("system:anonymous", [], ("system:unauthenticated",)),
    ("system:serviceaccount:ns1:sa", [], ("system:serviceaccounts", "system:serviceaccounts:ns1",
                                          "system:authenticated")),
    ("system:serviceaccount:ns1:sa", ["g"], ("g", "system:authenticated")),
]


@pytest.mark.parametrize(("name", "groups", "want"), IMPERSONATION)
def test_impersonation_groups(name: str, groups: list[str], want: tuple[str, ...]) -> None:
    assert impersonated(name, groups).groups == want
