"""The real engine (kubecis run, upstream cis-1.12, real /bin/sh) on kubeadm-like hermetic nodes:
every deliberate weakness gives the verdict it implies; the hardened node has no FAIL; the kubelet
running with a non-candidate --config is judged on that file (kube-bench #1256)."""

from __future__ import annotations

import functools
import json

import pytest

from .node import NodeSpec, hermetic, run_in_node
from .nodes import (
    WEAKNESSES,
    Weakness,
    kubeadm_custom_kubelet_config,
    kubeadm_defaults,
    kubeadm_hardened,
    kubeadm_misconfigured,
)
from .paths import COMPAT, KUBECIS

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]


def run_json(spec: NodeSpec, *extra: str) -> dict[str, str]:
    res = run_in_node(spec, [str(KUBECIS), "run", "--config-dir", str(COMPAT / "cfg"), "--benchmark", "cis-1.12",
                             "--executor", "shell", "--json", *extra], timeout=300)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    return {c["test_number"]: c["status"] for ctl in doc["Controls"] for g in ctl["tests"] or []
            for c in g["results"]}


@functools.cache
def verdicts(name: str, *extra: str) -> dict[str, str]:
    factories = {
        "defaults": kubeadm_defaults,
        "hardened": kubeadm_hardened,
        "misconfigured": kubeadm_misconfigured,
        "custom": kubeadm_custom_kubelet_config,
    }
    return run_json(factories[name](), *extra)


def test_all_targets_detected_on_control_plane_node() -> None:
    v = verdicts("defaults")
    assert {k.split(".")[0] for k in v} == {"1", "2", "3", "4", "5"}
    assert len(v) == 131  # cis-1.12: 60 + 7 + 5 + 25 + 34


@pytest.mark.parametrize("weakness", WEAKNESSES, ids=lambda w: w.description)
def test_weakness_gives_its_verdict(weakness: Weakness) -> None:
    bad = verdicts("misconfigured")
    good = verdicts("hardened")
    for check_id in weakness.fails:
        assert bad[check_id] == weakness.state, (check_id, weakness.description)
        assert good[check_id] == "PASS", (check_id, "hardened")


def test_hardened_node_has_no_fail() -> None:
    assert [k for k, s in verdicts("hardened").items() if s == "FAIL"] == []


def test_kubelet_config_from_command_line_fixes_1256() -> None:
    ours = verdicts("custom")
    theirs = verdicts("custom", "--discovery", "candidates")
    for check_id in ("4.2.1", "4.2.2", "4.2.10"):
        assert theirs[check_id] == "FAIL", check_id  # kube-bench reads the stale candidate file
        assert ours[check_id] == "PASS", check_id  # kubecis reads the file the kubelet really uses
