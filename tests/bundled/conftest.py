from __future__ import annotations

import pytest

from kubecis.benchmark.loader import load_controls
from kubecis.benchmark.model import Controls
from tests.shared import CFG

KB_CFG = CFG
TARGETS = ("master", "controlplane", "etcd", "node", "policies", "managedservices")
KB_SETS = ("cis-1.8", "cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12", "k3s-cis-1.9", "rke2-cis-1.8", "eks-1.8.0",
           "gke-1.9.0", "aks-1.8")
ALL_SETS = (*KB_SETS, "cis-2.0")


def kb_name(name: str) -> str:
    """kube-bench's set our set is compared with (kube-bench has no cis-2.0: its checks are 1.12's)."""
    return "cis-1.12" if name == "cis-2.0" else name


def need_kube_bench() -> None:
    if not KB_CFG.is_dir():
        pytest.skip(f"kube-bench data not found at {KB_CFG}")


def load_kb(name: str) -> dict[str, Controls]:
    need_kube_bench()
    base = KB_CFG / kb_name(name)
    return {t: load_controls(base / f"{t}.yaml", t).controls for t in TARGETS if (base / f"{t}.yaml").is_file()}
