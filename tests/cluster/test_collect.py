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
                                              if n["results"])


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
