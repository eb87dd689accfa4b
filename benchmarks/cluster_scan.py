"""Cluster scale: `kubecis cluster scan` over >= 100 fake nodes, and `kubecis cluster collect` of 1,000 files.

Run as root from the repository root (hermetic nodes need unshare and gcc, like the hermetic tests):

    python benchmarks/cluster_scan.py [--nodes 120] [--parallel 5,10,20] [--files 1000]

(1) Scan: a fake API server over TLS (tests/cluster/fakekube.py) with N nodes sharing three hermetic
    templates (kubeadm control plane, hardened worker, misconfigured worker). Each template's pod runs once
    for real (read-only mounts, hostPID, no capabilities) to get its pod log and its agent run time; every
    fake node's kubelet then answers its pod with its template's log after that run time. Printed per
    --parallel: wall time of the CLI, its peak RSS, and the speed-up against --parallel 1 measured on a
    sample of the same nodes in the same run.
(2) Collect: 1,000 snapshot files (copies of the example fleet) through `kubecis cluster collect --json
    --outputfile` (nodes/s, peak RSS), against the baseline of one `kubecis run --snapshot FILE --json`
    process per file measured on 40 of them in the same run. Copies are fair here: nothing is shared between
    files (each snapshot's audits are cached for that snapshot only; substituted definitions are shared per
    identical discovery, which a real fleet laid out alike has too).
Absolute times on a shared 2-core machine are noisy: compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cluster.fakekube import FakeCluster, FakeKubelet, cluster_env, make_node  # noqa: E402
from tests.cluster.fleet import FLEET  # noqa: E402

KUBECIS = str(Path(sys.executable).parent / "kubecis")
FLEET_DIR = REPO / "src" / "kubecis" / "data" / "examples" / "fleet"


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit status) of one CLI process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t, ru.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def templates() -> dict[str, tuple[bytes, float]]:
    """Each template's real pod log and agent run time (its Job's pod, run in the hermetic node)."""
    from kubecis.benchmark.bundled import materialise
    from kubecis.cluster.manifests import job_object, requirements

    out = {}
    plan = {"cp-1": ["master", "controlplane", "etcd", "node"], "worker-hardened": ["node"],
            "worker-misconfigured": ["node"]}
    for name, targets in plan.items():
        req = requirements(materialise(), "cis-1.12", targets)
        job = job_object(node=name, namespace="bench", scan_id="bench", image="i", benchmark="cis-1.12",
                         targets=targets, req=req, timeout=300)
        t = time.perf_counter()
        rc, log = FakeKubelet(FLEET[name]())._execute({"metadata": {"name": name},
                                                       "spec": job["spec"]["template"]["spec"]})
        if rc != 0:
            raise SystemExit(f"{name}: {log.decode(errors='replace')[-1000:]}")
        out[name] = (log, time.perf_counter() - t)
    return out


def scan_bench(n: int, parallels: list[int]) -> None:
    tpl = templates()
    for name, (_, d) in tpl.items():
        print(f"template {name}: agent run {d:.1f} s (real hermetic pod)")
    with tempfile.TemporaryDirectory() as tmp:
        fc = FakeCluster(Path(tmp))
        names = list(tpl)
        for i in range(n):
            t = names[i % 3]
            labels = {"node-role.kubernetes.io/control-plane": ""} if t == "cp-1" else {}
            log, dur = tpl[t]
            fc.add_node(make_node(f"node-{i:03d}", labels=labels), FakeKubelet(mode="replay", log=log, duration=dur))
        try:
            env = cluster_env(fc)
            base = ["--nodes", ",".join(f"node-{i:03d}" for i in range(12))]
            w1, rss1, rc = timed([KUBECIS, "cluster", "scan", "--image", "i", "--json", "--parallel", "1", *base],
                                 env)
            assert rc == 0
            per_node_serial = w1 / 12
            print(f"baseline --parallel 1 on 12 nodes: {w1:.1f} s ({per_node_serial:.2f} s per node; "
                  f"{n} nodes would take ~{per_node_serial * n:.0f} s), peak RSS {rss1:.1f} MB")
            for par in parallels:
                wall, rss, rc = timed([KUBECIS, "cluster", "scan", "--image", "i", "--json", "--parallel", str(par),
                                       "--timeout", "600"], env)
                left = fc.store.leftovers()
                print(f"scan {n} nodes --parallel {par:>3}: {wall:6.1f} s, peak RSS {rss:5.1f} MB, exit {rc}, "
                      f"speed-up vs --parallel 1: {per_node_serial * n / wall:.1f}x, left behind: {len(left)}")
        finally:
            fc.close()


def collect_bench(files: int) -> None:
    srcs = sorted(FLEET_DIR.glob("*.snap"))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "snaps"
        d.mkdir()
        for i in range(files):
            shutil.copy(srcs[i % len(srcs)], d / f"node-{i:04d}.snap")
        sample = sorted(d.iterdir())[:40]
        t = time.perf_counter()
        for f in sample:
            subprocess.run([KUBECIS, "run", "--snapshot", str(f), "--json"], stdout=subprocess.DEVNULL, check=True)
        base = len(sample) / (time.perf_counter() - t)
        out = Path(tmp) / "merged.json"
        wall, rss, rc = timed([KUBECIS, "cluster", "collect", str(d), "--json", "--outputfile", str(out)])
        assert rc == 0 and out.stat().st_size > 0
        print(f"baseline: one `kubecis run --snapshot` process per file: {base:.1f} nodes/s")
        size = out.stat().st_size >> 20
        print(f"cluster collect {files} files --json --outputfile: {wall:.1f} s = {files / wall:.0f} nodes/s "
              f"({files / wall / base:.1f}x the baseline), peak RSS {rss:.1f} MB, report {size} MiB "
              f"(load average after: {os.getloadavg()[0]:.1f})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=120)
    ap.add_argument("--parallel", default="5,10,20")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--skip-scan", action="store_true")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores)")
    collect_bench(args.files)
    if not args.skip_scan:
        scan_bench(args.nodes, [int(x) for x in args.parallel.split(",")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
