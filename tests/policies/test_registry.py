"""The probe registry: every entry loads, reports under its declared key, and the native interpreter runs it
in-process (static coverage accepts well-formed calls, names the malformed ones)."""

from __future__ import annotations

import pytest

from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.host.live import LiveHost
from kubecis.policies.objects import ObjectsCluster
from kubecis.probes import PROBES, ProbeContext, run_probe

from .conftest import EXAMPLE

ARGS = {"subject-bindings": ["--subject", "Group:system:authenticated"]}


@pytest.fixture(scope="module")
def cluster() -> ObjectsCluster:
    return ObjectsCluster.load(EXAMPLE)


@pytest.mark.parametrize("name", list(PROBES))
def test_each_probe_reports_under_its_key(name: str, cluster: ObjectsCluster) -> None:
    spec = PROBES[name]
    assert spec.summary and spec.inspects and spec.key
    res = run_probe(name, ARGS.get(name, []), ProbeContext(cluster=cluster))
    if name == "system-masters":
        assert res.status == 1
        return
    assert res.status == 0, res.output
    assert res.output.splitlines()[0].startswith(f"{spec.key}: ")


def test_native_utility(cluster: ObjectsCluster) -> None:
    ex = NativeExecutor(LiveHost(), cluster=cluster)
    res = ex.run("kubecis probe host-path-volumes | head -n 2")
    assert res.output == "host_path_pods: 1\nDeployment legacy/log-shipper volume=varlog hostPath=/var/log\n"
    res = ex.run("kubecis probe system-masters")
    assert res.not_run.startswith("kubecis probe system-masters: no RBAC binding")
    res = ex.run("kubecis probe nope; echo rc=$?")
    assert res.output == "kubecis: error: unknown probe 'nope' (kubecis probe --list)\nrc=2\n"
    assert NativeExecutor(LiveHost(), cluster=None).run("kubecis probe host-ports").not_run.endswith(
        "no cluster is configured (kubectl's configuration, or kubecis run --objects PATH)")
    assert "kubecis version" in ex.run("kubecis version").not_run


def test_static_coverage() -> None:
    assert unsupported_reason("kubecis probe cluster-admin-bindings --allow a,b") is None
    assert unsupported_reason("kubecis probe psa-enforce --level baseline") is None
    assert unsupported_reason("kubecis run") == "kubecis run"


class _Counting:
    """A cluster that refuses every request, counting them."""

    namespace = "default"

    def __init__(self) -> None:
        self.calls = 0

    def get(self, path: str, query: object = None, *, table: bool = False) -> tuple[int, bytes]:
        from kubecis.host.cluster import ClusterUnreachable

        self.calls += 1
        raise ClusterUnreachable("10.0.0.1:6443", "https://10.0.0.1:6443")

    def post(self, *args: object) -> tuple[int, bytes]:
        raise AssertionError("no probe posts")


def test_an_unreachable_cluster_is_asked_once_per_run() -> None:
    cluster = _Counting()
    ex = NativeExecutor(LiveHost(), cluster=cluster)  # type: ignore[arg-type]
    for name in ("privileged-containers", "secret-access", "network-policies"):
        res = ex.run(f"kubecis probe {name}")
        assert res.not_run == f"kubecis probe {name}: the cluster API at 10.0.0.1:6443 is not reachable"
    assert cluster.calls == 1
