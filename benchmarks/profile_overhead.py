"""What a runtime profile costs the service it confines, in one run.

Run from the repository root, as root (strace, Landlock and seccomp are real):

    python benchmarks/profile_overhead.py [--requests 400] [--repeat 3]

The "product search" example service (examples/product_search.py) answers the same sequence of
requests (search, product, health; one connection each, sequentially) four ways: unconfined (the
baseline), under ``kubecis profile run --mode enforce`` (Landlock + seccomp in the kernel), under
``--mode audit`` (strace with a seccomp-bpf pre-filter: only file/network syscalls and syscalls
outside the profile stop the process) and under ``learn`` (strace stops on every syscall). Printed as
requests/s and as a ratio to the baseline measured in the same run; absolute figures on a shared
machine are noisy, the ratios less so. The profile is learned first, from the same requests.
"""

from __future__ import annotations

import argparse
import http.client
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICE = REPO / "examples" / "product_search.py"
KUBECIS = str(Path(sys.executable).with_name("kubecis"))
PATHS = ["/search?q=lamp", "/products/3", "/search?q=desk", "/health"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def drive(port: int, n: int) -> float:
    """Seconds for ``n`` sequential requests."""
    start = time.perf_counter()
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", PATHS[i % len(PATHS)])
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        c.close()
    return time.perf_counter() - start


def serve(prefix: list[str], cmd: list[str], port: int, n: int) -> float:
    proc = subprocess.Popen([*prefix, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(port, time.monotonic() + 60)
        drive(port, 20)  # warm-up
        return drive(port, n)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubecis-bench-") as tmp:
        db = Path(tmp) / "products.db"
        subprocess.run([sys.executable, "-B", str(SERVICE), "init-db", str(db)], check=True)
        port = free_port()
        cmd = [sys.executable, "-B", str(SERVICE), "serve", "--db", str(db), "--port", str(port)]
        prof = Path(tmp) / "p.yaml"
        serve([KUBECIS, "profile", "learn", "-o", str(prof), "--"], cmd, port, 40)
        modes = {
            "unconfined (baseline)": [],
            "enforce (Landlock + seccomp)": [KUBECIS, "profile", "run", "-p", str(prof), "--"],
            "audit (strace, seccomp-bpf pre-filter)": [KUBECIS, "profile", "run", "--mode", "audit", "-p", str(prof),
                                                       "--"],
            "learn (strace, every syscall)": [KUBECIS, "profile", "learn", "-o", str(Path(tmp) / "again.yaml"), "--"],
        }
        best: dict[str, float] = {}
        for _ in range(ns.repeat):
            for name, prefix in modes.items():
                t = serve(prefix, cmd, port, ns.requests)
                best[name] = min(best.get(name, t), t)
    base = best["unconfined (baseline)"]
    print(f"{ns.requests} sequential requests, best of {ns.repeat}:")
    for name, t in best.items():
        print(f"  {name:<42} {ns.requests / t:8.0f} req/s   {t / base:5.2f}x the baseline's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
