"""An object dump behind the Cluster protocol: kube-bench's own policies audits run natively against it and give
what the real kubectl gives against the same dump served over HTTP; discovery, lists, selectors, chunking, missing
kinds, declined Tables."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.audit.native.corpus import load_corpus
from kubecis.audit.native.utilities.kubectl.resources import RESTMapper
from kubecis.host.cluster import NotNative
from kubecis.host.live import LiveHost
from kubecis.policies.objects import ObjectsCluster, ObjectStore, plural
from tests.shared import CFG

from .api_server import ApiServer
from .conftest import EXAMPLE

SETS = ["cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12", "eks-1.8.0", "gke-1.9.0", "aks-1.8", "k3s-cis-1.9"]


@pytest.fixture(scope="module")
def cluster() -> ObjectsCluster:
    return ObjectsCluster.load(EXAMPLE)


@pytest.fixture(scope="module")
def server(cluster: ObjectsCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    api = ApiServer(cluster, tmp_path_factory.mktemp("objects-api"))
    yield api
    api.close()


def _policy_audits() -> list[str]:
    if not CFG.is_dir():
        return []
    seen: dict[str, None] = {}
    for e in load_corpus(CFG, SETS):
        if e.automated and e.target == "policies" and "kubectl" in e.script:
            seen.setdefault(e.script, None)
    return list(seen)


def test_upstream_policies_audits_found() -> None:
    if not CFG.is_dir():
        pytest.skip(f"kube-bench data not found at {CFG}")
    assert len(_policy_audits()) >= 20


@pytest.mark.parametrize("script", _policy_audits())
def test_upstream_audit_natively_as_real_kubectl(script: str, cluster: ObjectsCluster, server: ApiServer) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    env = server.env()
    env["PATH"] = f"{Path(kubectl).parent}:{env['PATH']}"
    native = NativeExecutor(LiveHost(), env=env, cluster=cluster).run(script)
    if native.not_run:
        # declined, never guessed (e.g. kubectl's default table output, which a dump cannot give)
        assert "not supported natively" in native.not_run, native.not_run
        return
    real = subprocess.run(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=120, check=False)
    assert (native.output, native.returncode) == (real.stdout.decode(), real.returncode)


def test_discovery_serves_builtins_and_dumped_kinds() -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                    "versions": [{"name": "v1", "served": True, "storage": True}]}}
    objs = [crd, {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}},
            {"apiVersion": "acme.io/v2", "kind": "Policy", "metadata": {"name": "p"}}]
    c = ObjectsCluster(ObjectStore.from_objects(objs))
    d = RESTMapper(c)
    wd = d.resolve("wd")
    assert wd is not None and (wd.group, wd.version, wd.name, wd.namespaced) == ("example.com", "v1", "widgets", True)
    pol = d.resolve("policies.acme.io")
    assert pol is not None and (pol.kind, pol.namespaced) == ("Policy", False)
    assert d.resolve("deploy") is not None and d.resolve("netpol") is not None
    status, body = c.get("/apis/example.com/v1/namespaces/a/widgets")
    assert status == 200 and [i["metadata"]["name"] for i in json.loads(body)["items"]] == ["w"]
    assert [plural(k) for k in ("Policy", "Ingress", "Status", "Key", "Mesh")] == [
        "policies", "ingresses", "statuses", "keys", "meshes"]


def test_lists_selectors_and_chunks(cluster: ObjectsCluster) -> None:
    status, body = cluster.get("/api/v1/pods", {"labelSelector": "k8s-app in (kube-proxy,kube-dns)"})
    names = [i["metadata"]["name"] for i in json.loads(body)["items"]]
    assert status == 200 and names == ["coredns-674b8bbfcf-qv5zr", "kube-proxy-7xk2p"]
    status, body = cluster.get("/api/v1/serviceaccounts", {"fieldSelector": "metadata.name=default,"
                                                                          "metadata.namespace!=default"})
    assert len(json.loads(body)["items"]) == 5
    got: list[str] = []
    q = {"limit": "2"}
    while True:
        doc = json.loads(cluster.get("/api/v1/namespaces", q)[1])
        got += [i["metadata"]["name"] for i in doc["items"]]
        assert len(doc["items"]) <= 2
        if not doc["metadata"].get("continue"):
            break
        q = {"limit": "2", "continue": doc["metadata"]["continue"]}
    assert got == ["default", "kube-node-lease", "kube-public", "kube-system", "legacy", "payments"]
    assert cluster.get("/api/v1/namespaces/legacy/pods")[0] == 200
    assert cluster.get("/api/v1/namespaces/payments")[0] == 200
    assert cluster.get("/api/v1/namespaces/nope")[0] == 404
    assert cluster.get("/api/v1/pods", {"labelSelector": "a in b"})[0] == 400


def test_a_kind_every_cluster_has_missing_is_not_an_empty_list() -> None:
    c = ObjectsCluster(ObjectStore.from_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}]))
    status, body = c.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")
    assert status == 503 and "holds no ClusterRoleBinding" in json.loads(body)["message"]
    assert c.get("/apis/networking.k8s.io/v1/networkpolicies")[0] == 200  # may really be none
    res = NativeExecutor(LiveHost(), cluster=c).run("kubectl get clusterrolebindings -o name; echo rc=$?")
    assert "holds no ClusterRoleBinding objects" in res.output and res.output.endswith("rc=1\n")


def test_tables_are_declined(cluster: ObjectsCluster) -> None:
    with pytest.raises(NotNative):
        cluster.get("/api/v1/pods", table=True)
    res = NativeExecutor(LiveHost(), cluster=cluster).run("kubectl get pods -A")
    assert res.not_run.startswith("audit not supported natively")
