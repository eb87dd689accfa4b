"""``--format sarif``: SARIF 2.1.0 (code scanning dashboards, e.g. GitHub, Azure DevOps, DefectDojo).

One SARIF run per node. Rules are the checks (id, text, remediation as help, scored or not); results are
the checks that did not pass: FAIL (``kind: fail``, ``level: error``); WARN as the benchmark means it: a
manual check is ``kind: review``, a check that could not be evaluated is ``kind: open`` (both ``level:
none``, as SARIF requires for those kinds), an unscored check whose test failed is ``kind: fail``, ``level:
warning``. A waived check keeps its original classification and carries a SARIF suppression (``external``, the
waiver's reason as justification). Where the audit names files (``stat``, ``cat``,
``find`` ... of an absolute path), they are the result's locations (``file://`` URIs on the node).
``partialFingerprints`` identify a finding by cluster, node and check, so dashboards track it across runs.

A cluster report (:func:`render_fleet`) has one run per node, each result naming its node; a node that was not
evaluated is a run with no results whose invocation failed (``executionSuccessful: false``) with the reason as
an error notification, never a clean run; the cluster-wide policies are one more run, node ``(cluster-wide)``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from typing import Any
from urllib.parse import quote

from kubecis import __version__
from kubecis.report.options import ReportOptions
from kubecis.report.views import (
    POLICIES_NODE,
    Fleet,
    FleetNode,
    NodeResults,
    NodeView,
    node_views,
    single,
    valid_text,
)
from kubecis.results.model import STATUSES, CheckResult, RunResult

# The $id of the OASIS 2.1.0 schema the tests validate against.
SCHEMA_URI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/aquasecurity/kube-bench"  # the benchmark format kubecis reads
FINGERPRINT = "kubecis/check/v1"
# Directories whose paths in an audit are programs or kernel interfaces, not the files a check inspects.
_NOT_EVIDENCE = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/dev/",
                 "/proc/", "/sys/", "/tmp/")  # noqa: S108 - paths to ignore, not a temp file
_COMMAND_START = frozenset({"|", "||", "&&", ";", "(", ")", "then", "do", "else", "if", "while", "!", "xargs",
                            "sudo", "exec", "env"})
_PATH = re.compile(r"/[A-Za-z0-9._+@%:,-]+(?:/[A-Za-z0-9._+@%:,-]+)*/?")


def audit_paths(check: CheckResult) -> list[str]:
    """Absolute file paths an audit inspects (arguments, not the programs it runs), in order, once each."""
    out: dict[str, None] = {}
    for script in (check.audit, check.audit_config):
        if not script:
            continue
        try:
            lex = shlex.shlex(script, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            words = list(lex)
        except ValueError:
            words = script.split()
        command_next = True
        for word in words:
            if word in _COMMAND_START or set(word) <= set("|&;()<>"):
                command_next = True
                continue
            if command_next:
                command_next = False
                continue
            if _PATH.fullmatch(word) and not word.startswith(_NOT_EVIDENCE) and word != "/":
                out.setdefault(word.rstrip("/") or word, None)
    return list(out)


def _classify(check: CheckResult) -> tuple[str, str] | None:
    """(kind, level) of a check that did not pass, by its state before any waiver; None for PASS/INFO."""
    state = check.waiver.state.value if check.waiver is not None else check.state.value
    if state == "FAIL":
        return "fail", "error"
    if state != "WARN":
        return None
    if check.type == "manual":
        return "review", "none"
    reason = "" if check.waiver is not None else check.reason
    if reason:
        return "open", "none"
    return "fail", "warning"


def _message(check: CheckResult, kind: str) -> str:
    detail = {"fail": "failed", "review": "manual check: review it", "open": "not evaluated"}[kind]
    text = f"{check.id} {check.text}: {detail}"
    reason = check.reason if check.waiver is None else ""
    if reason:
        text += f" ({reason})"
    if check.actual_value:
        text += f". Actual: {check.actual_value}"
    if check.expected_result:
        text += f". Expected: {check.expected_result}"
    return text


def fingerprint(cluster: str, node: str, check_id: str) -> str:
    return hashlib.sha256("\0".join((cluster, node, check_id)).encode("utf-8", "surrogateescape")).hexdigest()


def _tool() -> dict[str, Any]:
    return {"driver": {"name": "kubecis", "version": __version__, "semanticVersion": __version__,
                       "informationUri": INFORMATION_URI, "rules": []}}


def _node_run(view: NodeView, cluster: str | None = None) -> dict[str, Any]:
    run = view.result
    cluster = run.cluster if cluster is None else cluster
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for controls, group, check in run.checks():
        if check.id not in index:
            index[check.id] = len(rules)
            rule: dict[str, Any] = {
                "id": check.id,
                "name": "CIS" + re.sub(r"[^A-Za-z0-9]", "_", check.id),
                "shortDescription": {"text": check.text or check.id},
                "defaultConfiguration": {"level": "error" if check.scored else "warning"},
                "properties": {
                    "scored": check.scored,
                    "type": check.type,
                    "target": f"{controls.id} {controls.text}",
                    "nodeType": controls.node_type,
                    "section": f"{group.id} {group.text}",
                    "tags": ["CIS", "Kubernetes", controls.node_type],
                },
            }
            if check.remediation:
                rule["help"] = {"text": check.remediation}
            rules.append(rule)
        cls = _classify(check)
        if cls is None:
            continue
        kind, level = cls
        result: dict[str, Any] = {
            "ruleId": check.id,
            "ruleIndex": index[check.id],
            "kind": kind,
            "level": level,
            "message": {"text": _message(check, kind)},
            "partialFingerprints": {FINGERPRINT: fingerprint(cluster, view.name, check.id)},
            "properties": {
                "status": check.status,
                "node": view.name,
                "actualValue": check.actual_value,
                "expectedResult": check.expected_result,
                "reason": check.reason,
            },
        }
        if cluster:
            result["properties"]["cluster"] = cluster
        paths = audit_paths(check)
        if paths:
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": {"uri": "file://" + quote(p)}}} for p in paths
            ]
        if check.waiver is not None:
            w = check.waiver
            # No state/status: the committee schema names it "state", the errata "status"; absent means
            # accepted in both.
            result["suppressions"] = [{
                "kind": "external",
                "justification": w.reason,
                "properties": {"waiver": w.id, "owner": w.owner, "expires": w.expires},
            }]
        results.append(result)
    tool = _tool()
    tool["driver"]["rules"] = rules
    sarif_run: dict[str, Any] = {
        "tool": tool,
        "automationDetails": {"id": f"kubecis/{cluster or '-'}/{view.name or '-'}/"},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "node": view.name,
            "cluster": cluster,
            "benchmark": run.benchmark,
            "state": "evaluated",
            "totals": {s: view.counts.get(s) for s in STATUSES},
        },
    }
    if run.scanned_at:
        sarif_run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": run.scanned_at}]
    return sarif_run


def _not_evaluated_run(fleet: Fleet, node: FleetNode) -> dict[str, Any]:
    """A node that was not evaluated: a run without results whose invocation failed, with the reason."""
    invocation: dict[str, Any] = {
        "executionSuccessful": False,
        "toolExecutionNotifications": [{"level": "error", "message": {"text": f"{node.name}: not evaluated: "
                                                                              f"{node.reason}"}}],
    }
    if fleet.scanned_at:
        invocation["endTimeUtc"] = fleet.scanned_at
    return {
        "tool": _tool(),
        "automationDetails": {"id": f"kubecis/{fleet.cluster or '-'}/{node.name or '-'}/"},
        "columnKind": "unicodeCodePoints",
        "invocations": [invocation],
        "results": [],
        "properties": {"node": node.name, "cluster": fleet.cluster, "benchmark": node.benchmark,
                       "state": "not_evaluated", "reason": node.reason},
    }


def sarif_log(nodes: NodeResults) -> dict[str, Any]:
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [_node_run(v) for v in node_views(nodes)]}


def fleet_log(fleet: Fleet) -> dict[str, Any]:
    """One run per node in order (a node not evaluated: a failed invocation with the reason, no results), then
    one for the cluster-wide policies (node ``(cluster-wide)``)."""
    runs = []
    for n in fleet.nodes:
        if n.run is None:
            runs.append(_not_evaluated_run(fleet, n))
        else:
            runs.append(_node_run(node_views([(n.name, n.run)])[0], fleet.cluster))
    if fleet.policies is not None:
        runs.append(_node_run(node_views([(POLICIES_NODE, fleet.policies)])[0], fleet.cluster))
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}


def render_fleet(fleet: Fleet, options: ReportOptions) -> str:
    return valid_text(json.dumps(fleet_log(fleet), indent=2, ensure_ascii=False)) + "\n"


def render_nodes(nodes: NodeResults, options: ReportOptions) -> str:
    return valid_text(json.dumps(sarif_log(nodes), indent=2, ensure_ascii=False)) + "\n"


def render(run: RunResult, options: ReportOptions) -> str:
    return render_nodes(single(run), options)
