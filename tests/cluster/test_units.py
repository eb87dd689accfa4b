"""The cluster layer's pure parts, on object dumps: payload framing, node facts, selection, roles, platform,
benchmark decisions, pod classification, and every least-privilege property of the manifests."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from kubecis.benchmark.bundled import materialise
from kubecis.benchmark.config import Config
from kubecis.cluster.decide import Overrides, plan_node
from kubecis.cluster.manifests import (
    NODE_FILES,
    agent_command,
    job_name,
    job_object,
    namespace_object,
    requirements,
)
from kubecis.cluster.nodes import NodeFacts, Selection, components_by_node, parse_selector, platform, roles
from kubecis.cluster.payload import PayloadError, frame, unframe
from kubecis.cluster.scan import classify
from kubecis.errors import UsageError
from tests.cluster.fakekube import make_node

CFG = materialise()


# ---- payload ------------------------------------------------------------------------------------------------

def _data(n: int = 5000) -> bytes:
    return gzip.compress(json.dumps({"entries": ["x" * 40] * n}).encode())


def test_payload_round_trip_inside_other_log_lines() -> None:
    data = _data()
    log = b"recorded 12 host queries\n" + frame(data) + b"trailing noise\n"
    assert unframe(log) == data
    assert unframe(log.replace(b"\n", b"\r\n")) == data


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.999])
def test_payload_cut_short_is_detected(cut: float) -> None:
    f = frame(_data())
    with pytest.raises(PayloadError, match="cut short"):
        unframe(f[: int(len(f) * cut)])


def test_payload_missing_and_corrupt() -> None:
    with pytest.raises(PayloadError, match=r"no snapshot payload in the pod log \(last line: boom\)"):
        unframe(b"starting\nboom\n")
    with pytest.raises(PayloadError, match="the log is empty"):
        unframe(b"")
    f = bytearray(frame(_data()))
    i = f.index(b"\n", f.index(b"sha256=")) + 10
    f[i] = ord("A") if f[i] != ord("A") else ord("B")  # one base64 character changed: same length, other bytes
    with pytest.raises(PayloadError, match="sha256 mismatch"):
        unframe(bytes(f))
    with pytest.raises(PayloadError, match="2 snapshot payloads"):
        unframe(frame(b"a") + frame(b"b"))
    bad = frame(b"abc").replace(b"v1", b"v9")
    with pytest.raises(PayloadError, match="version 9"):
        unframe(bad)
    lines = frame(_data()).split(b"\n")
    del lines[5]  # a whole line lost in the middle
    with pytest.raises(PayloadError, match="cut short or padded"):
        unframe(b"\n".join(lines))


def test_payload_header_declares_digest() -> None:
    data = b"payload"
    head = frame(data).split(b"\n")[1]
    assert head == b"kubecis-payload v1 bytes=7 sha256=" + hashlib.sha256(data).hexdigest().encode()


# ---- nodes --------------------------------------------------------------------------------------------------

def test_node_facts_roles_and_readiness() -> None:
    cp = NodeFacts.from_api(make_node("cp", labels={"node-role.kubernetes.io/control-plane": ""}))
    assert roles(cp)[0] == ["control-plane", "worker"]
    tainted = NodeFacts.from_api(make_node("t", taints=[{"key": "node-role.kubernetes.io/master",
                                                         "effect": "NoSchedule"}]))
    assert roles(tainted)[0] == ["control-plane", "worker"]
    pods = [{"metadata": {"name": "etcd-x", "labels": {"component": "etcd"}}, "spec": {"nodeName": "x"}},
            {"metadata": {"name": "kube-apiserver-x"}, "spec": {"nodeName": "x"}},
            {"metadata": {"name": "coredns-1"}, "spec": {"nodeName": "y"}}]
    comps = components_by_node(pods)
    assert comps == {"x": {"etcd", "kube-apiserver"}}
    x = NodeFacts.from_api(make_node("x"), comps["x"])
    r, why = roles(x)
    assert r == ["control-plane", "etcd", "worker"]
    assert "running kube-apiserver" in why[0]
    w = NodeFacts.from_api(make_node("w", ready=False))
    assert roles(w)[0] == ["worker"]
    assert not w.ready and "KubeletNotReady" in w.ready_reason


@pytest.mark.parametrize(("labels", "provider", "kubelet", "server", "want"), [
    ({"eks.amazonaws.com/nodegroup": "ng"}, "aws:///x", "v1.31.2-eks-1", "v1.31.2-eks-2", "eks"),
    ({"cloud.google.com/gke-nodepool": "p"}, "gce://p/z/n", "v1.30.5-gke.100", "", "gke"),
    ({"kubernetes.azure.com/cluster": "c"}, "azure:///x", "v1.30.1", "", "aks"),
    ({"node.kubernetes.io/instance-type": "k3s"}, "", "v1.30.1+k3s1", "", "k3s"),
    ({}, "k3s://n1", "v1.30.1", "", "k3s"),
    ({}, "", "v1.29.4+rke2r1", "", "rke2r"),
    ({}, "", "v1.33.0", "v1.33.0", ""),
])
def test_platform(labels: dict[str, str], provider: str, kubelet: str, server: str, want: str) -> None:
    n = NodeFacts.from_api(make_node("n", labels=labels, kubelet=kubelet, provider_id=provider))
    assert platform(n, server)[0] == want


def test_selector_and_selection() -> None:
    nodes = [NodeFacts("a", {"role": "cp", "zone": "1"}), NodeFacts("b", {"role": "w", "zone": "2"}),
             NodeFacts("c", {"role": "w"})]
    pick = lambda **kw: [n.name for n in Selection(**kw).apply(nodes)]  # noqa: E731
    assert pick() == ["a", "b", "c"]
    assert pick(selector="role=w") == ["b", "c"]
    assert pick(selector="role=w,zone") == ["b"]
    assert pick(selector="!zone") == ["c"]
    assert pick(selector="zone in (1, 2),role!=cp") == ["b"]
    assert pick(selector="zone notin (1)") == ["b", "c"]
    assert pick(names=("c", "a")) == ["a", "c"]
    assert pick(exclude=("a",)) == ["b", "c"]
    with pytest.raises(UsageError, match="no such node: zz"):
        pick(names=("zz",))
    for bad in ("a=b=c", "=x", "a in b", "role,,x"):
        with pytest.raises(UsageError):
            parse_selector(bad)


def test_plan_node_benchmark_and_targets() -> None:
    config = Config.load(CFG)
    avail = config.benchmarks()
    cp = NodeFacts.from_api(make_node("cp", labels={"node-role.kubernetes.io/control-plane": ""}), ["etcd"])
    p = plan_node(cp, "v1.33.0", config, Overrides(), avail)
    assert (p.benchmark, p.targets, p.cluster_targets) == ("cis-1.12", ["master", "controlplane", "etcd", "node"],
                                                           ["policies"])
    w = NodeFacts.from_api(make_node("w"))
    p = plan_node(w, "v1.33.0", config, Overrides(), avail)
    assert p.targets == ["node"]
    eks = NodeFacts.from_api(make_node("e", labels={"eks.amazonaws.com/nodegroup": "ng"}, kubelet="v1.32.1-eks-1"))
    p = plan_node(eks, "v1.32.1-eks-2", config, Overrides(), avail)
    assert p.benchmark == "eks-1.8.0" and p.targets == ["node"]
    assert set(p.cluster_targets) == {"controlplane", "policies", "managedservices"}
    p = plan_node(w, "v1.33.0", config, Overrides(benchmark="cis-1.10"), avail)
    assert p.benchmark == "cis-1.10"
    p = plan_node(cp, "v1.33.0", config, Overrides(targets=("node",)), avail)
    assert p.targets == ["node"] and p.cluster_targets == []
    with pytest.raises(UsageError, match="not configured"):
        plan_node(cp, "v1.33.0", config, Overrides(targets=("bogus",)), avail)


# ---- pod classification -------------------------------------------------------------------------------------

def _pod(phase: str, **status: object) -> dict[str, object]:
    return {"metadata": {"name": "p"}, "status": {"phase": phase, **status}}


def _term(**t: object) -> dict[str, object]:
    return {"containerStatuses": [{"name": "kubecis", "state": {"terminated": t}}]}


@pytest.mark.parametrize(("pod", "elapsed", "want"), [
    (None, 1, ("waiting", "")),
    (None, 100, ("failed", "no pod was created for the job within 60s")),
    (_pod("Succeeded"), 1, ("succeeded", "")),
    (_pod("Failed", reason="Evicted", message="The node was low on resource: memory."), 1,
     ("failed", "pod evicted: The node was low on resource: memory.")),
    (_pod("Failed", **_term(exitCode=137, reason="OOMKilled")), 1, ("failed", "agent OOM-killed (memory limit 256Mi)")),
    (_pod("Failed", **_term(exitCode=3, reason="Error", message="kubecis: error: x")), 1,
     ("failed", "agent failed with exit status 3: kubecis: error: x")),
    (_pod("Failed", reason="DeadlineExceeded"), 61, ("failed", "timed out: the job's deadline (60s) passed")),
    (_pod("Failed", reason="OutOfcpu", message="Node didn't have enough resource: cpu"), 1,
     ("failed", "pod rejected on the node (OutOfcpu: Node didn't have enough resource: cpu)")),
    (_pod("Pending"), 1, ("waiting", "")),
    (_pod("Pending", containerStatuses=[{"state": {"waiting": {"reason": "ImagePullBackOff", "message": "m"}}}]), 61,
     ("failed", "pod still Pending after 60s (ImagePullBackOff: m)")),
    (_pod("Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                  "message": "0/3 nodes are available"}]), 61,
     ("failed", "pod still Pending after 60s (PodScheduled Unschedulable: 0/3 nodes are available)")),
    (_pod("Pending", containerStatuses=[{"state": {"waiting": {"reason": "InvalidImageName", "message": "x"}}}]), 1,
     ("failed", "pod cannot start (InvalidImageName: x)")),
    (_pod("Running"), 61, ("failed", "timed out: the agent was still running after 60s")),
])
def test_classify(pod: dict[str, object] | None, elapsed: float, want: tuple[str, str]) -> None:
    assert classify(pod, elapsed, 60, "256Mi") == want  # type: ignore[arg-type]


# ---- manifests: least privilege -----------------------------------------------------------------------------

def _job(targets: list[str], benchmark: str = "cis-1.12") -> dict[str, object]:
    req = requirements(CFG, benchmark, targets)
    return job_object(node="worker-1.example.com", namespace="kubecis-abc", scan_id="abc", image="img:1",
                      benchmark=benchmark, targets=targets, req=req, timeout=120)


def test_job_least_privilege_properties() -> None:
    job = _job(["node"])
    spec = job["spec"]  # type: ignore[index]
    pod = spec["template"]["spec"]
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert pod["nodeName"] == "worker-1.example.com"
    assert pod["hostPID"] is True  # the kubelet binary is discovered in the process table
    assert pod["hostNetwork"] is False and pod["hostIPC"] is False
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod and "serviceAccount" not in pod
    assert pod["restartPolicy"] == "Never"
    assert pod["tolerations"] == [{"operator": "Exists"}]  # every taint: control-plane nodes too
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["capabilities"] == {"drop": ["ALL"]} and "add" not in sc["capabilities"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["privileged"] is False
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["resources"]["requests"] and c["resources"]["limits"]
    assert set(c["resources"]["limits"]) == {"cpu", "memory"}
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 120
    # only hostPath volumes, each mounted read-only at its own node path; nothing else
    vols = {v["name"]: v for v in pod["volumes"]}
    assert all(set(v) == {"name", "hostPath"} for v in vols.values())
    for m in c["volumeMounts"]:
        assert m["readOnly"] is True
        assert vols[m["name"]]["hostPath"]["path"] == m["mountPath"]
    paths = sorted(m["mountPath"] for m in c["volumeMounts"])
    assert paths == sorted(["/etc/default", "/etc/kubernetes", "/etc/systemd/system", "/lib/systemd/system",
                            "/var/lib/kubelet", *NODE_FILES])
    assert "/" not in paths and "/proc" not in paths and not any(p.startswith("/var/run") for p in paths)
    # no secret, no projected token, no env from secrets
    text = json.dumps(job)
    assert "secret" not in text.lower() and "serviceAccountToken" not in text
    assert c["command"] == agent_command("cis-1.12", ["node"], requirements(CFG, "cis-1.12", ["node"]))
    assert c["command"][:5] == ["kubecis", "snapshot", "record", "--output", "-"]


def test_host_pid_and_mounts_follow_the_checks() -> None:
    cp = _job(["master", "controlplane", "etcd", "node"])["spec"]["template"]["spec"]  # type: ignore[index]
    mounts = {m["mountPath"] for m in cp["containers"][0]["volumeMounts"]}
    assert {"/var/lib/etcd", "/etc/kubernetes"} <= mounts
    assert not any(m.startswith(("/var/lib/rancher", "/var/snap")) for m in mounts)  # other distributions
    k3s = requirements(CFG, "k3s-cis-1.9", ["master", "etcd", "node"])
    assert "/var/lib/rancher/k3s/server" in k3s.directories
    assert "/var/log/journal" in k3s.directories  # k3s checks read the journal
    pol = requirements(CFG, "cis-1.12", ["policies"])  # kubectl only: no process table, no node directory
    assert pol.host_pid is False and pol.directories == ()
    job = job_object(node="n", namespace="ns", scan_id="s", image="i", benchmark="cis-1.12", targets=["policies"],
                     req=pol, timeout=60)
    assert job["spec"]["template"]["spec"]["hostPID"] is False  # type: ignore[index]


def test_names_and_namespace() -> None:
    assert job_name("worker-1.example.com").startswith("kubecis-worker-1-example-com-")
    long = job_name("n" * 253)
    assert len(long) <= 63
    assert job_name("A") != job_name("a")
    ns = namespace_object("kubecis-abc", "abc")
    labels = ns["metadata"]["labels"]  # type: ignore[index]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["kubecis.io/scan"] == "abc"


def test_manifests_offline_cli(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from kubecis.cli.main import main

    assert main(["cluster", "manifests", "--nodes", "n1,n2", "--benchmark", "cis-1.12", "--targets", "node"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["kind"] for d in docs] == ["Namespace", "Job", "Job"]
    assert docs[0]["metadata"]["name"] == "kubecis"
    assert [d["spec"]["template"]["spec"]["nodeName"] for d in docs[1:]] == ["n1", "n2"]
    assert docs[1]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"] == {
        "drop": ["ALL"]}


def test_requirements_reasons_are_explained() -> None:
    r = requirements(CFG, "cis-1.12", ["node"])
    assert r.reasons[0].startswith("hostPID: node: the kubelet binary is discovered in the process table")
    assert "mounted read-only: /etc/default" in r.reasons[1]
    assert Path("/var/snap") .as_posix() in r.absent


def test_progress_bar_and_plain_lines() -> None:
    import io

    from kubecis.cluster.model import Coverage, NodeResult
    from kubecis.cluster.scan import BarProgress, Progress

    plain = io.StringIO()
    p = Progress(plain)
    p.start(2, "kubecis-x")
    p.finished(NodeResult("a", state=Coverage.NOT_EVALUATED, reason="pod evicted: x"))
    assert plain.getvalue().splitlines() == ["kubecis: scanning 2 nodes (namespace kubecis-x)",
                                             "kubecis: [1/2] a: NOT EVALUATED: pod evicted: x"]
    tty = io.StringIO()
    b = BarProgress(tty)
    b.start(4, "ns")
    b.tick(2)
    b.finished(NodeResult("a", state=Coverage.NOT_EVALUATED, reason="r"))
    b.close()
    frames = tty.getvalue().split("\r\x1b[2K")
    assert "[" + "." * 30 + "] 0/4 nodes, 2 running" in frames
    assert "[" + "#" * 7 + "." * 23 + "] 1/4 nodes, 2 running, 1 not evaluated" in frames
