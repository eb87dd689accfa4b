"""The node specs behave as documented, judged by the rough kube-bench re-enactment in
kb_reference.py (the real engine is tested against these nodes elsewhere)."""

from __future__ import annotations

import functools

import pytest

from .kb_reference import COMPAT, GOLDEN, expected_verdicts, reference_verdicts
from .kind import kind_v1_21_1
from .node import NodeSpec, hermetic, run_shell_in_node, skip_unless_hermetic
from .nodes import (
    WEAKNESSES,
    Weakness,
    kubeadm_custom_kubelet_config,
    kubeadm_defaults,
    kubeadm_hardened,
    kubeadm_misconfigured,
)

pytestmark = hermetic


@pytest.fixture(autouse=True)
def _need_hermetic_and_cfg() -> None:
    skip_unless_hermetic()
    if not (COMPAT / "cfg").is_dir():
        pytest.skip(f"kube-bench compat data not found at {COMPAT}")


@functools.cache
def verdicts(name: str) -> dict[str, str]:
    factories = {
        "defaults": kubeadm_defaults,
        "hardened": kubeadm_hardened,
        "misconfigured": kubeadm_misconfigured,
        "custom": kubeadm_custom_kubelet_config,
    }
    return reference_verdicts(factories[name](), "cis-1.12")


# Checks that a kubeadm v1.33 node fails out of the box and the hardened node fixes.
TYPICAL_FAILURES = (
    "1.1.12",
    "1.2.5",
    "1.2.15",
    "1.2.16",
    "1.2.17",
    "1.2.18",
    "1.2.19",
    "1.2.30",
    "1.3.2",
    "1.4.1",
    "4.1.1",
    "4.1.9",
)


def test_kind_node_reproduces_every_golden_verdict() -> None:
    got = reference_verdicts(kind_v1_21_1(), "cis-1.20")
    want = dict(line.split(" ")[::-1] for line in expected_verdicts(GOLDEN))
    assert got == want


def test_kind_node_version_detection_answers_v1_21() -> None:
    res = run_shell_in_node(kind_v1_21_1(), "command -v kubectl || true; kubelet --version")
    assert res.stdout == "Kubernetes v1.21.1\n"


@pytest.mark.parametrize("weakness", WEAKNESSES, ids=lambda w: w.description)
def test_misconfigured_node_fails_each_weakness(weakness: Weakness) -> None:
    assert {c: verdicts("misconfigured")[c] for c in weakness.fails} == dict.fromkeys(weakness.fails, weakness.state)


def test_weakness_checks_pass_on_hardened_node() -> None:
    failing = {c: verdicts("hardened")[c] for w in WEAKNESSES for c in w.fails if verdicts("hardened")[c] != "PASS"}
    assert failing == {}


def test_defaults_fail_typical_checks_hardened_fixes_them() -> None:
    assert {c: verdicts("defaults")[c] for c in TYPICAL_FAILURES} == dict.fromkeys(TYPICAL_FAILURES, "FAIL")
    assert {c: verdicts("hardened")[c] for c in TYPICAL_FAILURES} == dict.fromkeys(TYPICAL_FAILURES, "PASS")
    assert "FAIL" not in verdicts("hardened").values()


def test_custom_kubelet_config_misleads_kube_bench() -> None:
    """#1256: kube-bench reads the stale /var/lib/kubelet/config.yaml, not the running --config."""
    spec: NodeSpec = kubeadm_custom_kubelet_config()
    assert "--config=/etc/kubelet/custom.yaml" in spec.process("kubelet").argv
    stale = {c: verdicts("custom")[c] for c in ("4.2.1", "4.2.2", "4.2.10")}
    assert stale == {"4.2.1": "FAIL", "4.2.2": "FAIL", "4.2.10": "FAIL"}
    assert {c: verdicts("defaults")[c] for c in stale} == dict.fromkeys(stale, "PASS")
