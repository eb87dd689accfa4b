"""Distribution layouts: on an RKE2 server node and a k3s server node, the bundled rke2-cis-1.8 and k3s-cis-1.9
give the same status per check as kube-bench's sets of the same name (both through the real shell), and the
same again with --executor native. The policies checks our sets automate with ``kubecis probe`` cannot decide
on a node without a cluster: never PASS (WARN or FAIL through the shell, WARN with the reason natively). The checks
kubecis decides from the kube-apiserver's configuration files (docs/config-checks.md) give :data:`CONFIG_EXPECTED`
(RKE2 names its encryption, admission and audit files on the API server's command line; k3s names its encryption
file in the journal's "Running kube-apiserver" line); kube-bench WARNs some of them where it cannot decide (its
`grep -A1 providers:` finds nothing in RKE2's JSON encryption file; 3.2.2 is manual)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from kubecis.benchmark import bundled
from tests.bundled.test_parity import config_role

from .k3s import available as k3s_available
from .k3s import k3s_misconfigured, k3s_server
from .node import NodeSpec, hermetic, run_in_node
from .paths import CFG, KUBECIS
from .rke2 import rke2_misconfigured, rke2_server

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]

NODES: dict[str, Callable[[], NodeSpec]] = {
    "rke2": rke2_server, "rke2-misconfigured": rke2_misconfigured,
    "k3s": k3s_server, "k3s-misconfigured": k3s_misconfigured,
}
BENCH = {"rke2": "rke2-cis-1.8", "rke2-misconfigured": "rke2-cis-1.8", "k3s": "k3s-cis-1.9",
         "k3s-misconfigured": "k3s-cis-1.9"}
# kubecis on PATH as `pip install` puts it: the shell runs `kubecis probe` audits through the console script
ENV = {"TZ": "UTC", "PATH": f"{KUBECIS.parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


@functools.cache
def statuses(node: str, bench: str) -> dict[str, dict[str, str]]:
    """{'kube-bench': ..., 'shell': ..., 'native': ...} statuses per check id, all from one node instance."""
    ours = bundled.materialise()
    runs = {"kube-bench": (CFG, "shell"), "shell": (ours, "shell"), "native": (ours, "native")}
    script = "\n".join(f"{KUBECIS} run --config-dir {cfg} --benchmark {bench} --executor {ex} --json"
                       for cfg, ex in runs.values())
    if node.startswith("k3s"):
        ok, why = k3s_available()
        if not ok:
            pytest.skip(why)
    res = run_in_node(NODES[node](), ["/bin/sh", "-c", script], timeout=600, env=ENV)
    assert res.returncode == 0, res.stderr
    out = {}
    for label, line in zip(runs, res.stdout.splitlines(), strict=True):
        doc = json.loads(line)
        out[label] = {c["test_number"]: c["status"] for x in doc["Controls"] for g in x["tests"] or []
                      for c in g["results"]}
        if label == "native":  # checks native declined because no cluster API answers (no cluster here)
            out["declined"] = {c["test_number"]: c.get("reason", "") for x in doc["Controls"]
                               for g in x["tests"] or [] for c in g["results"]
                               if "the cluster API at" in c.get("reason", "")}
    return out


@pytest.mark.parametrize("node", list(NODES))
def test_bundled_set_matches_kube_bench_and_runs_natively(node: str) -> None:
    s = statuses(node, BENCH[node])
    config = {c.id: config_role(c) for _, c in bundled.get_set(BENCH[node]).checks() if config_role(c)}
    assert {k: s["native"][k] for k in config} == {k: CONFIG_EXPECTED[node][r] for k, r in config.items()}
    assert {k: s["shell"][k] for k in config} == {k: s["native"][k] for k in config}
    # kube-bench WARNs what it cannot decide: its 1.2.29 grep for "providers:" finds nothing in RKE2's JSON file
    assert all(s["shell"][k] == s["kube-bench"][k] or (s["shell"][k], s["kube-bench"][k]) in (
        ("FAIL", "WARN"), ("PASS", "WARN")) for k in config)
    probes = {c.id for _, c in bundled.get_set(BENCH[node]).checks() if c.audit.startswith("kubecis probe ")}
    probes -= set(config)
    assert {k: v for k, v in s["shell"].items() if k not in probes | set(config)} == {
        k: v for k, v in s["kube-bench"].items() if k not in probes | set(config)}
    assert all(s["shell"][k] in ("WARN", "FAIL") and s["native"][k] == "WARN" for k in probes)
    # kubectl audits with no reachable API server are declined natively (WARN, reason given), never guessed
    assert all(s["native"][k] == "WARN" for k in s["declined"])
    assert {k: v for k, v in s["native"].items() if k not in s["declined"]} == {
        k: v for k, v in s["shell"].items() if k not in s["declined"]}
    assert len(set(s["declined"]) - probes) <= 6


# RKE2: --enable-admission-plugins=NodeRestriction only; its encryption file starts with aescbc; cipher suites all
# GCM; audit policy `- level: Metadata`. k3s: likewise without an audit policy file.
_RKE2 = {"event-rate-limit": "FAIL", "encryption-flag": "PASS", "encryption-provider": "PASS", "ciphers": "PASS",
         "audit-policy": "PASS", "audit-coverage": "PASS"}
_K3S = {**_RKE2, "audit-policy": "FAIL", "audit-coverage": "FAIL"}
CONFIG_EXPECTED = {"rke2": _RKE2, "rke2-misconfigured": _RKE2, "k3s": _K3S, "k3s-misconfigured": _K3S}


def test_misconfigured_rke2_fails_what_it_should() -> None:
    good = statuses("rke2", "rke2-cis-1.8")["native"]
    bad = statuses("rke2-misconfigured", "rke2-cis-1.8")["native"]
    # 644 manifests, anonymous auth, no kubelet CA, profiling on, kubelet anonymous auth and read-only port
    for check_id in ("1.1.1", "1.2.1", "1.2.5", "1.3.2", "1.4.1", "4.2.1", "4.2.4"):
        assert good[check_id] == "PASS", check_id
        assert bad[check_id] == "FAIL", check_id


def test_misconfigured_k3s_fails_what_it_should() -> None:
    good = statuses("k3s", "k3s-cis-1.9")["native"]
    bad = statuses("k3s-misconfigured", "k3s-cis-1.9")["native"]
    # 644 admin and kubelet kubeconfigs, API server profiling on, kubelet read-only port
    changed = {k for k in good if good[k] != bad[k]}
    assert {"1.1.13", "1.2.15", "4.1.5", "4.2.4"} <= changed, changed
    assert all(bad[k] == "FAIL" for k in ("1.1.13", "1.2.15", "4.1.5", "4.2.4"))
