"""With no --config-dir, kubecis picks its bundled set from the node's Kubernetes version (issue #4)."""

from __future__ import annotations

import pytest

from .node import hermetic, run_in_node, skip_unless_hermetic
from .nodes import kubeadm_defaults
from .paths import KUBECIS

pytestmark = hermetic


@pytest.mark.parametrize(
    ("k8s", "bench"), [("1.26", "cis-1.8"), ("1.30", "cis-1.11"), ("1.33", "cis-1.12"), ("1.35", "cis-2.0")]
)
def test_auto_detection_chooses_the_bundled_set(k8s: str, bench: str) -> None:
    skip_unless_hermetic()
    res = run_in_node(kubeadm_defaults(k8s), [str(KUBECIS), "explain"])
    assert res.returncode == 0, res.stderr
    assert f"image tag v{k8s}." in res.stdout
    assert f"=> {bench} (detected_version: {k8s})" in res.stdout


def test_newer_than_bundled_warns_and_uses_the_newest() -> None:
    skip_unless_hermetic()
    res = run_in_node(kubeadm_defaults("1.35"), [str(KUBECIS), "run", "--version", "1.37", "--targets", "node",
                                                "--executor", "native", "--nosummary", "--noremediations"])
    assert res.returncode == 0, res.stderr
    assert "kubecis: warning: Kubernetes 1.37 is newer than any benchmark here covers (newest: 1.35 → cis-2.0); " \
           "using cis-2.0" in res.stderr
    assert res.stdout.startswith("[INFO] 4 Worker Node Security Configuration")
