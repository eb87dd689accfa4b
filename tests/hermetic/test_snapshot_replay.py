"""Record a hermetic node natively, replay the snapshot outside it: identical JSON, no private key inside."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import planted_secrets as planted

from .node import DEFAULT_ENV, File, Process, hermetic, run_in_node
from .nodes import kubeadm_misconfigured, pem
from .paths import COMPAT, KUBECIS

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]


SECRETS_CHECKS = """\
id: "9"
version: "secrets"
text: "Reads secrets"
type: "node"
groups:
  - id: "9.1"
    text: "Key material"
    checks:
      - id: "9.1.1"
        text: "API server key is a PEM key"
        audit: "cat /etc/kubernetes/pki/apiserver.key"
        tests:
          test_items:
            - flag: "PRIVATE KEY"
        scored: true
      - id: "9.1.2"
        text: "admin.conf has a client key"
        audit: "cat /etc/kubernetes/admin.conf"
        tests:
          test_items:
            - flag: "client-key-data"
        scored: true
"""


def _decoded_strings(node: object) -> list[bytes]:
    """Every string in the snapshot document, plus its base64 decoding where it is base64 (file contents)."""
    out: list[bytes] = []
    if isinstance(node, str):
        out.append(node.encode())
        with contextlib.suppress(ValueError):
            out.append(base64.b64decode(node, validate=True))
    elif isinstance(node, list):
        for x in node:
            out += _decoded_strings(x)
    elif isinstance(node, dict):
        for x in node.values():
            out += _decoded_strings(x)
    return out


def _cfg_with_secret_checks(tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    text = (COMPAT / "cfg" / "config.yaml").read_text()
    (cfg / "config.yaml").write_text(text.replace("target_mapping:", 'target_mapping:\n  "secrets":\n    - "node"', 1))
    shutil.copytree(COMPAT / "cfg" / "cis-1.12", cfg / "cis-1.12")
    (cfg / "secrets").mkdir()
    (cfg / "secrets" / "node.yaml").write_text(SECRETS_CHECKS)
    return cfg


@pytest.mark.parametrize(("bench", "targets"), [("cis-1.12", ""), ("secrets", "node")])
def test_record_then_replay_elsewhere(tmp_path: Path, bench: str, targets: str) -> None:
    cfg = _cfg_with_secret_checks(tmp_path)
    snap = tmp_path / "node.snap"
    live = tmp_path / "live.json"
    extra = f"--targets {targets}" if targets else ""
    script = (f"{KUBECIS} snapshot record -o {snap} -D {cfg} --benchmark {bench} {extra} && "
              f"{KUBECIS} run -D {cfg} --benchmark {bench} {extra} --executor native --json --outputfile {live}")
    res = run_in_node(kubeadm_misconfigured(), ["/bin/sh", "-c", script])
    assert res.returncode == 0, res.stderr
    # replay on this machine, outside the node
    cmd = [str(KUBECIS), "run", "--snapshot", str(snap), "-D", str(cfg), "--benchmark", bench, "--json"]
    if targets:
        cmd += ["--targets", targets]
    replay = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert replay.returncode == 0, replay.stderr
    if bench == "cis-1.12":
        assert replay.stdout == live.read_text()
    else:  # audits that print key material: same verdicts, but the replayed evidence is redacted
        def states(text: str) -> list[tuple[str, str]]:
            doc = json.loads(text)
            return [(c["test_number"], c["status"]) for x in doc["Controls"] for g in x["tests"] for c in g["results"]]

        assert states(replay.stdout) == states(live.read_text()) == [("9.1.1", "PASS"), ("9.1.2", "PASS")]
        assert "REDACTED-BY-KUBECIS" in replay.stdout and "REDACTED-BY-KUBECIS" not in live.read_text()
    raw = gzip.decompress(snap.read_bytes())
    haystack = raw + b"\n".join(_decoded_strings(json.loads(raw)))
    for label in ("apiserver", "kubernetes-admin"):
        body = pem("RSA PRIVATE KEY", label).splitlines()[1].encode()  # first line of the key material
        assert body not in haystack, label
        assert base64.b64encode(pem("RSA PRIVATE KEY", label).encode())[48:96] not in haystack, label
    if bench == "secrets":
        assert b"REDACTED-BY-KUBECIS" in haystack


PLANTED_CHECKS = """\
id: "9"
version: "planted"
text: "Reads every place a secret was planted"
type: "node"
groups:
  - id: "9.1"
    text: "Planted"
    checks:
      - id: "9.1.1"
        text: "the agent runs with --anonymous-auth=false"
        audit: "ps -ef | grep mystery-agent | grep -v grep"
        tests:
          test_items:
            - flag: "--anonymous-auth"
              compare:
                op: eq
                value: false
        scored: true
      - id: "9.1.2"
        text: "encryption at rest uses aescbc"
        audit: "cat FILES"
        tests:
          test_items:
            - flag: "aescbc"
        scored: true
      - id: "9.1.3"
        text: "process environments"
        audit: "for p in $(ps -e -o pid=); do cat /proc/$p/environ | tr '\\\\0' '\\\\n'; done"
        tests:
          test_items:
            - flag: "ETCD_KEY_FILE=/etc/etcd/server.key"
        scored: true
      - id: "9.1.4"
        text: "process command lines"
        audit: "for p in $(ps -e -o pid=); do cat /proc/$p/cmdline | tr '\\\\0' ' '; echo; done"
        tests:
          test_items:
            - flag: "--kubeconfig=/var/lib/kube-proxy/kc.conf"
        scored: true
      - id: "9.1.5"
        text: "the audit environment"
        audit: "echo x$REGISTRY_PASSWORD"
        tests:
          test_items:
            - flag: "x"
        scored: true
"""


def _states(text: str) -> list[tuple[str, str]]:
    doc = json.loads(text)
    return [(c["test_number"], c["status"]) for x in doc["Controls"] for g in x["tests"] for c in g["results"]]


def test_planted_secrets_never_reach_the_snapshot(tmp_path: Path) -> None:
    """Every secret form planted on a real (hermetic) node: processes, environments, files, the audit's own
    environment. Neither the gunzipped snapshot nor any base64 inside it holds one; verdicts replay the same."""
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    text = (COMPAT / "cfg" / "config.yaml").read_text()
    (cfg / "config.yaml").write_text(text.replace("target_mapping:", 'target_mapping:\n  "planted":\n    - "node"', 1))
    shutil.copytree(COMPAT / "cfg" / "cis-1.12", cfg / "cis-1.12")
    (cfg / "planted").mkdir()
    (cfg / "planted" / "node.yaml").write_text(PLANTED_CHECKS.replace("FILES", " ".join(sorted(planted.FILES))))
    spec = kubeadm_misconfigured().with_files(*(File(p, c, 0o600) for p, c in planted.FILES.items()))
    spec = spec.with_processes(*(Process(name, argv, env, exe=f"/usr/local/lib/kubecis-planted/{name}")
                                 for name, argv, env in planted.PROCESSES))
    script = []
    for bench, targets in (("planted", "--targets node"), ("cis-1.12", "")):
        script += [f"{KUBECIS} snapshot record -o {tmp_path}/{bench}.snap -D {cfg} --benchmark {bench} {targets}",
                   f"{KUBECIS} run -D {cfg} --benchmark {bench} {targets} --executor native --json "
                   f"--outputfile {tmp_path}/{bench}.json"]
    res = run_in_node(spec, ["/bin/sh", "-c", " && ".join(script)], env={**DEFAULT_ENV, **planted.AUDIT_ENV})
    assert res.returncode == 0, res.stderr
    live = (tmp_path / "planted.json").read_text()
    assert "plnt01" in live and "plnt18" in live  # the live run saw the secrets (so this test can fail)
    for bench, targets in (("planted", ["--targets", "node"]), ("cis-1.12", [])):
        snap = tmp_path / f"{bench}.snap"
        assert planted.leaked(snap.read_bytes()) == [], bench
        replay = subprocess.run([str(KUBECIS), "run", "--snapshot", str(snap), "-D", str(cfg), "--benchmark", bench,
                                 *targets, "--json"], capture_output=True, text=True, check=False)
        assert replay.returncode == 0, replay.stderr
        assert _states(replay.stdout) == _states((tmp_path / f"{bench}.json").read_text()), bench
    assert _states(live) == [(f"9.1.{n}", "PASS") for n in range(1, 6)]


def test_bad_snapshots_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        "truncated": gzip.compress(b'{"format":"kubecis-snapshot","version":1,"entries":[')[:20],
        "foreign": gzip.compress(b'{"hello": "world"}'),
        "newer": gzip.compress(b'{"format":"kubecis-snapshot","version":99,"entries":[]}'),
        "not-gzip": b"plain text",
    }
    for name, data in cases.items():
        f = tmp_path / name
        f.write_bytes(data)
        cp = subprocess.run([str(KUBECIS), "run", "--snapshot", str(f), "-D", str(COMPAT / "cfg"),
                             "--benchmark", "cis-1.12"], capture_output=True, text=True, check=False)
        assert cp.returncode == 1, name
        lines = cp.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kubecis: error: "), (name, cp.stderr)
        assert cp.stdout == ""
    cp = subprocess.run([str(KUBECIS), "run", "--root", str(tmp_path / "cases-file"), "-D", str(COMPAT / "cfg")],
                        capture_output=True, text=True, check=False)
    assert cp.returncode == 1 and "not a directory" in cp.stderr
