"""Audit ``Policy`` (``--audit-policy-file``): the level the API server records each request at.

Semantics of ``k8s.io/apiserver/pkg/audit/policy`` (``reader.go``, ``checker.go``) and ``apis/audit/validation``:

* The file is decoded as ``audit.k8s.io/v1`` ``Policy`` (v1alpha1 and v1beta1 were removed in Kubernetes 1.24);
  unknown fields are tolerated (lenient decoding after a strict attempt), a type error is not; the policy is
  validated (levels, omitStages, nonResourceURLs, resource groups) and must have at least one rule. A policy the API
  server would refuse is :class:`~kubecis.configfiles.Malformed`.
* Rules are evaluated in order and the **first** rule that matches gives the level; no match means ``None``. A rule
  matches when each of its non-empty lists matches: ``users`` (the user name), ``userGroups`` (any of the user's
  groups), ``verbs``, then -- when ``resources`` or ``namespaces`` is set -- only resource requests in one of the
  ``namespaces`` whose group and resource match an entry of ``resources`` (``resource``, ``resource/subresource``,
  ``*``, ``*/subresource``, ``resource/*``; ``resourceNames`` restrict to those objects); otherwise, when
  ``nonResourceURLs`` is set, only non-resource requests. A rule with none of these matches every request.
* ``omitStages`` of the policy and of the rule are combined; a request whose every stage is omitted is not recorded.

:func:`coverage` answers CIS 3.2.2 ("the audit policy covers key security concerns"): Secrets, ConfigMaps and
TokenReviews recorded at exactly ``Metadata`` (not ``None``: not covered; not ``Request``/``RequestResponse``: their
contents would be written to the audit log), changes to Pods and Deployments and the use of ``pods/exec``,
``pods/portforward``, ``pods/proxy`` and ``services/proxy`` recorded at ``Metadata`` or more. Every request an
ordinary requester (any authenticated user, any service account) can make, in any namespace, on any object, must
meet that; requests by users or groups a rule names explicitly (system components whose traffic a policy silences)
are reported as notes, except that nobody's Secrets, ConfigMaps or TokenReviews may be recorded above ``Metadata``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kubecis.configfiles import Malformed, get_bool, get_list, get_str, get_str_list, kind_of

__all__ = ["CONCERNS", "Concern", "Gap", "Policy", "Request", "Rule", "coverage", "evaluate", "parse"]

API_VERSION = "audit.k8s.io/v1"
LEVELS = ("None", "Metadata", "Request", "RequestResponse")
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
AUTHENTICATED, UNAUTHENTICATED, SERVICEACCOUNTS = "system:authenticated", "system:unauthenticated", \
    "system:serviceaccounts"
# Bounds: a policy larger than this is not evaluated (the check is WARN with the reason).
MAX_REQUESTS = 400_000


@dataclass(frozen=True, slots=True)
class GroupResources:
    group: str
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    index: int
    level: str
    users: tuple[str, ...] = ()
    user_groups: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resources: tuple[GroupResources, ...] = ()
    namespaces: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: frozenset[str] = frozenset()  # the rule's own and the policy's

    def describe(self) -> str:
        parts = [f"level {self.level}"]
        for label, values in (("users", self.users), ("userGroups", self.user_groups), ("verbs", self.verbs),
                              ("namespaces", self.namespaces), ("nonResourceURLs", self.non_resource_urls)):
            if values:
                parts.append(f"{label} {', '.join(_show(v) for v in values)}")
        if self.resources:
            parts.append("resources {" + ", ".join(_show_gr(g) for g in self.resources) + "}")
        if not (self.users or self.user_groups or self.verbs or self.namespaces or self.non_resource_urls
                or self.resources):
            parts.append("no conditions: matches every request")
        return f"rules[{self.index}] ({'; '.join(parts)})"


def _show(v: str) -> str:
    return v if v and re.fullmatch(r"[\w.:/*@+-]+", v) else json.dumps(v)


def _show_gr(g: GroupResources) -> str:
    what = f"[{', '.join(_show(r) for r in g.resources)}]" if g.resources else "all"
    names = f" named [{', '.join(_show(n) for n in g.resource_names)}]" if g.resource_names else ""
    return f"{g.group or 'core'}: {what}{names}"


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...]
    omit_stages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Request:
    """The attributes a rule looks at, for a resource request."""

    user: str
    groups: tuple[str, ...]
    verb: str
    api_group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def long_running(self) -> bool:
        """Requests that also pass through the ResponseStarted stage."""
        return self.verb == "watch" or self.subresource in ("exec", "attach", "portforward", "proxy")


# ----------------------------------------------------------------------------------------------- decoding

def parse(doc: Any) -> Policy:
    kind_of(doc, {"Policy": (API_VERSION,)})
    errors: list[str] = []
    policy_omit = _stages(get_str_list(doc, "omitStages", ""), "omitStages", errors)
    rules: list[Rule] = []
    for i, raw in enumerate(get_list(doc, "rules", "")):
        where = f"rules[{i}]."
        if not isinstance(raw, dict):
            raise Malformed(f"rules[{i}]: expected a mapping")
        level = get_str(raw, "level", where)
        if level == "":
            errors.append(f"{where}level: Required value")
        elif level not in LEVELS:
            errors.append(f"{where}level: Unsupported value: {json.dumps(level)}: supported values: "
                          + ", ".join(f'"{x}"' for x in LEVELS))
        urls = get_str_list(raw, "nonResourceURLs", where)
        for j, url in enumerate(urls):
            if url == "*":
                continue
            if not url.startswith("/"):
                errors.append(f"{where}nonResourceURLs[{j}]: Invalid value: {json.dumps(url)}: non-resource URL rules "
                              "must begin with a '/' character")
            if url and "*" in url[:-1]:
                errors.append(f"{where}nonResourceURLs[{j}]: Invalid value: {json.dumps(url)}: non-resource URL "
                              "wildcards '*' must be the final character of the rule")
        groups: list[GroupResources] = []
        for k, gr in enumerate(get_list(raw, "resources", where)):
            gwhere = f"{where}resources[{k}]."
            if not isinstance(gr, dict):
                raise Malformed(f"{gwhere[:-1]}: expected a mapping")
            g = GroupResources(get_str(gr, "group", gwhere), get_str_list(gr, "resources", gwhere),
                               get_str_list(gr, "resourceNames", gwhere))
            if g.group and (len(g.group) > 253 or not _DNS_SUBDOMAIN.fullmatch(g.group)):
                errors.append(f"{where}resources.group: Invalid value: {json.dumps(g.group)}: a lowercase RFC 1123 "
                              "subdomain is required (an API group without its version)")
            if g.resource_names and not g.resources:
                errors.append(f"{where}resources.resourceNames: Invalid value: using resourceNames requires at least "
                              "one resource")
            groups.append(g)
        namespaces = get_str_list(raw, "namespaces", where)
        if urls and (groups or namespaces):
            errors.append(f"{where}nonResourceURLs: Invalid value: rules cannot apply to both regular resources and "
                          "non-resource URLs")
        omit = _stages(get_str_list(raw, "omitStages", where), f"{where}omitStages", errors)
        get_bool(raw, "omitManagedFields", where)
        rules.append(Rule(i, level, get_str_list(raw, "users", where), get_str_list(raw, "userGroups", where),
                          get_str_list(raw, "verbs", where), tuple(groups), namespaces, urls, omit | policy_omit))
    if errors:
        raise Malformed("; ".join(errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""))
    if not rules:
        raise Malformed("loaded illegal policy with 0 rules")
    return Policy(tuple(rules), policy_omit)


def _stages(values: tuple[str, ...], where: str, errors: list[str]) -> frozenset[str]:
    for i, s in enumerate(values):
        if s not in STAGES:
            errors.append(f"{where}[{i}]: Invalid value: {json.dumps(s)}: allowed stages are {','.join(STAGES)}")
    return frozenset(values)


# ----------------------------------------------------------------------------------------------- matching

def _resource_matches(rule: Rule, req: Request) -> bool:
    if rule.namespaces and req.namespace not in rule.namespaces:
        return False
    if not rule.resources:
        return True
    combined = f"{req.resource}/{req.subresource}" if req.subresource else req.resource
    for g in rule.resources:
        if g.group != req.api_group:
            continue
        if not g.resources:
            return True
        for res in g.resources:
            if g.resource_names and req.name not in g.resource_names:
                continue
            if res in (combined, "*"):
                return True
            if req.subresource and res.startswith("*/") and req.subresource == res[2:]:
                return True
            if res.endswith("/*") and req.resource == res[:-2]:
                return True
    return False


def rule_matches(rule: Rule, req: Request) -> bool:
    if rule.users and req.user not in rule.users:
        return False
    if rule.user_groups and not any(g in rule.user_groups for g in req.groups):
        return False
    if rule.verbs and req.verb not in rule.verbs:
        return False
    if rule.namespaces or rule.resources:
        return _resource_matches(rule, req)
    return not rule.non_resource_urls  # a non-resource rule never matches a resource request


def evaluate(policy: Policy, req: Request) -> tuple[Rule | None, str]:
    """The first matching rule and the level the request is recorded at (``None`` when each of its stages is
    omitted: nothing is written)."""
    for rule in policy.rules:
        if rule_matches(rule, req):
            stages = {"RequestReceived", "ResponseComplete"} | ({"ResponseStarted"} if req.long_running else set())
            return rule, ("None" if stages <= rule.omit_stages else rule.level)
    return None, "None"


# ----------------------------------------------------------------------------------------------- CIS 3.2.2

READ_WRITE = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
CHANGES = ("create", "update", "patch", "delete", "deletecollection")
PROXY = ("get", "create", "update", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Concern:
    label: str
    api_group: str
    resource: str
    subresource: str
    verbs: tuple[str, ...]
    namespaced: bool = True
    metadata_only: bool = False  # True: exactly Metadata (contents never logged); False: Metadata or more


CONCERNS: tuple[Concern, ...] = (
    Concern("secrets", "", "secrets", "", READ_WRITE, metadata_only=True),
    Concern("configmaps", "", "configmaps", "", READ_WRITE, metadata_only=True),
    Concern("tokenreviews", "authentication.k8s.io", "tokenreviews", "", ("create",), namespaced=False,
            metadata_only=True),
    Concern("pod changes", "", "pods", "", CHANGES),
    Concern("deployment changes", "apps", "deployments", "", CHANGES),
    Concern("pods/exec", "", "pods", "exec", ("create", "get")),
    Concern("pods/portforward", "", "pods", "portforward", ("create", "get")),
    Concern("pods/proxy", "", "pods", "proxy", PROXY),
    Concern("services/proxy", "", "services", "proxy", PROXY),
)


@dataclass(frozen=True, order=True, slots=True)
class Gap:
    """Requests of one concern recorded at the wrong level because of one rule (or of no rule)."""

    concern: str
    level: str
    who: str
    where: str
    rule: str  # Rule.describe(), or why no rule applies
    verbs: tuple[str, ...] = ()

    def line(self) -> str:
        got = "not recorded" if self.level == "None" else f"recorded at {self.level}"
        return f"{self.concern}: {', '.join(self.verbs)} {self.where} by {self.who}: {got} ({self.rule})"


@dataclass(slots=True)
class Coverage:
    gaps: list[Gap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    met: list[str] = field(default_factory=list)  # "secrets: Metadata (rules[3] ...)"


def _other(prefix: str, taken: set[str]) -> str:
    return next(f"{prefix}{n or ''}" for n in itertools.count() if f"{prefix}{n or ''}" not in taken)


def _could_match(rule: Rule, c: Concern) -> bool:
    """Whether ``rule`` can match some request of concern ``c`` (what its resource conditions allow)."""
    if rule.non_resource_urls and not (rule.resources or rule.namespaces):
        return False
    if not rule.resources:
        return True
    req = Request("", (), c.verbs[0], c.api_group, c.resource, c.subresource)
    return any(_resource_matches(Rule(0, "", resources=(GroupResources(g.group, g.resources),)), req)
               for g in rule.resources)


@dataclass(slots=True)
class _Found:
    """Requests of one concern with the same level and cause: who made them, their verbs, the most general place."""

    whos: list[str] = field(default_factory=list)
    verbs: set[str] = field(default_factory=set)
    where: str = ""
    generality: int = -1


def coverage(policy: Policy) -> Coverage:
    """CIS 3.2.2 over :data:`CONCERNS` (see the module docstring). Raises ``OverflowError`` when the policy names
    more users, groups, namespaces and objects than can be evaluated within :data:`MAX_REQUESTS` requests."""
    out = Coverage()
    budget = MAX_REQUESTS
    for c in CONCERNS:
        rules = [r for r in policy.rules if _could_match(r, c)]
        users = sorted({u for r in rules for u in r.users})
        groups = sorted({g for r in rules for g in r.user_groups})
        namespaces = sorted({n for r in rules for n in r.namespaces if n}) if c.namespaced else []
        names = sorted({n for r in rules for g in r.resources for n in g.resource_names})
        any_ns = _other("kubecis-any-namespace", set(namespaces)) if c.namespaced else ""
        any_name = _other("kubecis-any-name", set(names))
        any_user = _other("kubecis:any-user", set(users))
        sa_ns = any_ns or "default"
        any_sa = _other(f"system:serviceaccount:{sa_ns}:kubecis-any", set(users))
        sa_groups = (SERVICEACCOUNTS, f"system:serviceaccounts:{sa_ns}", AUTHENTICATED)
        places = list(itertools.product([*namespaces, any_ns] if c.namespaced else [""], ["", *names, any_name]))
        # ordinary requesters: every request of theirs must meet the concern's level
        ordinary = [(any_user, (AUTHENTICATED,), "any authenticated user"),
                    (any_sa, sa_groups, "any service account")]
        # everyone else a rule can single out (a user or one of the groups it names, authenticated or not): only
        # the contents of Secrets, ConfigMaps and TokenReviews are never to be recorded
        singled: list[tuple[str, tuple[str, ...], str]] = []
        for u in [*users, any_user]:
            for base in (AUTHENTICATED, UNAUTHENTICATED):
                me = f"user {_show(u)}" if u != any_user else f"any {base.partition(':')[2]} user"
                singled.append((u, (base,), me))
                singled += [(u, (base, g), f"{me} in group {_show(g)}") for g in groups if g != base]
        singled += [(any_sa, (*sa_groups, g), f"a service account in group {_show(g)}") for g in groups
                    if g not in sa_groups]
        budget -= (len(ordinary) + len(singled)) * len(c.verbs) * len(places)
        if budget < 0:
            raise OverflowError("the policy names too many users, groups, namespaces and objects to evaluate")
        found: dict[tuple[str, str], _Found] = {}
        levels: dict[str, set[str]] = {}
        tolerated: dict[tuple[str, str], set[str]] = {}
        for (user, grps, who), verb, (ns, name) in itertools.product([*ordinary, *singled], c.verbs, places):
            if not _possible(verb, name, c.subresource):
                continue
            req = Request(user, grps, verb, c.api_group, c.resource, c.subresource, ns, name)
            rule, level = evaluate(policy, req)
            cause = rule.describe() if rule is not None else "no rule matches: the default level is None"
            is_ordinary = (user, grps) in ((u, g) for u, g, _ in ordinary)
            if is_ordinary:
                levels.setdefault(level, set()).add(cause if rule is None else f"rules[{rule.index}]")
            leak = c.metadata_only and level in ("Request", "RequestResponse")
            if leak or (is_ordinary and (level == "None" or (c.metadata_only and level != "Metadata"))):
                f = found.setdefault((level, cause), _Found())
                if who not in f.whos:
                    f.whos.append(who)
                f.verbs.add(verb)
                generality = (ns == any_ns) * 2 + (name in ("", any_name))
                if generality > f.generality:
                    f.where, f.generality = _where(c, ns, name, any_ns, any_name), generality
            elif level == "None" and rule is not None:
                tolerated.setdefault((who, cause), set()).add(verb)
        for (level, cause), f in found.items():
            out.gaps.append(Gap(c.label, level, " or ".join(f.whos[:3]) + (" and others" if len(f.whos) > 3 else ""),
                                f.where, cause, tuple(v for v in c.verbs if v in f.verbs)))
        if not found:
            out.met.append(f"{c.label}: " + "; ".join(f"{lv} ({', '.join(sorted(rs))})"
                                                     for lv, rs in sorted(levels.items())))
            out.notes += [f"{c.label}: {', '.join(v for v in c.verbs if v in verbs)} by {who} not recorded ({cause}): "
                          "an exception for an identity the policy names"
                          for (who, cause), verbs in sorted(tolerated.items())][:5]
    out.gaps.sort()
    return out


def _possible(verb: str, name: str, subresource: str) -> bool:
    """Whether a request can have this verb and object name (RequestInfo: a collection request has no name, a
    list or watch may name one object through a metadata.name field selector, a subresource always names one)."""
    if subresource:
        return bool(name)
    if not name:
        return verb in ("list", "watch", "create", "deletecollection")
    return verb not in ("create", "deletecollection")


def _where(c: Concern, ns: str, name: str, any_ns: str, any_name: str) -> str:
    what = f"{c.resource}/{c.subresource}" if c.subresource else c.resource
    if c.api_group:
        what += f".{c.api_group}"
    parts = [what]
    if name and name != any_name:
        parts.append(f"named {_show(name)}")
    if c.namespaced:
        parts.append("in any namespace" if ns == any_ns else f"in namespace {_show(ns)}")
    return " ".join(parts)


def no_policy_gaps() -> Iterator[Gap]:
    """Without an audit policy the API server records nothing."""
    for c in CONCERNS:
        yield Gap(c.label, "None", "anyone", c.resource + (f"/{c.subresource}" if c.subresource else ""),
                  "no --audit-policy-file: the API server records no audit events", c.verbs)
