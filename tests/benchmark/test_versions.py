"""Benchmark selection (kube-bench-compat.md#benchmark-selection): lookups, platform detection, no silent fallback."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from kubecis.benchmark.config import Config
from kubecis.benchmark.versions import (
    family_fallback,
    lookup,
    platform_benchmark,
    platform_of,
    select_benchmark,
    version_from_manifests,
)
from kubecis.errors import BenchmarkError, UsageError
from tests.fakes import FakeHost


@pytest.fixture(scope="module")
def vmap(cfg_dir: Path) -> dict[str, str]:
    return Config.load(cfg_dir).version_mapping()


@pytest.mark.parametrize(
    ("key", "bench"),
    [("1.33", "cis-1.12"), ("1.35", "cis-1.12"), ("1.21", "cis-1.20"), ("1.26", "cis-1.8"),
     ("gke-1.2.0", "gke-1.2.0"), ("ocp-3.11", "rh-0.7"), ("ocp-4.12", "rh-1.4")],
)
def test_lookup(vmap: dict[str, str], key: str, bench: str) -> None:
    assert lookup(vmap, key) == bench


@pytest.mark.parametrize("key", ["1.9", "1.13", "ocp-4.5", "unknown"])
def test_lookup_errors(vmap: dict[str, str], key: str) -> None:
    with pytest.raises(BenchmarkError, match=f"kubernetes version: {key}$"):
        lookup(vmap, key)


@pytest.mark.parametrize(
    ("git", "platform", "ver"),
    [("v1.17.9-eks-4c6976", "eks", "1.17"), ("v1.17.6-gke.1", "gke", "1.17"),
     ("v1.27.6+k3s1", "k3s", "1.27"), ("v1.25.13-rancher1-1", "rancher1", "1.25"),
     ("v1.27.6+rke2r1", "rke2r", "1.27"), ("v1.17.6", "", "")],
)
def test_platform_of(git: str, platform: str, ver: str) -> None:
    assert platform_of(git) == (platform, ver)


def test_platform_table() -> None:
    assert platform_benchmark("eks", "1.33") == "eks-1.8.0"
    assert platform_benchmark("eks", "1.27") == "eks-1.5.0"
    assert platform_benchmark("gke", "1.30") == "gke-1.8.0"
    assert platform_benchmark("k3s", "1.27") == "k3s-cis-1.9"
    assert platform_benchmark("rancher1", "1.25") == ""


def test_both_flags_is_an_error(vmap: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="both --version and --benchmark"):
        select_benchmark(version_mapping=lambda: vmap, benchmark="cis-1.12", version="1.33")


def test_manifest_image_tag_detection(vmap: dict[str, str]) -> None:
    host = FakeHost(files={"/etc/kubernetes/manifests/kube-apiserver.yaml":
                           b"spec:\n  containers:\n  - image: registry.k8s.io/kube-apiserver:v1.33.2\n"})
    kv = version_from_manifests(host)
    assert kv is not None and kv.version == "1.33"
    sel = select_benchmark(version_mapping=lambda: vmap, host=host)
    assert sel.benchmark == "cis-1.12" and sel.detected_version == "1.33"
    assert any("image tag v1.33.2" in s for s in sel.steps)


def test_no_silent_fallback(vmap: dict[str, str]) -> None:
    with pytest.raises(BenchmarkError, match="pass --version X.Y or --benchmark NAME"):
        select_benchmark(version_mapping=lambda: vmap, host=FakeHost())


class FakeTools:
    """kubectl and kubelet on PATH; kubectl answers ``out``, kubelet nothing."""

    def __init__(self, out: str) -> None:
        self.out = out

    def on_path(self, name: str) -> bool:
        return True

    def output(self, argv: Sequence[str]) -> str | None:
        return self.out if argv[0] == "kubectl" else None


def test_tools_detection_with_platform(vmap: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = '{"serverVersion": {"major": "1", "minor": "27+", "gitVersion": "v1.27.6+k3s1"}}'
    sel = select_benchmark(version_mapping=lambda: vmap, host=FakeHost(), tools=FakeTools(out))
    assert sel.benchmark == "k3s-cis-1.9" and sel.detected_version == "k3s-cis-1.9"


def test_newer_version_maps_to_newest_with_a_warning(vmap: dict[str, str]) -> None:
    sel = select_benchmark(version_mapping=lambda: vmap, version="1.40")
    assert sel.benchmark == "cis-1.12"
    assert sel.warnings == ["Kubernetes 1.40 is newer than any benchmark here covers (newest: 1.34 → cis-1.12); "
                            "using cis-1.12"]
    assert select_benchmark(version_mapping=lambda: vmap, version="1.33").warnings == []


def test_platform_benchmark_not_shipped_falls_back_to_its_family(vmap: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = '{"serverVersion": {"major": "1", "minor": "27", "gitVersion": "v1.27.6-eks-4c6976"}}'
    sel = select_benchmark(version_mapping=lambda: vmap, host=FakeHost(), tools=FakeTools(out),
                           available=lambda: ["cis-1.12", "eks-1.8.0", "eks-1.7.0"])
    assert sel.benchmark == "eks-1.8.0"  # kube-bench would pick eks-1.5.0
    assert sel.warnings == ["eks-1.5.0 is not available; using eks-1.8.0 for eks 1.27"]
    assert family_fallback("k3s-cis-1.8", ["k3s-cis-1.9", "cis-1.9", "rke2-cis-1.8"]) == "k3s-cis-1.9"
    assert family_fallback("rke2-cis-1.7", ["rke-cis-1.7"]) == ""
