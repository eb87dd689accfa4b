"""The example snapshot (`kubecis demo`) carries the example cluster's API answers: its policies section is
evaluated, with the offending objects as evidence, not 34 manual warnings."""

from __future__ import annotations

import json

import pytest

from kubecis.cli.main import main


def test_demo_policies_are_evaluated(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ctl = next(c for c in doc["Controls"] if c["node_type"] == "policies")
    checks = {c["test_number"]: c for g in ctl["tests"] for c in g["results"]}
    manual = {k for k, c in checks.items() if c.get("type") == "manual"}
    assert manual == {"5.3.1", "5.4.2", "5.5.1", "5.6.1"}
    assert {k for k, c in checks.items() if c["status"] == "PASS"} == {"5.2.4", "5.2.5", "5.2.10", "5.2.12"}
    failed = {k for k, c in checks.items() if c["status"] == "FAIL"}
    # CIS's Manual recommendations stay unscored, but kubecis decides them from evidence: FAIL with the objects
    assert len(failed) == 25 and not any(checks[k]["scored"] for k in failed)
    assert all(checks[k]["actual_value"] and not checks[k].get("reason") for k in failed)
    assert {k for k, c in checks.items() if c["status"] == "WARN"} == manual | {"5.1.7"}
    assert checks["5.1.1"]["actual_value"] == (
        "cluster_admin_bindings: 1\nClusterRoleBinding ops-admins subject=User:alice@example.com "
        "role=ClusterRole/cluster-admin")
    assert "Deployment legacy/log-shipper container=shipper privileged=true" in checks["5.2.2"]["actual_value"]
    assert checks["5.1.7"]["reason"].startswith("kubecis probe system-masters: no RBAC binding")
