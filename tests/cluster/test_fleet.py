"""`kubecis cluster scan` end to end without hermetic nodes: the fake API server over TLS (with the example
cluster's API objects behind discovery and lists, so the policies get real verdicts), the real `kubernetes`
client, and fake kubelets that answer each node's pod with a pod log recorded from the example fleet (a kubeadm
control plane, a hardened and a misconfigured worker) or fail it (Pending, evicted).

What it shows: the cluster formats (HTML, SARIF valid against the 2.1.0 schema, CSV, JUnit) name every node and
never show a node that was not evaluated as passing; the policies are evaluated once through the API, before the
scan creates anything, with the verdicts `run --targets policies --objects DUMP` gives on the same objects;
`--store` keeps every node (and the policies) as one batch and `kubecis diff` of two batches shows per node
what changed, including a node newly not evaluated; `--waivers` applies per node and to the policies' objects.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubecis.cluster.payload import frame
from tests.cluster.fakekube import FakeCluster, FakeKubelet, cluster_env, fake_cluster, make_node
from tests.shared import REPO

KUBECIS = str(Path(sys.executable).parent / "kubecis")
FLEET = REPO / "src" / "kubecis" / "data" / "examples" / "fleet"
OBJECTS = REPO / "tests" / "policies" / "fixtures" / "example-cluster.yaml"
SARIF_SCHEMA = REPO / "tests" / "report" / "data" / "sarif-schema-2.1.0.json"
CP_TAINT = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
PENDING = 'pod still Pending after 3s (ImagePullBackOff: Back-off pulling image "kubecis:test")'
WAIVERS = """\
waivers:
  - id: kubelet-b
    checks: ["4.2.1"]
    reason: anonymous auth needed by the legacy monitor on b
    expires: 2099-01-01
    nodes: ["worker-b"]
  - id: other-cluster
    checks: ["4.1.1"]
    reason: not this cluster
    expires: 2099-01-01
    clusters: ["staging"]
  - id: ops-admins
    checks: ["5.1.1"]
    reason: break-glass group, reviewed quarterly
    owner: secops
    expires: 2099-01-01
    objects: ["ClusterRoleBinding/ops-admins"]
  - id: legacy-ns
    checks: ["5.2.2", "5.2.3"]
    reason: legacy log shipper, replaced in Q3
    expires: 2099-01-01
    namespaces: ["legacy"]
  - id: system-only
    checks: ["5.2.7"]
    reason: kube-system is managed
    expires: 2099-01-01
    namespaces: ["kube-system"]
  - id: policies-by-node
    checks: ["5.3.2"]
    reason: a node scope never waives the cluster-wide checks
    expires: 2099-01-01
    nodes: ["cp-1"]
"""


def log_of(snapshot: str) -> bytes:
    """What the node's pod prints: the recorded snapshot, framed (`kubecis snapshot record --output -`)."""
    return b"kubecis: recording\n" + frame((FLEET / f"{snapshot}.snap").read_bytes())


def scan(fc: FakeCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KUBECIS, "cluster", "scan", "--image", "kubecis:test", "--timeout", "3", *args],
                          env=cluster_env(fc), capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[FakeCluster]:
    for fc in fake_cluster(tmp_path, objects=OBJECTS):
        fc.add_node(make_node("cp-1", labels={"node-role.kubernetes.io/control-plane": ""}, taints=CP_TAINT),
                    FakeKubelet(mode="replay", log=log_of("cp-1")))
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
            fc.add_static_pod("cp-1", comp)
        fc.add_node(make_node("worker-a"), FakeKubelet(mode="replay", log=log_of("worker-hardened")))
        fc.add_node(make_node("worker-b"), FakeKubelet(mode="replay", log=log_of("worker-misconfigured")))
        fc.add_node(make_node("worker-x"), FakeKubelet(mode="pending"))
        yield fc


def kubelet(fc: FakeCluster, node: str) -> FakeKubelet:
    return next(k for k in fc.kubelets if k.node == node)


def test_every_format_names_every_node_and_never_passes_one_not_evaluated(fleet: FakeCluster, tmp_path: Path):
    jsonschema = pytest.importorskip("jsonschema")
    waivers = tmp_path / "w.yaml"
    waivers.write_text(WAIVERS)
    out = {}
    for fmt in ("json", "html", "sarif", "csv", "junit"):
        f = tmp_path / f"report.{fmt}"
        res = scan(fleet, "--format", fmt, "--outputfile", str(f), "--waivers", str(waivers), "--cluster-name", "prod")
        assert res.returncode == 0, res.stderr
        out[fmt] = f.read_text()
    assert fleet.store.leftovers() == []
    doc = json.loads(out["json"])
    assert doc["summary"]["coverage"] == "3 of 4 nodes evaluated"
    assert {n["name"]: n["reason"] for n in doc["nodes"] if n["state"] == "not_evaluated"} == {"worker-x": PENDING}

    html = out["html"]
    assert html.count('data-state="not_evaluated"') == 1 and f'<td class="node-reason">{PENDING}' in html.replace(
        "&#34;", '"')
    assert 'data-status="NOT_EVALUATED"' in html and "3 of 4 nodes evaluated" in html

    sarif = json.loads(out["sarif"])
    validator = jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text()))
    assert [e.message for e in validator.iter_errors(sarif)] == []
    runs = {r["properties"]["node"]: r for r in sarif["runs"]}
    assert list(runs) == ["cp-1", "worker-a", "worker-b", "worker-x", "(cluster-wide)"]
    x = runs["worker-x"]
    assert (x["results"], x["invocations"][0]["executionSuccessful"], x["properties"]["state"]) == ([], False,
                                                                                                     "not_evaluated")
    note = x["invocations"][0]["toolExecutionNotifications"][0]
    assert (note["level"], note["message"]["text"]) == ("error", f"worker-x: not evaluated: {PENDING}")
    for name, r in runs.items():
        assert all(res["properties"]["node"] == name and res["properties"]["cluster"] == "prod"
                   for res in r["results"])
    # the waiver scoped to worker-b is a suppression there only
    b41 = [res for res in runs["worker-b"]["results"] if res["ruleId"] == "4.2.1"]
    cp41 = [res for res in runs["cp-1"]["results"] if res["ruleId"] == "4.2.1"]
    assert b41[0]["suppressions"][0]["properties"]["waiver"] == "kubelet-b" and "suppressions" not in cp41[0]

    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    assert [r for r in rows if r["node"] == "worker-x"] == [
        {**dict.fromkeys(rows[0], ""), "cluster": "prod", "node": "worker-x", "benchmark": "cis-1.12",
         "scanned_at": rows[0]["scanned_at"],
         "status": "NOT_EVALUATED", "reason": PENDING}]
    by_node: dict[str, int] = {}
    for r in rows:
        by_node[r["node"]] = by_node.get(r["node"], 0) + 1
    assert by_node == {"cp-1": 97, "worker-a": 25, "worker-b": 25, "worker-x": 1, "(cluster-wide)": 34}
    assert {r["status"] for r in rows if r["node"] == "worker-b" and r["check"] == "4.2.1"} == {"WAIVED"}
    assert {r["status"] for r in rows if r["node"] == "cp-1" and r["check"] == "4.2.1"} == {"FAIL"}

    suites = ET.fromstring(out["junit"]).findall("testsuite")
    names = [s.get("name") for s in suites]
    assert names[:4] == ["cp-1: Control Plane Security Configuration", "cp-1: Etcd Node Configuration",
                         "cp-1: Control Plane Configuration", "cp-1: Worker Node Security Configuration"]
    [xs] = [s for s in suites if s.get("name") == "worker-x"]
    assert (xs.get("errors"), xs.find("testcase/error").get("message")) == ("1", f"not evaluated: {PENDING}")
    assert names[-1] == "(cluster-wide): Kubernetes Policies"


def test_policies_once_through_the_api_before_anything_is_created(fleet: FakeCluster, tmp_path: Path):
    res = scan(fleet, "--json", "--nodes", "worker-a")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["policies_reason"] == "policies of cis-1.12 evaluated once through the API"
    # every list the probes made came before the scan's namespace was created
    requests = [(m, p) for m, p, _ in fleet.store.requests]
    created = requests.index(("POST", "/api/v1/namespaces"))
    assert ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings") in requests[:created]
    assert not [p for m, p in requests[created:] if m == "GET" and "rbac" in p]
    # the verdicts are those of the same objects as a dump, plus what the fake server runs itself (the control
    # plane's static pods in kube-system)
    direct = subprocess.run([KUBECIS, "run", "--targets", "policies", "--benchmark", "cis-1.12", "--objects",
                             str(OBJECTS), "--json"], capture_output=True, text=True, timeout=120)
    want = {r["test_number"]: (r["status"], r["actual_value"]) for c in json.loads(direct.stdout)["Controls"]
            for g in c["tests"] for r in g["results"]}
    got = {r["test_number"]: (r["status"], r["actual_value"]) for c in doc["policies"]["Controls"]
           for g in c["tests"] for r in g["results"]}
    same = [cid for cid in want if got[cid] == want[cid]]
    assert {cid for cid in want if cid not in same} <= {"5.1.6", "5.2.6", "5.2.7", "5.2.8", "5.2.9", "5.6.2",
                                                         "5.6.3"}  # the static pods' containers
    assert got["5.1.1"] == ("FAIL", "cluster_admin_bindings: 1\nClusterRoleBinding ops-admins "
                                    "subject=User:alice@example.com role=ClusterRole/cluster-admin")
    assert got["5.2.7"][0] == "FAIL"
    assert "Pod kube-system/kube-apiserver-cp-1 container=kube-apiserver" in got["5.2.7"][1]
    statuses = [s for s, _ in got.values()]
    assert statuses.count("WARN") == 5  # the manual ones and 5.1.7 (no evidence either way), nothing undecided
    # the only Secret-related request: 5.6.4 lists what is in the default namespace (names only are kept)
    assert [p for _, p in requests if "secret" in p] == ["/api/v1/namespaces/default/secrets"]
    assert fleet.store.leftovers() == []


def test_a_list_the_identity_may_not_read_makes_its_check_warn(fleet: FakeCluster):
    """The least privilege docs/cluster.md describes: without `list` on the default namespace's Secrets, 5.6.4
    cannot be decided and says why; every other check keeps its verdict."""
    fleet.store.forbidden_reads.add("/api/v1/namespaces/default/secrets")
    res = scan(fleet, "--json", "--nodes", "worker-a")
    assert res.returncode == 0, res.stderr
    pol = {r["test_number"]: r for c in json.loads(res.stdout)["policies"]["Controls"] for g in c["tests"]
           for r in g["results"]}
    assert (pol["5.6.4"]["status"], pol["5.6.4"]["reason"]) == (
        "WARN", "kubecis probe default-namespace: listing secrets in default: "
                'HTTP 403: user "admin" cannot list resource "secrets"')
    assert pol["5.1.1"]["status"] == pol["5.2.2"]["status"] == "FAIL"


def test_history_of_two_scans_and_their_diff(fleet: FakeCluster, tmp_path: Path, store_url: str):
    res = scan(fleet, "--store", store_url, "--json", "--cluster-name", "prod")
    assert res.returncode == 0, res.stderr
    assert "kubecis: stored 5 scans as batch " in res.stderr
    # a week later: worker-b was fixed, worker-a's pod is evicted, worker-x still cannot pull the image
    kubelet(fleet, "worker-b").log = log_of("worker-hardened")
    kubelet(fleet, "worker-a").mode = "evict"
    res = scan(fleet, "--store", store_url, "--json", "--cluster-name", "prod")
    assert res.returncode == 0, res.stderr

    hist = subprocess.run([KUBECIS, "history", "--store", store_url, "--batches", "--json"], capture_output=True,
                          text=True, timeout=60)
    batches = json.loads(hist.stdout)["batches"]
    assert [(b["cluster"], b["origin"], b["nodes"], b["evaluated"]) for b in batches] == [
        ("prod", "cluster", 4, 2), ("prod", "cluster", 4, 3)]
    text = subprocess.run([KUBECIS, "history", "--store", store_url, "--node", "worker-a"], capture_output=True,
                          text=True, timeout=60).stdout.splitlines()
    assert text[1].endswith("NOT EVALUATED: pod evicted: The node was low on resource: memory. Threshold quantity: "
                            "100Mi.")
    d = subprocess.run([KUBECIS, "diff", "--store", store_url, "--format", "json", "--exit-code", "3"],
                       capture_output=True, text=True, timeout=60)
    assert d.returncode == 3, d.stderr  # a node newly not evaluated
    doc = json.loads(d.stdout)
    assert (doc["from_batch"]["batch"], doc["to_batch"]["batch"]) == (batches[1]["batch"], batches[0]["batch"])
    nodes = {(n["scope"], n["node"]): n for n in doc["nodes"]}
    assert [(n["node"], n["coverage"]) for n in doc["nodes"]] == [
        ("cp-1", None), ("worker-a", "newly_not_evaluated"), ("worker-b", None), ("worker-x", "still_not_evaluated"),
        ("", None)]
    assert nodes[("node", "worker-a")]["to"]["reason"].startswith("pod evicted: The node was low on resource")
    b = nodes[("node", "worker-b")]
    assert [(c["check"], c["before"], c["after"]) for c in b["fixed"]] == [
        (cid, "FAIL", "PASS") for cid in ("4.1.1", "4.1.5", "4.1.9", "4.2.1", "4.2.2", "4.2.6", "4.2.10")]
    assert b["newly_failing"] == [] and nodes[("node", "cp-1")]["newly_failing"] == []
    assert all(not nodes[("cluster", "")][c] for c in ("newly_failing", "fixed", "changed"))
    assert doc["summary"] == {"nodes": 4, "newly_failing": 0, "fixed": 1, "newly_not_evaluated": 1,
                              "evaluated_again": 0, "still_not_evaluated": 1, "added": 0, "removed": 0,
                              "unchanged": 1}
    # the same between the two batches named by prefixes, as text
    t = subprocess.run([KUBECIS, "diff", "--store", store_url, "--batches", batches[1]["batch"][:8],
                        batches[0]["batch"][:8]], capture_output=True, text=True, timeout=60)
    assert t.returncode == 0, t.stderr
    assert ("4 nodes: 0 with newly failing checks, 1 with fixed checks, 1 newly NOT EVALUATED, 1 still NOT "
            "EVALUATED; 1 unchanged") in t.stdout
    assert "== node worker-a (cluster prod) ==" in t.stdout and "== node cp-1" not in t.stdout
    # one node's last two scans (--node): its coverage change too
    one = subprocess.run([KUBECIS, "diff", "--store", store_url, "--node", "worker-a", "--format", "json"],
                         capture_output=True, text=True, timeout=60)
    [n] = json.loads(one.stdout)["nodes"]
    assert (n["coverage"], n["from"]["state"], n["to"]["state"]) == ("newly_not_evaluated", "evaluated",
                                                                     "not_evaluated")
