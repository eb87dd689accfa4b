"""The kube-apiserver's configuration files on real (hermetic) kubeadm nodes: the API server stand-in runs with
--encryption-provider-config, --admission-control-config-file and --audit-policy-file (or without them), the
bundled cis-2.0 checks decide from the files natively and through the shell (the `kubecis probe` console script),
a snapshot records the files with the encryption keys redacted, and the replay elsewhere gives the same verdicts
and evidence.

The traps node holds files that look right to a grep: kube-bench's cis-1.12 (its `grep -A1 providers: | tail -n1`
reads the last resources entry) PASSes 1.2.28 there while Secrets are written in plaintext."""

from __future__ import annotations

import base64
import functools
import gzip
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .node import DEFAULT_ENV, NodeSpec, hermetic, run_in_node
from .nodes import ENCRYPTION_KEYS, kubeadm_config_traps, kubeadm_defaults, kubeadm_hardened, kubeadm_misconfigured
from .paths import CFG, KUBECIS

pytestmark = [hermetic, pytest.mark.usefixtures("need_node_and_compat")]

NODES: dict[str, Callable[[], NodeSpec]] = {
    "defaults": kubeadm_defaults, "hardened": kubeadm_hardened, "misconfigured": kubeadm_misconfigured,
    "traps": kubeadm_config_traps,
}
IDS = ("1.2.9", "1.2.27", "1.2.28", "1.2.29", "3.2.1", "3.2.2")  # cis-2.0: EventRateLimit, encryption x2,
# ciphers, audit policy x2
EXPECTED = {
    "defaults": dict.fromkeys(IDS, "FAIL"),
    "misconfigured": dict.fromkeys(IDS, "FAIL"),
    "hardened": dict.fromkeys(IDS, "PASS"),
    "traps": {"1.2.9": "FAIL", "1.2.27": "PASS", "1.2.28": "FAIL", "1.2.29": "PASS", "3.2.1": "PASS", "3.2.2": "FAIL"},
}
# kube-bench's cis-1.12 on the traps node: the plugin name, a last-entry grep and the flag decide
KUBE_BENCH_TRAPS = {"1.2.9": "PASS", "1.2.27": "PASS", "1.2.28": "PASS", "1.2.29": "PASS", "3.2.1": "PASS",
                    "3.2.2": "WARN"}
ENV = {**DEFAULT_ENV, "PATH": f"{KUBECIS.parent}:{DEFAULT_ENV['PATH']}"}


def results(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["test_number"]: c for x in doc["Controls"] for g in x["tests"] or [] for c in g["results"]}


@functools.cache
def runs(node: str, tmp: str) -> dict[str, Any]:
    """One node instance: a snapshot, native and shell runs of cis-2.0, kube-bench's cis-1.12 through the shell."""
    d = Path(tmp)
    script = " && ".join([
        f"{KUBECIS} snapshot record -o {d}/node.snap --benchmark cis-2.0",
        f"{KUBECIS} run --benchmark cis-2.0 --executor native --json --outputfile {d}/native.json",
        f"{KUBECIS} run --benchmark cis-2.0 --executor shell --json --outputfile {d}/shell.json",
        f"{KUBECIS} run -D {CFG} --benchmark cis-1.12 --targets master,controlplane --executor shell --json "
        f"--outputfile {d}/kb.json",
    ])
    res = run_in_node(NODES[node](), ["/bin/sh", "-c", script], timeout=600, env=ENV)
    assert res.returncode == 0, res.stderr[-3000:]
    replay = subprocess.run([str(KUBECIS), "run", "--snapshot", str(d / "node.snap"), "--benchmark", "cis-2.0",
                             "--json"], capture_output=True, text=True, check=False)
    assert replay.returncode == 0, replay.stderr
    return {"native": results(json.loads((d / "native.json").read_text())),
            "shell": results(json.loads((d / "shell.json").read_text())),
            "kube-bench": results(json.loads((d / "kb.json").read_text())),
            "replay": results(json.loads(replay.stdout)), "snapshot": (d / "node.snap").read_bytes()}


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config-files")


def _run(node: str, tmp_root: Path) -> dict[str, Any]:
    d = tmp_root / node
    d.mkdir(exist_ok=True)
    return runs(node, str(d))


@pytest.mark.parametrize("node", list(NODES))
def test_verdicts_native_shell_and_replayed(node: str, tmp_root: Path) -> None:
    r = _run(node, tmp_root)
    native = {k: r["native"][k]["status"] for k in IDS}
    assert native == EXPECTED[node], {k: r["native"][k].get("actual_value") or r["native"][k].get("reason")
                                      for k in IDS}
    assert {k: r["shell"][k]["status"] for k in IDS} == native
    # the replay elsewhere: the same verdicts and the same evidence for every check
    assert {k: v["status"] for k, v in r["replay"].items()} == {k: v["status"] for k, v in r["native"].items()}
    for k in IDS:
        assert r["replay"][k].get("actual_value") == r["native"][k].get("actual_value"), k


def test_evidence_names_the_file_the_entry_and_the_rule(tmp_root: Path) -> None:
    traps = _run("traps", tmp_root)["native"]
    enc = traps["1.2.28"]["actual_value"]
    assert enc.startswith("secrets_provider: identity\nencryption_config: /etc/kubernetes/enc/encryption-config.yaml\n")
    assert "secrets_rule: resources[0] (secrets)" in enc and "secrets_providers: identity, aescbc (1 key: key1)" in enc
    assert "rules[0] (level None; no conditions: matches every request)" in traps["3.2.2"]["actual_value"]
    assert "no plugins entry named EventRateLimit" in traps["1.2.9"]["actual_value"]
    hardened = _run("hardened", tmp_root)["native"]
    assert "limit: type=Server qps=5000 burst=20000" in hardened["1.2.9"]["actual_value"]
    assert "encryption_config: none" in _run("defaults", tmp_root)["native"]["1.2.27"]["actual_value"]


def test_kube_bench_passes_the_identity_first_trap(tmp_root: Path) -> None:
    """The deliberate difference: kube-bench's grep reads the last resources entry (configmaps, aescbc first)."""
    kb = _run("traps", tmp_root)["kube-bench"]
    assert {k: kb[k]["status"] for k in IDS} == KUBE_BENCH_TRAPS


@pytest.mark.parametrize("node", ["hardened", "traps"])
def test_snapshot_records_the_files_without_their_keys(node: str, tmp_root: Path) -> None:
    raw = gzip.decompress(_run(node, tmp_root)["snapshot"])
    doc = json.loads(raw)
    recorded = [e for e in doc["entries"] if "/etc/kubernetes/enc/encryption-config.yaml" in json.dumps(e)[:300]]
    assert recorded, "the encryption configuration is recorded"
    contents = [base64.b64decode(s) for s in _strings(doc) if _b64(s)]
    haystack = raw + b"\n".join(contents)
    assert b"REDACTED-BY-KUBECIS" in haystack
    for key in ENCRYPTION_KEYS:
        assert key.encode() not in haystack
        assert base64.b64decode(key) not in haystack
    assert b"key1" in haystack  # key names are kept: the evidence shows them


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for x in node for s in _strings(x)]
    if isinstance(node, dict):
        return [s for x in node.values() for s in _strings(x)]
    return []


def _b64(s: str) -> bool:
    try:
        base64.b64decode(s, validate=True)
    except ValueError:
        return False
    return len(s) % 4 == 0 and len(s) >= 8
