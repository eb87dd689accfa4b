"""Regenerate the example fleet of `kubecis demo --cluster` (src/kubecis/data/examples/fleet/).

    sudo python -m tests.cluster.example_fleet      # from the repository root

Each node's snapshot is recorded exactly as `kubecis cluster scan` records it: the node's Job (its pod
spec from kubecis.cluster.manifests: read-only hostPath mounts, hostPID, no capabilities) run by the fake
kubelet in the hermetic node, the payload taken from the pod log. ``worker-lost.log`` is a pod log whose
payload never fully arrived (cut short): the demo shows that node NOT EVALUATED. tests/cluster/test_demo.py
fails when the fleet is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .fakekube import FakeKubelet
from .fleet import FLEET

TARGET = Path(__file__).resolve().parents[2] / "src" / "kubecis" / "data" / "examples" / "fleet"
PLAN = {"cp-1": ["master", "controlplane", "etcd", "node"], "worker-hardened": ["node"],
        "worker-misconfigured": ["node"]}
BENCHMARK = "cis-1.12"


def pod_log(node: str, targets: list[str]) -> bytes:
    from kubecis.benchmark.bundled import materialise
    from kubecis.cluster.manifests import job_object, requirements

    req = requirements(materialise(), BENCHMARK, targets)
    job = job_object(node=node, namespace="kubecis", scan_id="example", image="kubecis:example",
                     benchmark=BENCHMARK, targets=targets, req=req, timeout=300)
    rc, log = FakeKubelet(FLEET[node]())._execute({"metadata": {"name": f"{node}-pod"},
                                                   "spec": job["spec"]["template"]["spec"]})
    if rc != 0:
        raise SystemExit(f"{node}: agent failed ({rc}): {log.decode(errors='replace')[-2000:]}")
    return log


def main(dest: Path = TARGET) -> None:
    from kubecis.cluster.payload import unframe

    dest.mkdir(parents=True, exist_ok=True)
    for node, targets in PLAN.items():
        log = pod_log(node, targets)
        (dest / f"{node}.snap").write_bytes(unframe(log))
        sys.stdout.write(f"{node}: {len(log)} bytes of pod log\n")
        if node == "worker-misconfigured":  # a second worker whose payload was cut short in transit
            (dest / "worker-lost.log").write_bytes(log[: len(log) * 2 // 3])


if __name__ == "__main__":
    main()
