"""RBAC evaluation over Roles, ClusterRoles and their bindings, with the API server's own rules.

The matching follows Kubernetes' RBAC authorizer (``plugin/pkg/auth/authorizer/rbac``: ``RuleAllows``,
``appliesToUser``, ``DefaultRuleResolver.VisitRulesFor``/``GetRoleReferenceRules``) and the ``rbac/v1`` helpers it
calls, one function each here:

* :func:`verb_matches` - ``VerbMatches``: the rule lists the verb or ``*``;
* :func:`api_group_matches` - ``APIGroupMatches``: the group or ``*``;
* :func:`resource_matches` - ``ResourceMatches``: ``*``, the exact ``resource`` or ``resource/subresource``, or
  ``*/subresource`` when the request has that subresource (``*`` in resources matches subresources too; ``pods``
  does not match ``pods/exec``);
* :func:`resource_name_matches` - ``ResourceNameMatches``: no resourceNames, or the request's name among them (a
  request without a name, like create or list, never matches a rule with resourceNames);
* :func:`non_resource_url_matches` - ``NonResourceURLMatches``: ``*``, the exact path, or a prefix ending in
  ``*``.

Subjects (``appliesToUser``): a User by name, a Group by membership, a ServiceAccount as the user
``system:serviceaccount:NS:NAME`` (NS defaulting to a RoleBinding's own namespace). Cluster role bindings apply in
every namespace, role bindings in their own; a RoleBinding may reference a ClusterRole (its rules then apply in the
binding's namespace only). A binding whose role does not exist grants nothing.

Aggregated ClusterRoles (``aggregationRule``) get the rules the clusterrole-aggregation controller would give them:
the rules of every other ClusterRole its selectors match, deduplicated, in name order, to a fixed point (a dump taken
from a live cluster already has them filled in; manifests do not).

Impersonation (:func:`impersonated`) follows the API server's impersonation filter: a service account user gets
``system:serviceaccounts`` and ``system:serviceaccounts:NS`` when no groups are given, and every user except
``system:anonymous`` gets ``system:authenticated`` unless ``system:authenticated`` or ``system:unauthenticated``
is among the groups (``system:anonymous`` gets ``system:unauthenticated``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubecis.policies.selectors import selector_matches

__all__ = [
    "RBAC",
    "Binding",
    "Request",
    "Rule",
    "Subject",
    "User",
    "api_group_matches",
    "impersonated",
    "non_resource_url_matches",
    "resource_matches",
    "resource_name_matches",
    "rule_allows",
    "verb_matches",
]

SA_PREFIX = "system:serviceaccount:"
ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"


def _strs(v: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in v) if isinstance(v, list) else ()


@dataclass(frozen=True, slots=True)
class Rule:
    """An ``rbacv1.PolicyRule``."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_obj(cls, d: Any) -> Rule:
        d = d if isinstance(d, dict) else {}
        return cls(_strs(d.get("verbs")), _strs(d.get("apiGroups")), _strs(d.get("resources")),
                   _strs(d.get("resourceNames")), _strs(d.get("nonResourceURLs")))

    def describe(self) -> str:
        parts = [f"verbs={','.join(self.verbs)}"]
        if self.non_resource_urls:
            parts.append(f"nonResourceURLs={','.join(self.non_resource_urls)}")
        if self.resources:
            parts.append(f"resources={','.join(self.resources)}")
        if self.api_groups:
            groups = ",".join(g or '""' for g in self.api_groups)
            parts.append(f"apiGroups={groups}")
        if self.resource_names:
            parts.append(f"resourceNames={','.join(self.resource_names)}")
        return " ".join(parts)


def verb_matches(rule: Rule, verb: str) -> bool:
    return any(v == "*" or v == verb for v in rule.verbs)


def api_group_matches(rule: Rule, group: str) -> bool:
    return any(g == "*" or g == group for g in rule.api_groups)


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for r in rule.resources:
        if r == "*" or r == combined:
            return True
        if not subresource:
            continue
        if len(r) == len(subresource) + 2 and r.startswith("*/") and r.endswith(subresource):
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    for u in rule.non_resource_urls:
        if u == "*" or u == path:
            return True
        if u.endswith("*") and path.startswith(u.rstrip("*")):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Request:
    """``authorizer.Attributes`` of one request (a resource request unless ``path`` is set)."""

    verb: str
    resource: str = ""
    api_group: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str = ""
    path: str = ""

    @property
    def resource_request(self) -> bool:
        return not self.path

    @property
    def combined(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def rule_allows(req: Request, rule: Rule) -> bool:
    """``RuleAllows``."""
    if req.resource_request:
        return (verb_matches(rule, req.verb) and api_group_matches(rule, req.api_group)
                and resource_matches(rule, req.combined, req.subresource)
                and resource_name_matches(rule, req.name))
    return verb_matches(rule, req.verb) and non_resource_url_matches(rule, req.path)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


def impersonated(name: str, groups: Iterable[str] = ()) -> User:
    """The user the API server's impersonation filter builds from Impersonate-User/-Group."""
    gs = list(groups)
    if name.startswith(SA_PREFIX) and not gs:
        ns = name[len(SA_PREFIX):].split(":", 1)[0]
        gs = ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
    if name != ANONYMOUS:
        if ALL_AUTHENTICATED not in gs and ALL_UNAUTHENTICATED not in gs:
            gs.append(ALL_AUTHENTICATED)
    elif ALL_UNAUTHENTICATED not in gs:
        gs.append(ALL_UNAUTHENTICATED)
    return User(name, tuple(gs))


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""

    @classmethod
    def from_obj(cls, d: Any) -> Subject:
        d = d if isinstance(d, dict) else {}
        return cls(str(d.get("kind", "")), str(d.get("name", "")), str(d.get("namespace") or ""))

    def applies_to(self, user: User, binding_namespace: str) -> bool:
        """``appliesToUser``."""
        if self.kind == "User":
            return user.name == self.name
        if self.kind == "Group":
            return self.name in user.groups
        if self.kind == "ServiceAccount":
            ns = self.namespace or binding_namespace
            if not ns:
                return False
            return user.name == f"{SA_PREFIX}{ns}:{self.name}"
        return False

    def label(self, binding_namespace: str = "") -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount:{self.namespace or binding_namespace}/{self.name}"
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Binding:
    """A RoleBinding or ClusterRoleBinding with the rules of the role it references."""

    kind: str
    name: str
    namespace: str  # "" for a ClusterRoleBinding
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]
    rules: tuple[Rule, ...]
    role_found: bool
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def role_ref(self) -> str:
        return f"{self.role_kind}/{self.role_name}"


@dataclass(frozen=True, slots=True)
class RoleDef:
    kind: str
    name: str
    namespace: str
    rules: tuple[Rule, ...]
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    aggregated: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


def _meta(obj: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    m = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(m, dict)
    labels = m.get("labels") if isinstance(m.get("labels"), dict) else {}
    assert isinstance(labels, dict)
    return str(m.get("name", "")), str(m.get("namespace") or ""), {str(k): str(v) for k, v in labels.items()}


def _rules(obj: dict[str, Any]) -> tuple[Rule, ...]:
    raw = obj.get("rules")
    return tuple(Rule.from_obj(r) for r in raw) if isinstance(raw, list) else ()


def aggregate(cluster_roles: dict[str, dict[str, Any]]) -> dict[str, tuple[Rule, ...]]:
    """The rules of every ClusterRole after the aggregation controller has run (to a fixed point)."""
    rules = {name: _rules(obj) for name, obj in cluster_roles.items()}
    labels = {name: _meta(obj)[2] for name, obj in cluster_roles.items()}
    aggregated = {name: obj["aggregationRule"] for name, obj in cluster_roles.items()
                  if isinstance(obj.get("aggregationRule"), dict)}
    for _ in range(len(aggregated) + 1):
        changed = False
        for name, agg in aggregated.items():
            new: list[Rule] = []
            for sel in agg.get("clusterRoleSelectors") or []:
                for other in sorted(rules):
                    if other == name or not selector_matches(sel, labels[other]):
                        continue
                    for r in rules[other]:
                        if r not in new:
                            new.append(r)
            if tuple(new) != rules[name]:
                rules[name] = tuple(new)
                changed = True
        if not changed:
            break
    return rules


class RBAC:
    """The authorization state of a set of RBAC objects (projections or full objects)."""

    def __init__(self, objects: Iterable[dict[str, Any]]) -> None:
        roles: dict[tuple[str, str], dict[str, Any]] = {}
        cluster_roles: dict[str, dict[str, Any]] = {}
        bindings: list[dict[str, Any]] = []
        for obj in objects:
            kind = obj.get("kind")
            name, ns, _ = _meta(obj)
            if kind == "Role":
                roles.setdefault((ns, name), obj)
            elif kind == "ClusterRole":
                cluster_roles.setdefault(name, obj)
            elif kind in ("RoleBinding", "ClusterRoleBinding"):
                bindings.append(obj)
        agg_rules = aggregate(cluster_roles)
        self.roles: list[RoleDef] = []
        for (ns, name), obj in sorted(roles.items()):
            self.roles.append(RoleDef("Role", name, ns, _rules(obj), _meta(obj)[2]))
        for name, obj in sorted(cluster_roles.items()):
            self.roles.append(RoleDef("ClusterRole", name, "", agg_rules[name], _meta(obj)[2],
                                      isinstance(obj.get("aggregationRule"), dict)))
        self._role_rules = {(r.kind, r.namespace, r.name): r.rules for r in self.roles}
        self.bindings: list[Binding] = []
        for obj in bindings:
            name, ns, labels = _meta(obj)
            kind = str(obj.get("kind"))
            if kind == "ClusterRoleBinding":
                ns = ""
            ref = obj.get("roleRef") if isinstance(obj.get("roleRef"), dict) else {}
            assert isinstance(ref, dict)
            rkind, rname = str(ref.get("kind", "")), str(ref.get("name", ""))
            # GetRoleReferenceRules: a Role is looked up in the binding's namespace (a ClusterRoleBinding cannot
            # reference a Role: the API server rejects it, and it would find none here)
            key = (rkind, ns if rkind == "Role" else "", rname)
            found = key in self._role_rules
            rules = self._role_rules.get(key, ())
            subjects = tuple(Subject.from_obj(s) for s in obj.get("subjects") or [])
            self.bindings.append(Binding(kind, name, ns, rkind, rname, subjects, rules, found, labels))
        self.bindings.sort(key=lambda b: (b.kind != "ClusterRoleBinding", b.namespace, b.name))

    def authorize(self, user: User, req: Request) -> Decision:
        """RBACAuthorizer.Authorize: allowed by the first binding (cluster bindings first) with a matching rule."""
        for b in self.bindings:
            if b.kind == "RoleBinding" and (not req.namespace or b.namespace != req.namespace):
                continue
            subject = next((s for s in b.subjects if s.applies_to(user, b.namespace)), None)
            if subject is None:
                continue
            if any(rule_allows(req, r) for r in b.rules):
                where = f' in namespace "{b.namespace}"' if b.namespace else ""
                return Decision(True, f'RBAC: allowed by {b.kind} "{b.name}" of {b.role_kind} "{b.role_name}" '
                                      f'to {subject.kind} "{subject.name}"{where}')
        return Decision(False, "")

    def role(self, kind: str, namespace: str, name: str) -> tuple[Rule, ...] | None:
        return self._role_rules.get((kind, namespace, name))

    def granting(self, verbs: Iterable[str], group: str, resource: str,
                 subresource: str = "") -> Iterator[tuple[Binding, Rule, tuple[str, ...]]]:
        """Bindings with a rule granting any of ``verbs`` on the resource (resourceNames-limited rules included,
        except for create/list/watch/deletecollection which a named rule cannot grant); with the verbs granted."""
        combined = f"{resource}/{subresource}" if subresource else resource
        verbs = tuple(verbs)
        for b in self.bindings:
            for r in b.rules:
                if not (api_group_matches(r, group) and resource_matches(r, combined, subresource)):
                    continue
                got = tuple(v for v in verbs if verb_matches(r, v)
                            and (not r.resource_names or v not in ("create", "list", "watch", "deletecollection")))
                if got:
                    yield b, r, got
