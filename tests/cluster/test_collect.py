"""`cluster collect`, `demo --cluster`, the merged report formats, and snapshot replay with the recorded
benchmark and targets. No cluster needed: the example fleet and files made from it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from kubecis.cli.main import main
from tests.shared import REPO

FLEET = REPO / "src" / "kubecis" / "data" / "examples" / "fleet"
SCHEMA = json.loads((REPO / "docs" / "cluster-report.schema.json").read_text())


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_demo_cluster_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(["demo", "--cluster"], capsys)
    assert rc == 0
    assert "3 of 4 nodes evaluated" in out
    assert "not evaluated: worker-lost: worker-lost.log: snapshot payload cut short" in out
    assert "== Failures (node x check) ==" in out
    rc, out, _ = _run(["demo", "--cluster", "--json"], capsys)
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    states = {n["name"]: n["state"] for n in doc["nodes"]}
    assert states == {"cp-1": "evaluated", "worker-hardened": "evaluated", "worker-lost": "not_evaluated",
                      "worker-misconfigured": "evaluated"}
    hardened = next(n for n in doc["nodes"] if n["name"] == "worker-hardened")
    assert hardened["results"]["Totals"]["total_fail"] == 0
    mis = next(n for n in doc["nodes"] if n["name"] == "worker-misconfigured")
    assert mis["results"]["Totals"]["total_fail"] > 0
    # the fleet is as a scan records it: nothing a node check needs is missing from the snapshots
    for n in doc["nodes"]:
        for c in (n["results"] or {}).get("Controls") or []:
            for g in c["tests"]:
                for r in g["results"]:
                    assert "not in snapshot" not in r.get("reason", ""), (n["name"], r["test_number"], r["reason"])
    assert doc["totals"]["total_fail"] == sum(n["results"]["Totals"]["total_fail"] for n in doc["nodes"]
                                              if n["results"]) + doc["policies"]["Totals"]["total_fail"]
    assert doc["policies_reason"] == "policies of cis-1.12 evaluated once against the example cluster's API objects"


def test_collect_names_corrupt_files_and_per_node_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "snaps"
    d.mkdir()
    shutil.copy(FLEET / "worker-hardened.snap", d / "node-a.snap")
    shutil.copy(FLEET / "cp-1.snap", d / "cp.snapshot.gz")
    (d / "broken.snap").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (d / "empty.snap").write_bytes(b"")
    (d / "log.txt").write_bytes(b"kubecis: error: something\n")
    per = tmp_path / "per-node"
    per.mkdir()
    rc, out, _ = _run(["cluster", "collect", str(d), "--json", "--per-node-dir", str(per)], capsys)
    assert rc == 0
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    by = {n["name"]: n for n in doc["nodes"]}
    assert set(by) == {"node-a", "cp.snapshot", "broken", "empty", "log"}
    assert by["node-a"]["state"] == "evaluated" and by["cp.snapshot"]["state"] == "evaluated"
    assert by["broken"]["reason"] == "broken: not a complete gzip stream"
    assert by["empty"]["state"] == "not_evaluated" and by["empty"]["reason"]
    assert by["log"]["reason"] == ("log.txt: no snapshot payload in the pod log (last line: kubecis: error: "
                                   "something)")
    assert doc["summary"]["coverage"] == "2 of 5 nodes evaluated"
    assert sorted(p.name for p in per.iterdir()) == ["cp.snapshot.json", "node-a.json"]
    # each per-node file is byte for byte what `kubecis run --snapshot FILE --json` prints for that node
    rc, direct, _ = _run(["run", "--snapshot", str(d / "node-a.snap"), "--json"], capsys)
    assert (per / "node-a.json").read_text() == direct
    assert json.dumps(by["node-a"]["results"], separators=(",", ":")) == json.dumps(json.loads(direct),
                                                                                   separators=(",", ":"))


def test_collect_exit_code_and_outputfile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    rc, _, _ = _run(["cluster", "collect", str(FLEET / "worker-hardened.snap"), "--exit-code", "7", "--json",
                     "--outputfile", str(out)], capsys)
    assert rc == 0  # no FAIL, every node evaluated
    assert json.loads(out.read_text())["summary"]["evaluated"] == 1
    rc, _, _ = _run(["cluster", "collect", str(FLEET / "worker-misconfigured.snap"), "--exit-code", "7"], capsys)
    assert rc == 7  # a FAIL
    rc, _, _ = _run(["cluster", "collect", str(FLEET / "worker-lost.log"), "--exit-code", "7"], capsys)
    assert rc == 7  # a node not evaluated never counts as passing


def test_collect_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(["cluster", "collect", str(tmp_path / "nope")], capsys)
    assert rc == 2 and err.strip().endswith("nope: no such file or directory") and len(err.splitlines()) == 1
    rc, _, err = _run(["cluster", "collect", str(tmp_path)], capsys)
    assert rc == 2 and "no snapshot files" in err


def test_collect_many_files_in_a_pool_keeps_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = []
    for i in range(12):
        src = [FLEET / "cp-1.snap", FLEET / "worker-hardened.snap", FLEET / "worker-misconfigured.snap"][i % 3]
        names.append(f"n{i:02d}")
        shutil.copy(src, tmp_path / f"n{i:02d}.snap")
    _, out, _ = _run(["cluster", "collect", str(tmp_path), "--json", "--jobs", "2"], capsys)
    doc = json.loads(out)
    assert [n["name"] for n in doc["nodes"]] == names
    _, out1, _ = _run(["cluster", "collect", str(tmp_path), "--json", "--jobs", "1"], capsys)
    assert out1 == out


def test_replay_uses_the_recorded_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot recorded with --targets node (what a scan records on a worker) replays without --targets;
    before, replay re-ran role detection on facts the recording never made and failed."""
    snap = str(FLEET / "worker-hardened.snap")
    rc, out, err = _run(["run", "--snapshot", snap, "--json"], capsys)
    assert rc == 0, err
    doc = json.loads(out)
    assert [c["node_type"] for c in doc["Controls"]] == ["node"]
    rc, out2, _ = _run(["run", "--snapshot", snap, "--json", "--targets", "node", "--benchmark", "cis-1.12"], capsys)
    assert out2 == out  # what was recorded, stated explicitly: the same
    rc, _, err = _run(["run", "--snapshot", snap, "--targets", "master"], capsys)
    assert rc == 1 and "no process table" not in err  # told otherwise: the override wins (and says what is missing)


def test_node_run_does_not_import_the_kubernetes_client(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from kubecis.cli.main import main\n"
        "rc = main(['run', '--targets', 'policies', '--executor', 'native', '--benchmark', 'cis-1.12'])\n"
        "rc2 = main(['run', '--snapshot', 'example'])\n"
        "sys.stderr.write('IMPORTED' if 'kubernetes' in sys.modules else 'CLEAN')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert res.stderr.endswith("CLEAN"), res.stderr[-500:]
    code2 = ("import sys\nfrom kubecis.cli.main import main\n"
             "main(['cluster', 'scan', '--kubeconfig', sys.argv[1]])\n"
             "sys.stderr.write('IMPORTED' if 'kubernetes' in sys.modules else 'CLEAN')\n")
    kc = tmp_path / "kc"
    kc.write_text("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                  "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {}}]\n")
    res = subprocess.run([sys.executable, "-c", code2, str(kc)], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert res.stderr.endswith("IMPORTED"), res.stderr[-500:]


# ---- policies from an object dump, waivers, formats, history -------------------------------------------------
OBJECTS = REPO / "tests" / "policies" / "fixtures" / "example-cluster.yaml"
FLEET_WAIVERS = """\
waivers:
  - {id: kubelet-mis, checks: ["4.2.1"], reason: legacy monitor, expires: 2099-01-01, nodes: ["worker-mis*"]}
  - {id: other-cluster, checks: ["4.1.1"], reason: not here, expires: 2099-01-01, clusters: ["staging"]}
  - {id: ops-admins, checks: ["5.1.1"], reason: break-glass, owner: secops, expires: 2099-01-01,
     objects: ["ClusterRoleBinding/ops-admins"]}
  - {id: legacy-ns, checks: ["5.2.2", "5.2.3"], reason: legacy shipper, expires: 2099-01-01, namespaces: [legacy]}
  - {id: system-only, checks: ["5.2.7"], reason: managed, expires: 2099-01-01, namespaces: [kube-system]}
  - {id: policies-by-node, checks: ["5.3.2"], reason: never, expires: 2099-01-01, nodes: ["cp-1"]}
  - {id: gone, checks: ["1.1.1"], reason: old, expires: 2020-01-01}
"""


def _statuses(results: dict) -> dict[str, tuple[str, str]]:  # type: ignore[type-arg]
    return {r["test_number"]: (r["status"], r.get("reason", "")) for c in results["Controls"] for g in c["tests"]
            for r in g["results"]}


def test_collect_policies_from_a_dump_and_waivers_per_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w = tmp_path / "w.yaml"
    w.write_text(FLEET_WAIVERS)
    rc, out, err = _run(["cluster", "collect", str(FLEET), "--objects", str(OBJECTS), "--waivers", str(w), "--json",
                         "--cluster-name", "prod", "--jobs", "2"], capsys)
    assert rc == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["cluster"]["name"] == "prod"
    assert doc["policies_reason"] == f"policies of cis-1.12 evaluated once against the object dump {OBJECTS}"
    nodes = {n["name"]: n for n in doc["nodes"]}
    assert _statuses(nodes["worker-misconfigured"]["results"])["4.2.1"] == (
        "INFO", "waived (kubelet-mis, until 2099-01-01; was FAIL): legacy monitor")
    assert _statuses(nodes["cp-1"]["results"])["4.2.1"][0] == "FAIL"  # the node scope
    assert _statuses(nodes["cp-1"]["results"])["4.1.1"][0] == "FAIL"  # another cluster's waiver
    pol = _statuses(doc["policies"])
    assert pol["5.1.1"] == ("INFO", "waived (ops-admins, owner secops, until 2099-01-01; was FAIL): break-glass")
    assert pol["5.2.2"][0] == pol["5.2.3"][0] == "INFO"  # every object they list is in legacy
    assert pol["5.2.7"][0] == "FAIL"  # kube-system covers only some of its objects
    assert pol["5.3.2"][0] == "FAIL"  # a node scope never applies to the cluster-wide checks
    assert doc["policies"]["Totals"]["total_info"] == 3
    assert [line for line in err.splitlines() if "waive" in line] == [
        "kubecis: waivers: 4 checks waived on 1 node and the cluster-wide policies by 3 of 7 waivers",
        "kubecis: waiver other-cluster is unused: it waived nothing on any node",
        "kubecis: waiver system-only covers only some of the objects of 5.2.7; they stay as they are",
        "kubecis: waiver policies-by-node is unused: it waived nothing on any node",
        "kubecis: waiver gone expired on 2020-01-01, not applied (would have waived 1.1.1)"]


def test_collect_in_every_format_from_a_process_pool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "snaps"
    d.mkdir()
    for i in range(6):
        shutil.copy(FLEET / ("worker-misconfigured.snap" if i % 2 else "worker-hardened.snap"), d / f"w{i}.snap")
    shutil.copy(FLEET / "worker-lost.log", d / "w9.log")
    for fmt, check in (("html", "<!DOCTYPE html>"), ("sarif", '"version": "2.1.0"'), ("csv", "cluster,node,"),
                       ("junit", "<testsuites>")):
        out = tmp_path / f"r.{fmt}"
        rc, stdout, err = _run(["cluster", "collect", str(d), "--format", fmt, "--outputfile", str(out), "--jobs",
                                "2"], capsys)
        assert (rc, stdout) == (0, ""), err
        text = out.read_text()
        assert check in text and all(f"w{i}" in text for i in (0, 1, 2, 3, 4, 5, 9)), fmt
    html = (tmp_path / "r.html").read_text()
    assert html.count('<tr class="node-row"') == 7 and html.count('data-state="not_evaluated"') == 2
    assert '<tr class="node-row policies" data-node="(cluster-wide)" data-state="not_evaluated">' in html
    assert "snapshot payload cut short" in html
    rc, _, err = _run(["cluster", "collect", str(d), "--json", "--format", "csv"], capsys)
    assert rc == 2 and err == "kubecis: error: --json and --format csv cannot be used together\n"


def test_collect_bad_dump_is_one_line_and_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "dump.yaml"
    bad.write_text("kind: Pod\nmetadata: [\n")
    out = tmp_path / "r.json"
    rc, stdout, err = _run(["cluster", "collect", str(FLEET), "--objects", str(bad), "--json", "--outputfile",
                            str(out)], capsys)
    assert rc == 1 and stdout == "" and len(err.splitlines()) == 1 and str(bad) in err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_demo_cluster_formats_and_store(tmp_path: Path, capsys: pytest.CaptureFixture[str], store_url: str) -> None:
    out = tmp_path / "demo.html"
    rc, _, err = _run(["demo", "--cluster", "--format", "html", "--outputfile", str(out), "--store", store_url], capsys)
    assert rc == 0, err
    assert "kubecis cluster report: example" in out.read_text()
    assert "kubecis: stored 5 scans as batch" in err  # 4 nodes (one not evaluated) and the policies
    rc, _, err = _run(["demo", "--cluster", "--json", "--store", store_url], capsys)
    assert rc == 0
    rc, text, err = _run(["diff", "--store", store_url], capsys)
    assert rc == 0, err
    assert text.splitlines()[1] == ("4 nodes: 0 with newly failing checks, 0 with fixed checks, 1 still NOT "
                                    "EVALUATED; 3 unchanged")
    for bad in (["--pgsql"], ["--node-name", "x"], ["--format", "asff"]):
        rc, _, err = _run(["demo", "--cluster", *bad], capsys)
        assert rc == 2 and "`demo --cluster` shows a cluster's" in err, bad


def test_collect_takes_the_policies_from_the_first_snapshot_that_recorded_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "snaps"
    d.mkdir()
    shutil.copy(FLEET / "worker-hardened.snap", d / "a.snap")
    shutil.copy(REPO / "src" / "kubecis" / "data" / "examples" / "kubeadm-control-plane.snap", d / "b.snap")
    shutil.copy(REPO / "src" / "kubecis" / "data" / "examples" / "kubeadm-control-plane.snap", d / "c.snap")
    rc, out, err = _run(["cluster", "collect", str(d), "--json", "--jobs", "2"], capsys)
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["policies_reason"] == f"policies evaluated once, from {d / 'b.snap'}"
    assert doc["policies"]["Totals"] == {"total_pass": 4, "total_fail": 25, "total_warn": 5, "total_info": 0}
    b = next(n for n in doc["nodes"] if n["name"] == "b")
    assert "policies" not in b["targets"]  # never part of a node's results
    rc, out, _ = _run(["cluster", "collect", str(d / "a.snap"), "--json"], capsys)
    assert json.loads(out)["policies_reason"] == "no snapshot recorded the cluster-wide targets (policies)"


def test_a_failing_store_keeps_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    store = tmp_path / "missing-dir" / "h.db"
    rc, stdout, err = _run(["cluster", "collect", str(FLEET), "--format", "html", "--outputfile", str(out),
                            "--store", str(store)], capsys)
    assert (rc, stdout) == (1, "")
    assert err == f"kubecis: error: --store {store}: directory {store.parent} does not exist\n"
    assert out.read_text().startswith("<!DOCTYPE html>")  # written before the sink was tried
    rc, _, err = _run(["cluster", "collect", str(FLEET), "--store", "mysql://u@h/db"], capsys)
    assert rc == 2 and "unsupported database" in err  # checked before anything is evaluated


def test_the_demo_s_cluster_objects_are_the_policies_fixture() -> None:
    """`demo --cluster` ships the example cluster's objects; they are the policies tests' fixture (and the
    dump behind `kubecis demo`'s recorded API answers), byte for byte."""
    shipped = REPO / "src" / "kubecis" / "data" / "examples" / "cluster-objects.yaml"
    assert shipped.read_bytes() == OBJECTS.read_bytes()
