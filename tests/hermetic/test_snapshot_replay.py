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

from .node import hermetic, run_in_node
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
