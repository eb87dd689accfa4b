"""History on real (hermetic) nodes: three `kubecis run --store` scans of one node that changes between them,
then `kubecis diff` gives exactly the changes made, on SQLite and on a real PostgreSQL server (same code)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .node import NodeSpec, hermetic, run_in_node, skip_unless_hermetic
from .nodes import kubeadm_hardened

pytestmark = hermetic

KUBECIS = Path(sys.executable).parent / "kubecis"
MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
KUBELET_CONF = "/etc/kubernetes/kubelet.conf"


def scan(spec: NodeSpec, store: str, *extra: str) -> subprocess.CompletedProcess[str]:
    res = run_in_node(spec, [str(KUBECIS), "run", "--executor", "native", "--targets", "master,node", "--json",
                             "--store", store, "--node-name", "cp-1", "--cluster", "lab", *extra], timeout=300)
    assert res.returncode == 0, res.stderr
    return res


def diff(store: str, *args: str) -> dict[str, object]:
    res = subprocess.run([str(KUBECIS), "diff", "--store", store, "--format", "json", *args], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    [node] = json.loads(res.stdout)["nodes"]
    return node  # type: ignore[no-any-return]


def changed(node: dict[str, object]) -> dict[str, list[tuple[str, str | None, str | None]]]:
    cats = ("newly_failing", "fixed", "newly_not_evaluated", "newly_waived", "changed", "added", "removed")
    return {c: [(x["check"], x["before"], x["after"]) for x in node[c]]  # type: ignore[index, attr-defined]
            for c in cats if node[c]}


def test_three_scans_of_a_changing_node_give_the_exact_diff(store_url, tmp_path: Path):
    skip_unless_hermetic()
    if not KUBECIS.exists():
        pytest.skip(f"kubecis console script not found next to {sys.executable}")
    hardened = kubeadm_hardened()
    # 1: the hardened node
    first = json.loads(scan(hardened, store_url).stdout)
    states = {r["test_number"]: r["status"] for c in first["Controls"] for g in c["tests"] for r in g["results"]}
    assert (states["1.1.1"], states["4.1.5"], states["1.2.15"]) == ("PASS", "PASS", "PASS")
    # 2: someone loosens the API server manifest and kubelet.conf
    loose = hardened.chmod(MANIFEST, 0o666).chmod(KUBELET_CONF, 0o666)
    scan(loose, store_url)
    # 3: the manifest is fixed; kubelet.conf is waived; 1.2.15 is skipped (no longer evaluated)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - id: kubelet-conf\n    checks: ['4.1.5']\n    reason: read by the node agent\n"
                       "    owner: ops\n    expires: 2099-12-31\n    nodes: ['cp-*']\n")
    scan(hardened.chmod(KUBELET_CONF, 0o666), store_url, "--waivers", str(waivers), "--skip", "1.2.15")

    history = subprocess.run([str(KUBECIS), "history", "--store", store_url, "--json"], capture_output=True,
                             text=True, timeout=120)
    scans = json.loads(history.stdout)["scans"]
    assert [(s["id"], s["cluster"], s["node"], s["benchmark"]) for s in scans] == [
        (3, "lab", "cp-1", "cis-1.12"), (2, "lab", "cp-1", "cis-1.12"), (1, "lab", "cp-1", "cis-1.12")]
    t1, t2, t3 = (s["totals"] for s in reversed(scans))
    assert (t2["PASS"], t2["FAIL"]) == (t1["PASS"] - 2, t1["FAIL"] + 2)
    assert (t3["PASS"], t3["FAIL"], t3["INFO"], t3["WAIVED"]) == (t1["PASS"] - 2, t1["FAIL"], t1["INFO"] + 1, 1)

    d12 = diff(store_url, "1", "2")
    assert d12["benchmark_changed"] is False
    assert changed(d12) == {"newly_failing": [("1.1.1", "PASS", "FAIL"), ("4.1.5", "PASS", "FAIL")]}
    d23 = diff(store_url)  # default: the last two scans of the newest scan's node
    assert (d23["from"]["id"], d23["to"]["id"]) == (2, 3)  # type: ignore[index]
    assert changed(d23) == {
        "fixed": [("1.1.1", "FAIL", "PASS")],
        "newly_not_evaluated": [("1.2.15", "PASS", "INFO")],
        "newly_waived": [("4.1.5", "FAIL", "WAIVED")],
    }
    d13 = diff(store_url, "1", "3")
    assert changed(d13) == {"newly_not_evaluated": [("1.2.15", "PASS", "INFO")],
                            "newly_waived": [("4.1.5", "PASS", "WAIVED")]}
