"""`kubecis explain` prints every discovery decision with its reason, and the benchmark choice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_explain_golden import check_golden, normalise

from .kind import kind_v1_21_1
from .node import hermetic, run_in_node
from .nodes import kubeadm_custom_kubelet_config, kubeadm_defaults
from .paths import COMPAT, KUBECIS

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]


def test_explain_on_kind_node_shows_version_source_and_files() -> None:
    res = run_in_node(kind_v1_21_1(), [str(KUBECIS), "explain", "--config-dir", str(COMPAT / "cfg")])
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "image tag v1.21.1 in /etc/kubernetes/manifests/kube-apiserver.yaml" in out
    assert "=> cis-1.20 (detected_version: 1.21)" in out
    assert "master: detected (running: apiserver, scheduler, controllermanager" in out
    assert "=> master, controlplane, etcd, node, policies" in out
    assert "/etc/kubernetes/manifests/kube-apiserver.yaml" in out and "first existing candidate" in out


def test_explain_names_the_kubelet_config_from_its_command_line() -> None:
    res = run_in_node(kubeadm_custom_kubelet_config(),
                      [str(KUBECIS), "explain", "--config-dir", str(COMPAT / "cfg"), "--targets", "node",
                       "--benchmark", "cis-1.12"])
    assert res.returncode == 0, res.stderr
    line = next(x for x in res.stdout.splitlines() if x.strip().startswith("kubelet") and " conf " in x)
    assert "/etc/kubelet/custom.yaml" in line and "names it with --config" in line
    compat = run_in_node(kubeadm_custom_kubelet_config(),
                         [str(KUBECIS), "explain", "--config-dir", str(COMPAT / "cfg"), "--targets", "node",
                          "--benchmark", "cis-1.12", "--candidates-only"])
    line = next(x for x in compat.stdout.splitlines() if x.strip().startswith("kubelet") and " conf " in x)
    assert "/var/lib/kubelet/config.yaml" in line and "first existing candidate" in line


def test_explain_golden_on_kubeadm_node() -> None:
    """Every detection source and decision on a kubeadm control plane with the bundled sets (golden file)."""
    res = run_in_node(kubeadm_defaults(), [str(KUBECIS), "explain"])
    assert res.returncode == 0, res.stderr
    cfg = re.search(r"^config dir: (.*)$", res.stdout, re.M)
    assert cfg
    text = re.sub(r"\Ahost: .*", "host: <HOSTNAME>", res.stdout)  # the node shares this machine's hostname
    check_golden("explain-kubeadm.txt", normalise(text, CFG=Path(cfg.group(1))))
