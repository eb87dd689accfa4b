"""`kubectl auth can-i` answered by the RBAC evaluator: the real /usr/bin/kubectl against an API server whose
SelfSubjectAccessReview handler is the evaluator (tests/policies/api_server.py), and the native kubectl over the
same objects, give the same output and status; the answers are the ones the upstream authorizer's rules give
(the expected column, reasoned from the rules in test_rbac.py).

No real Kubernetes authorizer runs here (the project's API servers are its own), so the evaluator's rules are
tested table-driven against the upstream authorizer's (test_rbac.py), and this test proves the CLI round trip:
real kubectl's argument handling, resource resolution, impersonation headers and protobuf request, answered by
the evaluator.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.host.live import LiveHost
from kubecis.policies.objects import ObjectsCluster, ObjectStore

from .api_server import ApiServer
from .test_rbac import OBJECTS

KUBECTL = shutil.which("kubectl")


def _real_kubectl() -> str:
    if KUBECTL is None:
        pytest.skip("kubectl not installed")
    out = subprocess.run([KUBECTL, "version", "--client"], capture_output=True, text=True, check=False).stdout
    if "Client Version: v1." not in out:
        pytest.skip(f"{KUBECTL} is not the real kubectl: {out!r}")
    return KUBECTL


CLUSTER_OBJECTS = [
    *({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in ("default", "team-a", "team-b")),
    *({**o, "apiVersion": "rbac.authorization.k8s.io/v1"} for o in OBJECTS),
]

# (kubectl auth can-i arguments, the upstream authorizer's answer)
CASES = [
    ("get secrets -n team-a --as=system:serviceaccount:team-a:app", "no"),  # resourceNames need a name
    ("get secrets/db -n team-a --as=system:serviceaccount:team-a:app", "yes"),
    ("get secret/db -n team-b --as=system:serviceaccount:team-a:app", "no"),
    ("get pods/exec -n x --as=someone --as-group=ops", "yes"),  # TYPE/NAME: the pod named "exec"
    ("list pods -A --as=alice --as-group=ops", "yes"),  # aggregated ClusterRole, cluster-wide
    ("get pods --subresource=log -n x --as=someone --as-group=ops", "yes"),  # aggregated via a nested aggregation
    ("get pods --subresource=exec -n x --as=someone --as-group=ops", "no"),
    ("get nodes --subresource=proxy --as=someone --as-group=ops", "no"),
    ("delete pods -n x --as=alice --as-group=ops", "no"),
    ("list pods -A --as=alice", "no"),  # alice alone is not in "ops"
    ("get /metrics/slis --as=anyone", "yes"),  # system:authenticated, trailing *
    ("get /healthz/etcd --as=anyone", "no"),
    ("get /metrics --as=system:anonymous", "no"),  # anonymous: system:unauthenticated only
    ("escalate deployments.apps -n team-b --as=system:serviceaccount:ci:builder", "yes"),  # * verbs, SA group
    ("get deployments -n team-a --as=system:serviceaccount:ci:builder", "no"),  # role binding: team-b only
    ("create pods -n team-a --as=bob", "yes"),
    ("create pods -n team-a --as=eve", "no"),  # a ClusterRoleBinding to a Role grants nothing
    ("create pods -n team-a --as=bob --as-group=system:unauthenticated", "yes"),
    ("get,list,watch secrets --all-namespaces --as=system:authenticated", "no"),  # kube-bench's 5.1.2 audit
    ("create pods --all-namespaces --as=system:authenticated", "no"),  # kube-bench's 5.1.4 audit
    ("get nodes --as=alice --as-group=ops", "no"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, ObjectsCluster]]:
    cluster = ObjectsCluster(ObjectStore.from_objects([dict(o) for o in CLUSTER_OBJECTS]))
    api = ApiServer(cluster, tmp_path_factory.mktemp("kubeapi"))
    yield api, cluster
    api.close()


def _script(args: str) -> str:
    return f"kubectl auth can-i {args}; echo rc=$?"


@pytest.mark.parametrize(("args", "answer"), CASES)
def test_real_kubectl_native_kubectl_and_the_rules_agree(args: str, answer: str,
                                                         server: tuple[ApiServer, ObjectsCluster]) -> None:
    kubectl = _real_kubectl()
    api, cluster = server
    env = api.env()
    env["PATH"] = f"{Path(kubectl).parent}:{env['PATH']}"
    real = subprocess.run(["/bin/sh", "-c", _script(args)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False).stdout.decode()
    native = NativeExecutor(LiveHost(), env=env, cluster=cluster).run(_script(args))
    assert native.not_run == ""
    assert native.output == real
    assert real.splitlines()[-2:] == [answer, f"rc={0 if answer == 'yes' else 1}"]


def test_usage_errors_are_kubectls(server: tuple[ApiServer, ObjectsCluster]) -> None:
    kubectl = _real_kubectl()
    api, cluster = server
    env = api.env()
    env["PATH"] = f"{Path(kubectl).parent}:{env['PATH']}"
    script = "kubectl auth can-i get secrets db --as=x; echo rc=$?; kubectl auth can-i get --as=x; echo rc=$?"
    real = subprocess.run(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=60, check=False).stdout.decode()
    assert NativeExecutor(LiveHost(), env=env, cluster=cluster).run(script).output == real


def test_can_i_without_as_is_not_guessed(server: tuple[ApiServer, ObjectsCluster]) -> None:
    _, cluster = server
    res = NativeExecutor(LiveHost(), cluster=cluster).run("kubectl auth can-i get pods")
    assert "no current user" in res.not_run
