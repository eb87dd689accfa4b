"""`--executor native` gives exactly what `--executor shell` (kube-bench's way) gives, check by check:
status, actual_value and expected_result, for every upstream set that applies to a kubeadm node, on
three kinds of node. The one class of audit outside the native subset is `kubectl` (it queries the
cluster API, which no node-local interpreter can answer); those checks must say so."""

from __future__ import annotations

import functools
import json

import pytest

from .kind import kind_v1_21_1
from .node import hermetic, run_in_node
from .nodes import kubeadm_defaults, kubeadm_hardened, kubeadm_misconfigured
from .paths import COMPAT, KUBECIS

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]

SETS = ("cis-1.8", "cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12", "cis-1.20", "cis-1.23", "cis-1.24")
NODES = {"defaults": kubeadm_defaults, "hardened": kubeadm_hardened, "misconfigured": kubeadm_misconfigured,
         "kind": kind_v1_21_1}

Row = tuple[str, str, str, str, str]


def _script() -> str:
    """Every set under both executors inside ONE node instance (process start times must be the same)."""
    return "\n".join(f"{KUBECIS} run --config-dir {COMPAT / 'cfg'} --benchmark {b} --executor {ex} --json"
                     for ex in ("shell", "native") for b in SETS)


@functools.cache
def results(node: str) -> dict[str, dict[str, dict[str, Row]]]:
    res = run_in_node(NODES[node](), ["/bin/sh", "-c", _script()], timeout=600)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 2 * len(SETS)
    out: dict[str, dict[str, dict[str, Row]]] = {"shell": {}, "native": {}}
    for i, line in enumerate(lines):
        ex, bench = ("shell", "native")[i // len(SETS)], SETS[i % len(SETS)]
        doc = json.loads(line)
        out[ex][bench] = {
            f'{ctl["id"]}/{c["test_number"]}': (c["status"], c["actual_value"], c["expected_result"],
                                                c.get("reason", ""), c["audit"] + c["AuditConfig"])
            for ctl in doc["Controls"] for g in ctl["tests"] or [] for c in g["results"]
        }
    return out


@pytest.mark.parametrize("node", sorted(NODES))
def test_native_equals_shell(node: str) -> None:
    shell = results(node)["shell"]
    native = results(node)["native"]
    compared = 0
    for bench in SETS:
        assert shell[bench].keys() == native[bench].keys()
        for key, (state, actual, expected, _reason, audit) in shell[bench].items():
            n_state, n_actual, n_expected, n_reason, _ = native[bench][key]
            if "kubectl" in audit:
                assert n_reason.startswith("audit not supported natively: "), (bench, key)
                assert n_state == "WARN"
                continue
            assert (n_state, n_actual, n_expected) == (state, actual, expected), (bench, key)
            compared += 1
    assert compared > 600
