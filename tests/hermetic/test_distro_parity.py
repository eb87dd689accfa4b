"""Distribution layouts: on an RKE2 server node, the bundled rke2-cis-1.8 gives the same status per check as
kube-bench's rke2-cis-1.8 (both through the real shell), and the same again with --executor native."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from kubecis.benchmark import bundled

from .node import NodeSpec, hermetic, run_in_node
from .paths import CFG, KUBECIS
from .rke2 import rke2_misconfigured, rke2_server

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]

NODES: dict[str, Callable[[], NodeSpec]] = {"rke2": rke2_server, "rke2-misconfigured": rke2_misconfigured}


@functools.cache
def statuses(node: str, bench: str) -> dict[str, dict[str, str]]:
    """{'kube-bench': ..., 'shell': ..., 'native': ...} statuses per check id, all from one node instance."""
    ours = bundled.materialise()
    runs = {"kube-bench": (CFG, "shell"), "shell": (ours, "shell"), "native": (ours, "native")}
    script = "\n".join(f"{KUBECIS} run --config-dir {cfg} --benchmark {bench} --executor {ex} --json"
                       for cfg, ex in runs.values())
    res = run_in_node(NODES[node](), ["/bin/sh", "-c", script], timeout=600)
    assert res.returncode == 0, res.stderr
    out = {}
    for label, line in zip(runs, res.stdout.splitlines(), strict=True):
        doc = json.loads(line)
        out[label] = {c["test_number"]: c["status"] for x in doc["Controls"] for g in x["tests"] or []
                      for c in g["results"]}
    return out


@pytest.mark.parametrize("node", list(NODES))
def test_bundled_rke2_matches_kube_bench_and_runs_natively(node: str) -> None:
    s = statuses(node, "rke2-cis-1.8")
    assert s["shell"] == s["kube-bench"]
    assert s["native"] == s["shell"]


def test_misconfigured_rke2_fails_what_it_should() -> None:
    good = statuses("rke2", "rke2-cis-1.8")["native"]
    bad = statuses("rke2-misconfigured", "rke2-cis-1.8")["native"]
    # 644 manifests, anonymous auth, no kubelet CA, profiling on, kubelet anonymous auth and read-only port
    for check_id in ("1.1.1", "1.2.1", "1.2.5", "1.3.2", "1.4.1", "4.2.1", "4.2.4"):
        assert good[check_id] == "PASS", check_id
        assert bad[check_id] == "FAIL", check_id
