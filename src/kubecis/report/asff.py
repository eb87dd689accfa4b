"""AWS Security Finding Format (kube-bench's ``--asff``): one finding per FAIL or WARN check.

The fields are kube-bench's (kube-bench-compat.md#asff-findings) with its defects fixed:

- **Stable ids.** ``Id`` is kube-bench's ``<ProductArn><account>EKSnodeID+<check id>+<cluster ARN>+<node>``
  with no time in it, so a second run updates the finding instead of adding one (kube-bench #1116).
- **Distinct per node and per cluster.** kube-bench adds the node only when ``NODE_NAME`` is set, so the
  nodes of a cluster overwrite each other's findings (#1179, #1190). Here the node is always part of the
  id: ``NODE_NAME`` when set, else the node the results are about (``--node-name``, else its host name).
  The cluster ARN (required) makes it distinct per cluster. With ``NODE_NAME`` set, the id is exactly
  kube-bench's, so switching from kube-bench updates its findings instead of duplicating them.
- **Waived checks** are sent with ``Workflow.Status`` SUPPRESSED and the waiver as the ``Note``.

:func:`findings` builds the list (a pure function); ``--format asff`` prints it as the body of a
``BatchImportFindings`` request; :mod:`kubecis.sinks.asff` sends it.
"""

from __future__ import annotations

import json
from typing import Any

from kubecis.errors import UsageError
from kubecis.report.options import AsffSettings, ReportOptions
from kubecis.report.views import valid_text
from kubecis.results.model import CheckResult, RunResult

PRODUCT_ARN = "arn:aws:securityhub:{region}::product/aqua-security/kube-bench"
SCHEMA_VERSION = "2018-10-08"
TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/CIS Kubernetes Benchmark"
# ASFF's required top-level fields (BatchImportFindings refuses a finding without any of them).
REQUIRED = ("AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources",
            "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt")


def _cut(text: str, limit: int, keep: int) -> str:
    """kube-bench's truncation: longer than ``limit`` bytes -> the first ``keep`` bytes (whole characters)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    return data[:keep].decode("utf-8", "ignore")


def finding_id(settings: AsffSettings, node: str, check_id: str) -> str:
    product = PRODUCT_ARN.format(region=settings.region)
    fid = f"{product}{settings.account}EKSnodeID+{check_id}+{settings.cluster_arn}"
    node = settings.node_name or node
    return f"{fid}+{node}" if node else fid


def _sent(check: CheckResult) -> bool:
    state = check.waiver.state.value if check.waiver is not None else check.state.value
    return state in ("FAIL", "WARN")


def findings(run: RunResult, settings: AsffSettings, now: str = "") -> list[dict[str, Any]]:
    """The findings of ``run`` (FAIL and WARN checks, waived ones SUPPRESSED); ``now``: RFC 3339."""
    now = now or run.scanned_at
    product = PRODUCT_ARN.format(region=settings.region)
    out: list[dict[str, Any]] = []
    for controls in run.sorted().controls:
        for group in controls.groups:
            for check in group.checks:
                if not _sent(check):
                    continue
                reason = check.reason if check.waiver is None else ""
                f: dict[str, Any] = {
                    "SchemaVersion": SCHEMA_VERSION,
                    "Id": finding_id(settings, run.node, check.id),
                    "ProductArn": product,
                    "GeneratorId": f"{product}/cis-kubernetes-benchmark/{controls.version}/{check.id}",
                    "AwsAccountId": settings.account,
                    "Types": [TYPE],
                    "CreatedAt": now,
                    "UpdatedAt": now,
                    "Severity": {"Label": "HIGH"},
                    "Confidence": 100,
                    "Title": _cut(f"{check.id} {check.text}", 256, 256),
                    "Description": _cut(check.text, 1024, 1024),
                    "Remediation": {"Recommendation": {"Text": _cut(check.remediation, 512, 511)}},
                    "ProductFields": {
                        "Reason": _cut(reason, 1024, 1023),
                        "Actual result": _cut(check.actual_value, 1024, 1023),
                        "Expected result": _cut(check.expected_result, 1024, 1023),
                        "Section": f"{controls.id} {controls.text}",
                        "Subsection": f"{group.id} {group.text}",
                        "Node": settings.node_name or run.node,
                    },
                    "Resources": [{"Id": settings.cluster_arn, "Type": TYPE}],
                }
                if check.waiver is not None:
                    w = check.waiver
                    f["Workflow"] = {"Status": "SUPPRESSED"}
                    f["Note"] = {"Text": _cut(f"waived until {w.expires}: {w.reason}", 512, 512),
                                 "UpdatedBy": _cut(w.owner or "kubecis", 512, 512), "UpdatedAt": now}
                out.append(f)
    return out


def render(run: RunResult, options: ReportOptions) -> str:
    """``--format asff``: the findings as a ``BatchImportFindings`` request body, without sending them."""
    if options.asff is None:
        raise UsageError("--format asff needs AWS_ACCOUNT, AWS_REGION and CLUSTER_ARN (the benchmark's "
                         "config.yaml or KUBE_BENCH_AWS_ACCOUNT, KUBE_BENCH_AWS_REGION, KUBE_BENCH_CLUSTER_ARN)")
    return valid_text(json.dumps({"Findings": findings(run, options.asff)}, indent=2, ensure_ascii=False)) + "\n"
