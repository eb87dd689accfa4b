"""Audit policies give the verdicts the API server's policy checker implies: 3.2.1 (a valid policy exists) and
3.2.2 (Secrets, ConfigMaps and TokenReviews at exactly Metadata; Pod and Deployment changes and pods/exec,
portforward, proxy and services/proxy recorded), rules evaluated in order, first match wins."""

from __future__ import annotations

import textwrap

import pytest

from kubecis.configfiles import audit, decode

from .node import AUDIT, node, verdicts

HEAD = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"
P, F, W = "PASS", "FAIL", "WARN"

DOCS_EXAMPLE = HEAD + """\
omitStages:
  - "RequestReceived"
rules:
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: "" # core API group
      resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*" # Wildcard matching.
    - "/version"
  - level: Request
    resources:
    - group: "" # core API group
      resources: ["configmaps"]
    namespaces: ["kube-system"]
  - level: Metadata
    resources:
    - group: "" # core API group
      resources: ["secrets", "configmaps"]
  - level: Request
    resources:
    - group: "" # core API group
    - group: "extensions" # Version of group should NOT be included.
  - level: Metadata
    omitStages:
      - "RequestReceived"
"""

GOOD = HEAD + """\
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources: [{group: "", resources: ["endpoints", "services", "services/status"]}]
  - level: None
    users: ["system:kube-controller-manager", "system:kube-scheduler"]
    verbs: ["get", "update"]
    namespaces: ["kube-system"]
    resources: [{group: "", resources: ["configmaps", "endpoints"]}]
  - level: None
    nonResourceURLs: ["/healthz*", "/version", "/swagger*"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["secrets", "configmaps", "serviceaccounts/token"]
    - group: authentication.k8s.io
      resources: ["tokenreviews"]
  - level: RequestResponse
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
    resources: [{group: ""}, {group: "apps"}]
  - level: Metadata
"""


def policy(*rules: str, head: str = HEAD) -> str:
    return head + "rules:\n" + "".join(textwrap.indent(textwrap.dedent(r).strip("\n"), "  ") + "\n" for r in rules)


CATCH_ALL = "- level: Metadata"

# (name, policy, 3.2.1, 3.2.2, evidence expected in the output)
TABLE = [
    ("catch-all Metadata", policy(CATCH_ALL), P, P, "covered: secrets: Metadata (rules[0])"),
    ("a typical good policy with exceptions for named components", GOOD, P, P,
     "an exception for an identity the policy names"),
    ("only level None: valid but records nothing", policy("- level: None"), P, F,
     "secrets: get, list, watch, create, update, patch, delete, deletecollection secrets in any namespace by any "
     "authenticated user or any service account: not recorded (rules[0] (level None; no conditions"),
    ("catch-all None before the secrets rule", policy("- level: None", """
        - level: Metadata
          resources: [{group: "", resources: ["secrets", "configmaps"]}]
     """, CATCH_ALL), P, F, "not recorded (rules[0] (level None; no conditions: matches every request))"),
    ("the secrets rule before a catch-all None... still misses pod changes",
     policy('- level: Metadata\n  resources: [{group: "", resources: ["secrets", "configmaps"]}, '
            '{group: authentication.k8s.io, resources: [tokenreviews]}]', "- level: None"), P, F,
     "pod changes: create, update, patch, delete, deletecollection pods in any namespace"),
    ("RequestResponse catch-all logs secret contents", policy("- level: RequestResponse"), P, F,
     "secrets: get, list, watch, create, update, patch, delete, deletecollection secrets in any namespace by any "
     "authenticated user or any service account or any unauthenticated user: recorded at RequestResponse"),
    ("Kubernetes docs example: configmaps in kube-system at Request", DOCS_EXAMPLE, P, F,
     "configmaps in namespace kube-system by any authenticated user"),
    ("secrets silenced in kube-system", policy("""
        - level: None
          namespaces: ["kube-system"]
          resources: [{group: ""}]
     """, CATCH_ALL), P, F, "secrets in namespace kube-system"),
    ("everyone silenced through system:authenticated", policy("""
        - level: None
          userGroups: ["system:authenticated"]
     """, CATCH_ALL), P, F, "by any authenticated user or any service account: not recorded"),
    ("a named user's secret reads at Request", policy("""
        - level: Request
          users: ["alice"]
          resources: [{group: "", resources: ["secrets"]}]
     """, CATCH_ALL), P, F, "by user alice"),
    ("tokenreviews at RequestResponse", policy("""
        - level: RequestResponse
          resources: [{group: authentication.k8s.io, resources: ["tokenreviews"]}]
     """, CATCH_ALL), P, F, "tokenreviews: create tokenreviews.authentication.k8s.io"),
    ("every stage omitted: nothing written", policy(CATCH_ALL, head=HEAD + "omitStages: [RequestReceived, "
                                                                "ResponseStarted, ResponseComplete]\n"), P, F,
     "not recorded"),
    ("secrets/* covers secrets themselves", policy("""
        - level: Metadata
          resources: [{group: "", resources: ["secrets/*", "configmaps"]}, {group: authentication.k8s.io}]
     """, "- level: None\n  resources: [{group: \"\", resources: [secrets, configmaps]}]", "- level: Request"), P, P,
     "covered: secrets: Metadata (rules[0])"),
    ("core group only: deployments not recorded", policy("- level: Metadata\n  resources: [{group: \"\"}, "
                                                         "{group: authentication.k8s.io}]"), P, F,
     "deployment changes: create, update, patch, delete, deletecollection deployments.apps in any namespace"),
    ("pods/exec silenced with */exec", policy('- level: None\n  resources: [{group: "", resources: ["*/exec"]}]',
                                              CATCH_ALL), P, F, "pods/exec: create, get pods/exec"),
    ("a non-resource None rule does not touch resources", policy('- level: None\n  nonResourceURLs: ["*"]',
                                                                 CATCH_ALL), P, P, "covered: secrets"),
    ("a named object silenced", policy("""
        - level: None
          resources: [{group: "", resources: ["secrets"], resourceNames: ["db-password"]}]
     """, CATCH_ALL), P, F, "secrets named db-password in any namespace"),
    # refused by the API server -> WARN
    ("level in lower case", policy("- level: metadata"), W, W, 'Unsupported value: "metadata"'),
    ("no rules", HEAD + "rules: []\n", W, W, "0 rules"),
    ("v1beta1 (removed in 1.24)", policy(CATCH_ALL, head="apiVersion: audit.k8s.io/v1beta1\nkind: Policy\n"), W, W,
     'apiVersion "audit.k8s.io/v1beta1"'),
    ("nonResourceURLs with resources", policy('- level: None\n  nonResourceURLs: ["/x"]\n  resources: [{group: ""}]'),
     W, W, "cannot apply to both"),
    ("group with a version", policy('- level: None\n  resources: [{group: "apps/v1"}]'), W, W,
     "RFC 1123 subdomain"),
    ("unknown stage", policy("- level: Metadata\n  omitStages: [Done]"), W, W, "allowed stages are"),
]


@pytest.mark.parametrize(("name", "text", "exists", "covers", "evidence"), TABLE, ids=[t[0] for t in TABLE])
def test_audit_policy(name: str, text: str, exists: str, covers: str, evidence: str) -> None:
    v = verdicts(node({"audit-policy-file": AUDIT}, {AUDIT: text}), ids=("3.2.1", "3.2.2"))
    assert (v["3.2.1"].state, v["3.2.2"].state) == (exists, covers), v["3.2.2"]
    shown = v["3.2.2"].reason if covers == W else v["3.2.2"].actual
    assert evidence in shown, shown


def test_no_audit_policy_file() -> None:
    v = verdicts(node({}), ids=("3.2.1", "3.2.2"))
    assert (v["3.2.1"].state, v["3.2.2"].state) == (F, F)
    assert "audit_policy: none" in v["3.2.1"].actual and "records no audit events" in v["3.2.2"].actual


def test_first_match_wins_and_subresource_forms() -> None:
    p = audit.parse(decode(policy(
        '- level: None\n  users: ["system:kube-proxy"]',
        '- level: Request\n  resources: [{group: "", resources: ["pods/*"]}]',
        '- level: RequestResponse\n  resources: [{group: "", resources: ["*/exec"]}]',
        "- level: Metadata")))

    def level(user: str, resource: str, sub: str = "", verb: str = "get") -> str:
        return audit.evaluate(p, audit.Request(user, ("system:authenticated",), verb, "", resource, sub, "ns", "x"))[1]

    assert level("system:kube-proxy", "pods") == "None"
    assert level("alice", "pods") == "Request"  # "pods/*" matches the resource itself
    assert level("alice", "pods", "exec") == "Request"  # ... and every subresource, before "*/exec"
    assert level("alice", "nodes", "exec") == "RequestResponse"
    assert level("alice", "nodes") == "Metadata"


def test_a_huge_policy_is_refused_not_evaluated_forever() -> None:
    users = ", ".join(f"u{i}" for i in range(300))
    groups = ", ".join(f"g{i}" for i in range(300))
    names = ", ".join(f"n{i}" for i in range(100))
    text = policy(f'- level: None\n  users: [{users}]\n  userGroups: [{groups}]\n  '
                  f'resources: [{{group: "", resources: [secrets], resourceNames: [{names}]}}]', CATCH_ALL)
    v = verdicts(node({"audit-policy-file": AUDIT}, {AUDIT: text}), ids=("3.2.2",))
    assert v["3.2.2"].state == W and "too many" in v["3.2.2"].reason
