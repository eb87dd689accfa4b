"""`kubecis cluster scan` against a fake cluster: TLS API server on loopback, a kubeconfig whose user is a real
exec credential plugin, the real `kubernetes` client library, and fake kubelets that run each node's pod in a
hermetic node (read-only hostPath mounts, hostPID, read-only root, no capabilities).

The acceptance: each evaluated node's merged result equals a direct `kubecis run` on the same hermetic node;
NotReady, failed, evicted, OOM-killed, deleted and cut-short nodes are NOT_EVALUATED with their reasons; nothing
the scan created remains, also after Ctrl-C; bad input is one line, non-zero, nothing left behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.fakekube import (
    READONLY_TOKEN,
    FakeCluster,
    FakeKubelet,
    cluster_env,
    fake_cluster,
    make_node,
    wait_until,
)
from tests.cluster.fleet import FLEET
from tests.hermetic.node import hermetic, run_in_node, skip_unless_hermetic
from tests.shared import REPO

KUBECIS = str(Path(sys.executable).parent / "kubecis")
CP_TAINT = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
TARGETS = {"cp-1": "master,controlplane,etcd,node", "worker-hardened": "node", "worker-misconfigured": "node"}
OBJECTS = REPO / "tests" / "policies" / "fixtures" / "example-cluster.yaml"  # the cluster's other API objects

pytestmark = hermetic


def scan(fc: FakeCluster, *args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECIS, "cluster", "scan", "--image", "kubecis:test", *args], env=cluster_env(fc),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeCluster]:
    skip_unless_hermetic()
    for fc in fake_cluster(tmp_path_factory.mktemp("cluster"), objects=OBJECTS):
        fc.add_node(make_node("cp-1", labels={"node-role.kubernetes.io/control-plane": ""}, taints=CP_TAINT),
                    FakeKubelet(FLEET["cp-1"]()))
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
            fc.add_static_pod("cp-1", comp)
        fc.add_node(make_node("worker-hardened"), FakeKubelet(FLEET["worker-hardened"]()))
        # a tainted worker: the pod tolerates every taint
        fc.add_node(make_node("worker-misconfigured", taints=[{"key": "dedicated", "value": "infra",
                                                               "effect": "NoExecute"}]),
                    FakeKubelet(FLEET["worker-misconfigured"]()))
        fc.add_node(make_node("worker-notready", ready=False))
        fc.add_node(make_node("worker-broken"), FakeKubelet(FLEET["worker-hardened"](), mode="broken-image"))
        fc.add_node(make_node("worker-cut"), FakeKubelet(FLEET["worker-hardened"](), mode="truncate"))
        fc.add_node(make_node("worker-gone"), FakeKubelet(mode="delete-node"))
        fc.add_node(make_node("worker-oom"), FakeKubelet(mode="oom"))
        fc.add_node(make_node("worker-evicted"), FakeKubelet(mode="evict"))
        yield fc


@pytest.fixture(scope="module")
def scanned(fleet: FakeCluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str],
                                                                                      dict[str, object], Path]:
    per = tmp_path_factory.mktemp("per-node")
    res = scan(fleet, "--json", "--per-node-dir", str(per), "--parallel", "4", "--timeout", "120",
               "--exit-code", "5")
    doc = json.loads(res.stdout) if res.stdout else {}
    return res, doc, per


def test_scan_coverage_and_reasons(fleet: FakeCluster, scanned: tuple) -> None:  # type: ignore[type-arg]
    res, doc, _ = scanned
    assert res.returncode == 5, res.stderr  # FAILs and not-evaluated nodes
    nodes = {n["name"]: n for n in doc["nodes"]}
    assert doc["summary"]["coverage"] == "3 of 9 nodes evaluated"
    for name in TARGETS:
        assert nodes[name]["state"] == "evaluated", (name, nodes[name]["reason"])
    assert nodes["cp-1"]["roles"] == ["control-plane", "etcd", "worker"]
    assert nodes["cp-1"]["targets"] == ["master", "controlplane", "etcd", "node"]
    assert nodes["worker-hardened"]["roles"] == ["worker"]
    reasons = {n: nodes[n]["reason"] for n in nodes if nodes[n]["state"] == "not_evaluated"}
    assert reasons["worker-notready"].startswith("node NotReady: Ready=False (KubeletNotReady")
    assert reasons["worker-broken"].startswith("agent failed with exit status 127")
    assert "kubecis" in reasons["worker-broken"]  # the last log line: the missing executable
    assert reasons["worker-cut"].startswith("snapshot payload cut short")
    assert reasons["worker-gone"] == "the node disappeared during the scan"
    assert reasons["worker-oom"] == "agent OOM-killed (memory limit 256Mi)"
    assert reasons["worker-evicted"].startswith("pod evicted: The node was low on resource: memory.")
    for n in reasons:
        assert nodes[n]["results"] is None
    # every output says so: progress lines and the text summary
    for n, why in reasons.items():
        assert f"{n}: NOT EVALUATED: {why}" in res.stderr
    assert doc["policies_reason"] == "policies of cis-1.12 evaluated once through the API"
    # real verdicts from the API objects, none undecided: WARN only for the manual checks and 5.1.7
    pol = {r["test_number"]: r for c in doc["policies"]["Controls"] for g in c["tests"] for r in g["results"]}
    assert pol["5.1.1"]["status"] == "FAIL" and "ClusterRoleBinding ops-admins" in pol["5.1.1"]["actual_value"]
    assert pol["5.2.2"]["status"] == "FAIL" and "Deployment legacy/log-shipper" in pol["5.2.2"]["actual_value"]
    assert sorted(k for k, r in pol.items() if r["status"] == "WARN") == ["5.1.7", "5.3.1", "5.4.2", "5.5.1", "5.6.1"]


def test_merged_results_equal_direct_runs(fleet: FakeCluster, scanned: tuple) -> None:  # type: ignore[type-arg]
    _, doc, per = scanned
    nodes = {n["name"]: n for n in doc["nodes"]}
    for name, targets in TARGETS.items():
        direct = run_in_node(FLEET[name](), [KUBECIS, "run", "--benchmark", "cis-1.12", "--targets", targets,
                                             "--json", "--executor", "native"])
        assert direct.returncode == 0, direct.stderr
        merged = nodes[name]["results"]
        assert _without_own_process(merged) == _without_own_process(json.loads(direct.stdout)), name
        assert (per / f"{name}.json").read_text() == _encode(merged)  # the kube-bench JSON, byte for byte
    assert sorted(p.name for p in per.iterdir()) == sorted(f"{n}.json" for n in TARGETS)


def _without_own_process(doc: dict[str, object]) -> dict[str, object]:
    """The results with the tool's own line taken out of `ps -ef` outputs (the agent, `kubecis snapshot record
    ...`, in one run and `kubecis run ...` in the other) and the start time column of the others (the two
    nodes are built at different times: the minute may change in between); every verdict and every other
    value must match."""
    import re

    stime = re.compile(r"^(\S+ +\d+ +\d+ +\d+ )([0-9:]{5}|[A-Z][a-z]{2}\d\d)( )", re.MULTILINE)
    out = json.loads(json.dumps(doc))
    for ctl in out["Controls"]:
        for g in ctl["tests"]:
            for c in g["results"]:
                kept = [ln for ln in c["actual_value"].split("\n")
                        if "/kubecis snapshot record " not in ln and "/kubecis run " not in ln]
                c["actual_value"] = stime.sub(r"\1STIME\3", "\n".join(kept))
    return out  # type: ignore[no-any-return]


def _encode(doc: object) -> str:
    from kubecis.report.json import encode

    return encode(doc) + "\n"


def test_scan_leaves_nothing_and_touches_no_secret(fleet: FakeCluster, scanned: tuple) -> None:  # type: ignore[type-arg]
    assert fleet.store.leftovers() == []
    assert fleet.plugin_log.read_text().count("called") >= 1  # the exec credential plugin ran
    paths = [p for _, p, _ in fleet.store.requests]
    assert not any(p.endswith("/proxy") or "/proxy/" in p for p in paths)
    # the one Secret-related request: 5.6.4 lists what is in the default namespace (only names are kept)
    assert {p for p in paths if "secret" in p} == {"/api/v1/namespaces/default/secrets"}
    posts = [p for m, p, _ in fleet.store.requests if m == "POST"]
    assert all(p == "/api/v1/namespaces" or p.endswith("/jobs") for p in posts)
    # the pods ran with what the manifests said: hostPID, read-only mounts (asserted by the kubelet), no token
    runs = [r for k in fleet.kubelets for r in k.runs]
    assert runs and all(r["host_pid"] for r in runs)


def test_text_report_and_explain(fleet: FakeCluster) -> None:
    res = scan(fleet, "--nodes", "worker-hardened,worker-notready", "--explain", "--timeout", "120")
    assert res.returncode == 0, res.stderr
    assert "1 of 2 nodes evaluated" in res.stdout
    assert "not evaluated: worker-notready: node NotReady" in res.stdout
    assert "benchmark: Kubernetes 1.33 (API server v1.33.0) → version_mapping → cis-1.12" in res.stdout
    assert "hostPID: node: the kubelet binary is discovered in the process table" in res.stdout
    assert fleet.store.leftovers() == []


def test_two_scans_at_once_do_not_collide(fleet: FakeCluster) -> None:
    before = len(fleet.store.requests)
    procs = [subprocess.Popen([KUBECIS, "cluster", "scan", "--image", "i", "--nodes", "worker-hardened", "--json"],
                              env=cluster_env(fleet), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    for out, _ in outs:
        assert json.loads(out)["summary"]["evaluated"] == 1
    created = [p for m, p, _ in fleet.store.requests[before:] if m == "POST" and p == "/api/v1/namespaces"]
    assert len(created) == 2
    assert fleet.store.leftovers() == []


# ---- bad input and interruption (no hermetic node runs) ----------------------------------------------------

@pytest.fixture
def small(tmp_path: Path) -> Iterator[FakeCluster]:
    for fc in fake_cluster(tmp_path):
        fc.add_node(make_node("hang-1"), FakeKubelet(mode="hang"))
        fc.add_node(make_node("pending-1"), FakeKubelet(mode="pending"))
        yield fc


def _one_line_error(res: subprocess.CompletedProcess[str], rc: int = 1) -> str:
    assert res.returncode == rc, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("kubecis: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], res.stderr  # one line (after any progress lines)
    assert "Traceback" not in res.stderr
    return errors[0]


def test_forbidden_job_creation(small: FakeCluster) -> None:
    small.store.fail_job_creation = True
    line = _one_line_error(scan(small, "--nodes", "hang-1"))
    assert "creating job kubecis-hang-1-" in line and "forbidden" in line
    assert small.store.leftovers() == []  # the namespace it had created is gone
    small.store.fail_job_creation = False
    ro = small.write_kubeconfig(small.dir / "ro-kubeconfig", READONLY_TOKEN)
    res = subprocess.run([KUBECIS, "cluster", "scan", "--kubeconfig", str(ro), "--nodes", "hang-1"],
                         env=cluster_env(small), capture_output=True, text=True, timeout=120)
    assert "creating namespace kubecis-" in _one_line_error(res) and "forbidden" in res.stderr
    assert small.store.leftovers() == []


def test_unreachable_bad_kubeconfig_bad_context_no_match(small: FakeCluster, tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kc = tmp_path / "unreachable"
    kc.write_text(small.kubeconfig.read_text().replace(small.url, f"https://127.0.0.1:{port}"))
    line = _one_line_error(scan(small, "--kubeconfig", str(kc)))
    assert line == f"kubecis: error: cannot reach the API server https://127.0.0.1:{port}: connection refused"
    bad = tmp_path / "bad"
    bad.write_text("current-context: [unclosed\n")
    assert "kubeconfig" in _one_line_error(scan(small, "--kubeconfig", str(bad)))
    assert "context 'nope' not found" in _one_line_error(scan(small, "--context", "nope"))
    assert "no such file" in _one_line_error(scan(small, "--kubeconfig", str(tmp_path / "missing")))
    before = len(small.store.requests)
    line = _one_line_error(scan(small, "--selector", "role=gpu"))
    assert line == "kubecis: error: no nodes match the selection (--nodes/--selector/--exclude-nodes)"
    assert not [r for r in small.store.requests[before:] if r[0] != "GET"]  # nothing created
    assert "no such node: zz" in _one_line_error(scan(small, "--nodes", "zz"), rc=2)
    assert small.store.leftovers() == []


def test_pending_past_timeout(small: FakeCluster) -> None:
    res = scan(small, "--nodes", "pending-1", "--timeout", "2", "--json")
    node = json.loads(res.stdout)["nodes"][0]
    assert node["state"] == "not_evaluated"
    assert node["reason"] == 'pod still Pending after 2s (ImagePullBackOff: Back-off pulling image "kubecis:test")'
    assert small.store.leftovers() == []


def test_ctrl_c_removes_everything(small: FakeCluster) -> None:
    p = subprocess.Popen([KUBECIS, "cluster", "scan", "--image", "i", "--nodes", "hang-1", "--timeout", "300"],
                         env=cluster_env(small), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: any(k[0] != "kube-system" for k in small.store.pods), 60), "no pod was created"
        assert small.store.leftovers()
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert err.strip().splitlines()[-1] == "kubecis: error: interrupted"
    assert small.store.leftovers() == []


def test_manifests_with_api_access_fill_in_nodes(small: FakeCluster) -> None:
    import yaml

    small.add_node(make_node("cp-9", labels={"node-role.kubernetes.io/control-plane": ""}, taints=CP_TAINT))
    small.add_static_pod("cp-9", "etcd")
    res = subprocess.run([KUBECIS, "cluster", "manifests", "--image", "img:2"], env=cluster_env(small),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    docs = list(yaml.safe_load_all(res.stdout))
    jobs = {d["spec"]["template"]["spec"]["nodeName"]: d for d in docs if d["kind"] == "Job"}
    assert set(jobs) == {"cp-9", "hang-1", "pending-1"}
    cmd = jobs["cp-9"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert cmd[cmd.index("--targets") + 1] == "master,controlplane,etcd,node"
    cmd = jobs["hang-1"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert cmd[cmd.index("--targets") + 1] == "node"
    assert not [r for r in small.store.requests if r[0] != "GET"]  # printing manifests creates nothing


def test_node_goes_notready_mid_scan(small: FakeCluster) -> None:
    p = subprocess.Popen([KUBECIS, "cluster", "scan", "--image", "i", "--nodes", "hang-1", "--json"],
                         env=cluster_env(small), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: any(k[0] != "kube-system" for k in small.store.pods), 60)
        with small.store.lock:
            small.store.nodes["hang-1"] = make_node("hang-1", ready=False)
        out, _ = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    node = json.loads(out)["nodes"][0]
    assert node["state"] == "not_evaluated"
    assert node["reason"].startswith("the node became NotReady during the scan (Ready=False (KubeletNotReady")
    assert small.store.leftovers() == []
