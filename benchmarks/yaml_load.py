"""Cost of the YAML bounds (kubecis.yamllimits.check_graph) on loading real definitions, in one run.

    python benchmarks/yaml_load.py [--cfg DIR] [--repeat 5]

Loads every controls file and config.yaml of kube-bench's sets (default: ../shared/compat/kube-bench/cfg,
46 sets) from memory — no disk, no cache — once with the bounds checked (what kubecis does) and once
with the check replaced by a no-op (the baseline), alternating, and prints the best time of each and their
ratio. It also loads a 1 KB billion-laughs and merge-key bomb to show they are refused at once.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kubecis.benchmark import yamlraw  # noqa: E402
from kubecis.benchmark.config import _lower_keys  # noqa: E402
from kubecis.benchmark.loader import parse_controls  # noqa: E402
from kubecis.errors import LoadError  # noqa: E402


def _load_all(texts: list[tuple[str, str]]) -> int:
    n = 0
    for path, text in texts:
        if path.endswith("config.yaml"):
            _lower_keys(yamlraw.to_plain(yamlraw.compose(text, path).root))
        else:
            n += len(parse_controls(text, path).controls.checks())
    return n


def _timed(texts: list[tuple[str, str]], guarded: bool) -> float:
    """CPU time of one load (the machine may be shared: wall time would measure the neighbours)."""
    unguarded = (mock.patch.object(yamlraw, "check_graph", lambda root: None),
                 mock.patch.object(yamlraw, "may_have_aliases", lambda text: False))
    with contextlib.ExitStack() as stack:
        if not guarded:
            for patch in unguarded:
                stack.enter_context(patch)
        gc.collect()
        t0 = time.process_time()
        _load_all(texts)
        return time.process_time() - t0


def _bombs() -> dict[str, str]:
    laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    merge = ["x0: &x0 {k: v}"] + [f"x{i}: &x{i} {{<<: [*x{i - 1}, *x{i - 1}]}}" for i in range(1, 40)]
    return {"billion laughs": "\n".join(laughs) + "\n", "merge-key chain": "\n".join(merge) + "\n"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", type=Path, default=REPO.parent / "shared" / "compat" / "kube-bench" / "cfg")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = sorted(args.cfg.rglob("*.yaml"))
    if not files:
        print(f"no YAML files under {args.cfg}", file=sys.stderr)
        return 1
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in files]
    sets = len({p.parent for p in files if p.name != "config.yaml"})
    checks = _load_all(texts)
    print(f"{len(texts)} files ({sum(len(t) for _, t in texts) // 1024} KiB), {sets} sets, {checks} checks")
    guarded, baseline = [], []
    for _ in range(args.repeat):
        baseline.append(_timed(texts, guarded=False))
        guarded.append(_timed(texts, guarded=True))
    b, g = min(baseline), min(guarded)
    print(f"load without bounds (baseline): {b * 1000:.1f} ms CPU (best of {args.repeat})")
    print(f"load with bounds:               {g * 1000:.1f} ms CPU   ratio {g / b:.3f}")
    for name, text in _bombs().items():
        t0 = time.perf_counter()
        try:
            yamlraw.to_plain(yamlraw.compose(text, name).root)
            outcome = "loaded"
        except LoadError as e:
            outcome = str(e)
        print(f"{name} ({len(text)} bytes): {(time.perf_counter() - t0) * 1000:.1f} ms: {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
