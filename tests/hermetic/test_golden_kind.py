"""kubecis reproduces kube-bench's integration-test stdout byte for byte on the reconstructed
kind v0.11.1 / kindest/node:v1.21.1 node.

Known limits of the reconstruction (see kind.py and the report in kb_reference.py): audits run
with the host's /bin/sh (dash) and GNU tools instead of the Alpine image's busybox sh; no cis-1.20
audit prints anything that differs between the two on this node.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .kind import kind_v1_21_1
from .node import hermetic, run_in_node, skip_unless_hermetic
from .paths import COMPAT, GOLDEN

pytestmark = hermetic


def test_kubecis_matches_kube_bench_golden_output_on_kind_node() -> None:
    skip_unless_hermetic()
    if not GOLDEN.is_file():
        pytest.skip(f"kube-bench compat data not found at {COMPAT.resolve()}")
    kubecis = Path(sys.executable).parent / "kubecis"
    if not kubecis.exists():
        pytest.skip(f"kubecis console script not found next to {sys.executable}")
    res = run_in_node(
        kind_v1_21_1(),
        [str(kubecis), "run", "--config-dir", str((COMPAT / "cfg").resolve()), "--executor", "shell"],
        timeout=300,
    )
    assert res.stdout == GOLDEN.read_text(), res.stderr


CHECK_KEYS = ["test_number", "test_desc", "audit", "AuditEnv", "AuditConfig", "type", "remediation", "test_info",
              "status", "actual_value", "scored", "IsMultiple", "expected_result"]
GROUP_KEYS = ["section", "type", "pass", "fail", "warn", "info", "desc", "results"]
CONTROLS_KEYS = ["id", "version", "detected_version", "text", "node_type", "tests", "total_pass", "total_fail",
                 "total_warn", "total_info"]


def test_json_of_the_same_run_has_kube_bench_fields_in_order() -> None:
    skip_unless_hermetic()
    if not GOLDEN.is_file():
        pytest.skip(f"kube-bench compat data not found at {COMPAT.resolve()}")
    kubecis = Path(sys.executable).parent / "kubecis"
    res = run_in_node(
        kind_v1_21_1(),
        [str(kubecis), "run", "--config-dir", str((COMPAT / "cfg").resolve()), "--executor", "shell", "--json"],
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.endswith("}\n") and res.stdout.count("\n") == 1
    doc = json.loads(res.stdout)
    assert list(doc) == ["Controls", "Totals"]
    assert doc["Totals"] == {"total_pass": 67, "total_fail": 11, "total_warn": 45, "total_info": 0}
    states: dict[str, str] = {}
    for controls in doc["Controls"]:
        assert list(controls) == CONTROLS_KEYS
        assert controls["detected_version"] == "1.21"
        for group in controls["tests"]:
            assert list(group) == GROUP_KEYS
            for check in group["results"]:
                keys = list(check)
                assert keys[: len(CHECK_KEYS)] == CHECK_KEYS
                assert keys[len(CHECK_KEYS):] in ([], ["reason"])
                assert check["test_info"] == [check["remediation"]]
                states[f'{controls["id"]}:{check["test_number"]}'] = check["status"]
    # the same verdicts as the golden text
    golden = [line.split(" ", 2)[:2] for line in GOLDEN.read_text().splitlines()
              if line.startswith(("[PASS]", "[FAIL]", "[WARN]"))]
    assert sorted(s[1:-1] for s, _ in golden) == sorted(states.values())
