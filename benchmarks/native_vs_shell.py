"""Speed of `--executor native` against kube-bench's way (every audit through `sh`), in one run.

Run as root from the repository root (needs unshare and gcc, like the hermetic tests):

    python benchmarks/native_vs_shell.py [--extra-processes 300] [--repeat 3]

It builds a kubeadm-like hermetic node with 300 extra processes, then inside it times
(1) a full upstream cis-1.12 run, all targets, `kubecis run --executor native` (wall time including
    interpreter start-up, and peak RSS): the first run with an empty definitions cache, and the best of the
    next runs (the parsed definitions read from the cache),
(2) the same audits run one by one through `sh -c` (kube-bench's way),
(3) the same audits through the native executor inside one Python process (cold host, empty parse memo):
    the like-for-like figure, without interpreter start-up, YAML loading and reporting,
(4) `kubecis version` (start-up alone) beside `python -c pass` (the interpreter's own floor),
(5) where a whole run's time goes, each phase measured in a fresh process: interpreter start-up, imports,
    plan (definitions YAML, discovery), audits and evaluation, report,
and outside it (6) `kubecis cluster collect` of 1,000 copies of a snapshot recorded on that node (the real batch path:
2 worker processes, each distinct audit run once per snapshot, the merged JSON written), in nodes/s, against one
`kubecis run --snapshot FILE --json` process per file measured on 20 of them in the same run.
Figures are printed as ratios against the baseline measured in the same run; absolute times on
shared machines are noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
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
    import json, os, resource, subprocess, sys, tempfile, time
    kubecis, cfg, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # an empty cache: the first run parses the definitions' YAML (and caches the parse), the others read the cache
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()
    native = []
    for _ in range(repeat + 1):
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
    # Like for like: the same audits through the native executor in this process (cold: fresh host, so a
    # fresh process table, and an empty parse memo), i.e. without interpreter start-up and YAML loading.
    from kubecis.audit.native import NativeExecutor, parser
    from kubecis.host.live import LiveHost
    inproc = []
    for _ in range(repeat):
        parser.clear_memo()
        t = time.perf_counter()
        ex = NativeExecutor(LiveHost())
        for s in scripts:
            ex.run(s)
        inproc.append(time.perf_counter() - t)
    def best(argv, n):
        out = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            out.append(time.perf_counter() - t)
        return min(out)
    version = best([kubecis, "version"], 10)
    bare = best([sys.executable, "-c", "pass"], 10)
    phases = []
    for _ in range(repeat):
        cp = subprocess.run([sys.executable, "-c", PHASES, cfg], capture_output=True, text=True, check=True)
        phases.append(json.loads(cp.stdout))
    phase = {k: min(p[k] for p in phases) for k in phases[0]}
    print(json.dumps({"native": min(native[1:]), "native_cold": native[0], "shell": min(shell), "inproc": min(inproc),
                      "audits": len(scripts),
                      "rss_kb": rss_kb, "version": version, "bare": bare, "phases": phase}))
    """
)

# One run split into its phases, in a fresh process (so imports are cold): what a whole run cannot go below.
PHASES = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    t0 = time.perf_counter()
    from kubecis.cli import main, run  # the CLI and the run command, as `kubecis run` imports them
    from kubecis.audit.dispatch import OncePerRun
    from kubecis.audit.native import NativeExecutor
    from kubecis.engine import PlanRequest, make_plan, run_plan
    from kubecis.host.cluster import LiveCluster
    from kubecis.host.live import LiveHost
    from kubecis.report import ReportOptions, render
    from kubecis.results.runner import Filters
    t1 = time.perf_counter()
    host = LiveHost()
    plan = make_plan(PlanRequest(Path(sys.argv[1]), benchmark="cis-1.12", allow_tools=False), host)
    t2 = time.perf_counter()
    result = run_plan(plan, OncePerRun(NativeExecutor(host, cluster=LiveCluster())), Filters())  # as `kubecis run`
    t3 = time.perf_counter()
    render("json", result, ReportOptions())
    t4 = time.perf_counter()
    print(json.dumps({"imports": t1 - t0, "plan": t2 - t1, "audits": t3 - t2, "report": t4 - t3}))
    """
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra-processes", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--replays", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes of cluster collect")
    args = ap.parse_args()
    kubecis = str(Path(sys.executable).with_name("kubecis"))
    spec = kubeadm_defaults()
    extra = tuple(Process(f"worker-{i:03d}", (f"/usr/local/bin/worker-{i:03d}", "--idle")) for i in range(
        args.extra_processes))
    spec = dataclasses.replace(spec, processes=(*spec.processes, *extra))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "inner.py"
        script.write_text(INNER.replace("PHASES", repr(PHASES)))
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
        replay_base, replay_rate = collect_benchmark(snap, args.replays, args.jobs, kubecis)
    print(f"node: kubeadm control plane + {args.extra_processes} extra processes; cis-1.12, all targets")
    print(f"audit scripts of the automated checks (kubectl ones aside), run through sh -c: {m['audits']}")
    print(f"sh -c, one audit at a time (kube-bench's way): {m['shell']:.3f} s")
    print(f"the same audits, native executor in-process: {m['inproc']:.3f} s   "
          f"speed-up: {m['shell'] / m['inproc']:.1f}x")
    print(f"kubecis --executor native (whole run: start-up, definitions, all checks, report): {m['native']:.3f} s   "
          f"speed-up: {m['shell'] / m['native']:.1f}x")
    print(f"  its first run on the node (definitions' YAML parsed, then cached): {m['native_cold']:.3f} s   "
          f"speed-up: {m['shell'] / m['native_cold']:.1f}x")
    print(f"kubecis version: {m['version'] * 1000:.0f} ms (python -c pass: {m['bare'] * 1000:.0f} ms)")
    ph = m["phases"]
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores)")
    print("where a whole run goes (each phase in a fresh process): python start-up "
          f"{m['bare'] * 1000:.0f} ms, imports {ph['imports'] * 1000:.0f} ms, plan (definitions, discovery) "
          f"{ph['plan'] * 1000:.0f} ms, audits and evaluation {ph['audits'] * 1000:.0f} ms, report "
          f"{ph['report'] * 1000:.0f} ms")
    print(f"peak RSS of the native run: {m['rss_kb'] / 1024:.1f} MB")
    print(f"one `kubecis run --snapshot FILE --json` process per file: {replay_base:.1f} nodes/s")
    print(f"`kubecis cluster collect` of {args.replays} such snapshot files ({args.jobs} worker processes, merged JSON "
          f"written): {replay_rate:.0f} nodes/s   ({replay_rate / replay_base:.1f}x)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


def collect_benchmark(snap: Path, n: int, jobs: int, kubecis: str) -> tuple[float, float]:
    """(nodes/s of one `kubecis run --snapshot` process per file on a sample, nodes/s of `kubecis cluster collect`
    over n copies of the snapshot with `jobs` worker processes)."""
    import shutil
    import subprocess

    cfg = ["-D", str(COMPAT / "cfg"), "--benchmark", "cis-1.12"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "snaps"
        d.mkdir()
        for i in range(n):
            shutil.copyfile(snap, d / f"node-{i:04d}.snap")
        sample = sorted(d.iterdir())[: min(20, n)]
        t = time.perf_counter()
        for f in sample:
            subprocess.run([kubecis, "run", "--snapshot", str(f), *cfg, "--json"], stdout=subprocess.DEVNULL,
                           check=True)
        base = len(sample) / (time.perf_counter() - t)
        out = Path(tmp) / "merged.json"
        t = time.perf_counter()
        subprocess.run([kubecis, "cluster", "collect", str(d), *cfg, "--jobs", str(jobs), "--json", "--outputfile",
                        str(out)], stdout=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t
        assert out.stat().st_size > 0
        return base, n / wall


if __name__ == "__main__":
    raise SystemExit(main())
