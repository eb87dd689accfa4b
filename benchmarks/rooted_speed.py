"""Speed of `--root DIR`: contained resolution (openat2, or the fd walk) against a baseline, in one run.

Run from the repository root (as root: the tree's files get their kubeadm owners):

    python benchmarks/rooted_speed.py [--extra-processes 300] [--repeat 5] [--baseline-src DIR]

It writes a kubeadm-like node (tests/hermetic/nodes.kubeadm_defaults) as a plain directory tree with a
fake DIR/proc (the components plus --extra-processes fillers), then times
(1) `kubecis run --root DIR --benchmark cis-1.10 --json` end to end (CPU time of the process, interpreter
    start-up included; runs interleaved with the baseline's), and
(2) every audit of that run through the native executor over a cold RootedHost inside one process
    (the like-for-like figure for the host layer), with each resolver (openat2, walk).
With --baseline-src (a `src` directory of another revision, e.g. from `git archive <rev> src`), the same
figures are measured for it and every figure is printed as a ratio against it; absolute times on shared
machines are noisy, so compare ratios from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hermetic.nodes import kubeadm_defaults  # noqa: E402
from tests.host.rootfs import write_root  # noqa: E402

BENCH = "cis-1.10"

INNER = textwrap.dedent(
    """
    import inspect, json, sys, time
    root, resolver, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from kubecis.audit.native import NativeExecutor
    from kubecis.engine import PlanRequest, make_plan
    from kubecis.host.rooted import RootedHost
    from kubecis.benchmark.bundled import materialise

    def host():
        if "resolver" in inspect.signature(RootedHost).parameters:
            return RootedHost(root, resolver=resolver)
        return RootedHost(root)

    plan = make_plan(PlanRequest(materialise(), benchmark=sys.argv[4]), host())
    scripts = [s for t in plan.targets for g in t.controls.groups for c in g.checks
               for s in (c.audit_env, c.audit, c.audit_config) if s.strip()]
    times = []
    for _ in range(repeat):
        ex = NativeExecutor(host())
        t = time.perf_counter()
        for s in scripts:
            ex.run(s)
        times.append(time.perf_counter() - t)
    print(json.dumps({"scripts": len(scripts), "times": times}))
    """
)


def _env(src: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(src), PYTHONDONTWRITEBYTECODE="1")


def time_cli(src: Path, root: Path) -> float:
    """CPU seconds (user + system) of one `kubecis run --root`: steadier than wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cp = subprocess.run([sys.executable, "-m", "kubecis", "run", "--root", str(root), "--benchmark", BENCH,
                         "--json"], env=_env(src), capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cp.returncode != 0:
        raise SystemExit(f"kubecis run failed: {cp.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_audits(src: Path, root: Path, resolver: str, repeat: int) -> tuple[int, list[float]]:
    cp = subprocess.run([sys.executable, "-c", INNER, str(root), resolver, str(repeat), BENCH], env=_env(src),
                        capture_output=True, text=True)
    if cp.returncode != 0:
        raise SystemExit(f"audit timing failed: {cp.stderr[-800:]}")
    doc = json.loads(cp.stdout)
    return doc["scripts"], doc["times"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra-processes", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-src", type=Path, help="a src/ directory of the revision to compare against")
    args = ap.parse_args()
    src = REPO / "src"
    for tree in (src, args.baseline_src):  # same footing: byte-compiled before anything is timed
        if tree is not None:
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree)], check=True)
    with tempfile.TemporaryDirectory(prefix="kubecis-rooted-") as tmp:
        root = Path(tmp) / "node"
        write_root(kubeadm_defaults(), root, extra=args.extra_processes)
        rows: list[tuple[str, float]] = []
        base_cli = base_audits = None
        cli_runs: list[float] = []
        base_runs: list[float] = []
        for _ in range(args.repeat):  # interleaved, so load changes hit both alike
            if args.baseline_src:
                base_runs.append(time_cli(args.baseline_src, root))
            cli_runs.append(time_cli(src, root))
        if args.baseline_src:
            base_cli = statistics.median(base_runs)
            n, t = time_audits(args.baseline_src, root, "auto", args.repeat)
            base_audits = statistics.median(t)
            rows += [("baseline: kubecis run --root (CPU s)", base_cli),
                     (f"baseline: {n} audits in-process (s)", base_audits)]
        cli = statistics.median(cli_runs)
        rows.append(("kubecis run --root (CPU s)", cli))
        for resolver in ("openat2", "walk"):
            n, t = time_audits(src, root, resolver, args.repeat)
            rows.append((f"{n} audits in-process, {resolver} (s)", statistics.median(t)))
        for label, v in rows:
            ratio = ""
            if base_cli and "run --root" in label and not label.startswith("baseline"):
                ratio = f"  x{v / base_cli:.2f} of baseline"
            elif base_audits and "audits" in label and not label.startswith("baseline"):
                ratio = f"  x{v / base_audits:.2f} of baseline"
            print(f"{label:<48} {v:8.3f}{ratio}")


if __name__ == "__main__":
    main()
