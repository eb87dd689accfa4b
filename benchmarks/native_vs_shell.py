"""Speed of `--executor native` against kube-bench's way (every audit through `sh`), in one run.

Run as root from the repository root (needs unshare and gcc, like the hermetic tests):

    python benchmarks/native_vs_shell.py [--extra-processes 300] [--repeat 3]

It builds a kubeadm-like hermetic node with 300 extra processes, then inside it times
(1) a full upstream cis-1.12 run, all targets, `kubecis run --executor native` (wall time including
    interpreter start-up, and peak RSS),
(2) the same distinct audits run one by one through `sh -c` (kube-bench's way),
and outside it (3) replaying a recorded snapshot N times (nodes/s). Figures are printed as ratios
against the baseline measured in the same run; absolute times on shared machines are noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hermetic.node import Process, run_in_node  # noqa: E402
from tests.hermetic.nodes import kubeadm_defaults  # noqa: E402

COMPAT = (REPO.parent / "shared" / "compat" / "kube-bench").resolve()

INNER = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    kubecis, cfg, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    native = []
    for _ in range(repeat):
        t = time.perf_counter()
        cp = subprocess.run([kubecis, "run", "-D", cfg, "--benchmark", "cis-1.12", "--executor", "native",
                             "--json", "--outputfile", "/tmp/kubecis-bench.json"], capture_output=True)
        native.append(time.perf_counter() - t)
        assert cp.returncode == 0, cp.stderr
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    doc = json.load(open("/tmp/kubecis-bench.json"))
    scripts = []
    for ctl in doc["Controls"]:
        for g in ctl["tests"] or []:
            for c in g["results"]:
                for s in (c["AuditEnv"], c["audit"], c["AuditConfig"]):
                    if s.strip() and c["type"] == "" and "kubectl" not in s:
                        scripts.append(s)
    shell = []
    for _ in range(repeat):
        t = time.perf_counter()
        for s in scripts:
            subprocess.run(["/bin/sh", "-c", s], capture_output=True)
        shell.append(time.perf_counter() - t)
    print(json.dumps({"native": min(native), "shell": min(shell), "audits": len(scripts), "rss_kb": rss_kb}))
    """
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra-processes", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--replays", type=int, default=1000)
    args = ap.parse_args()
    kubecis = str(Path(sys.executable).with_name("kubecis"))
    spec = kubeadm_defaults()
    extra = tuple(Process(f"worker-{i:03d}", (f"/usr/local/bin/worker-{i:03d}", "--idle")) for i in range(
        args.extra_processes))
    spec = dataclasses.replace(spec, processes=(*spec.processes, *extra))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "inner.py"
        script.write_text(INNER)
        res = run_in_node(spec, [sys.executable, str(script), kubecis, str(COMPAT / "cfg"), str(args.repeat)],
                          timeout=900)
        if res.returncode != 0:
            print(res.stderr, file=sys.stderr)
            return 1
        m = json.loads(res.stdout.strip().splitlines()[-1])
        snap = Path(tmp) / "node.snap"
        rec = run_in_node(spec, [kubecis, "snapshot", "record", "-o", str(snap), "-D", str(COMPAT / "cfg"),
                                 "--benchmark", "cis-1.12"], timeout=300)
        if rec.returncode != 0:
            print(rec.stderr, file=sys.stderr)
            return 1
        replay_rate = replay_benchmark(snap, args.replays)
    print(f"node: kubeadm control plane + {args.extra_processes} extra processes; cis-1.12, all targets")
    print(f"distinct automated audits run through sh -c: {m['audits']}")
    print(f"sh -c, one audit at a time (kube-bench's way): {m['shell']:.3f} s")
    print(f"kubecis --executor native (whole run, incl. start-up): {m['native']:.3f} s")
    print(f"speed-up: {m['shell'] / m['native']:.1f}x   peak RSS of the native run: {m['rss_kb'] / 1024:.1f} MB")
    print(f"snapshot replay: {replay_rate:.0f} nodes/s ({args.replays} replays, in-process)")
    return 0


def replay_benchmark(snap: Path, n: int) -> float:
    """Evaluate a snapshot n times in one process (the per-node cost of evaluating a fleet's snapshots)."""
    from kubecis.audit.native import NativeExecutor
    from kubecis.engine import PlanRequest, make_plan, run_plan
    from kubecis.host.snapshot import SnapshotHost
    from kubecis.results.runner import Filters

    host = SnapshotHost.load(str(snap))
    t = time.perf_counter()
    for _ in range(n):
        plan = make_plan(PlanRequest(COMPAT / "cfg", benchmark="cis-1.12", allow_tools=False), host)
        run_plan(plan, NativeExecutor(host), Filters())
    return n / (time.perf_counter() - t)


if __name__ == "__main__":
    raise SystemExit(main())
