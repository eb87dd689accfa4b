"""`kubecis probe encryption-config|audit-policy|event-rate-limit [FILE]` as the shell executor runs them: the
installed console script, exit 0 decided / 1 undecided (reason on stderr) / 2 bad usage; the native interpreter
gives the same output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.host.live import LiveHost

KUBECIS = Path(sys.executable).parent / "kubecis"
TRAP = """\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers: [{identity: {}}, {aescbc: {keys: [{name: k1, secret: c2VjcmV0IGlzIHNlY3VyZQ==}]}}]
  - resources: [configmaps]
    providers: [{aescbc: {keys: [{name: k2, secret: c2VjcmV0IGlzIHNlY3VyZQ==}]}}]
"""


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECIS), "probe", *args], capture_output=True, text=True, check=False, timeout=60)


def test_decided_undecided_and_usage(tmp_path: Path) -> None:
    f = tmp_path / "enc.yaml"
    f.write_text(TRAP)
    res = probe("encryption-config", str(f))
    assert res.returncode == 0 and res.stdout.startswith("secrets_provider: identity\n"), res
    native = NativeExecutor(LiveHost()).run(f"kubecis probe encryption-config {f}")
    assert native.output == res.stdout

    assert probe("encryption-config", "").stdout.startswith("secrets_provider: identity\nencryption_config: none\n")
    assert probe("audit-policy").stdout.startswith("audit_gaps: 9\naudit_policy: none\n")

    res = probe("audit-policy", str(tmp_path / "missing.yaml"))
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr.startswith(f"kubecis probe audit-policy: cannot decide: --audit-policy-file names {tmp_path}")

    f.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n")
    res = probe("audit-policy", str(f))
    assert res.returncode == 1 and "loaded illegal policy with 0 rules" in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["encryption-config", "a", "b"], "takes at most one file, got 2"),
    (["encryption-config", "--kubernetes", "one"], "--kubernetes 'one': a version such as 1.26"),
    (["audit-policy", "--kubernetes", "1.26", "x"], "unexpected option '--kubernetes'"),
])
def test_bad_usage(args: list[str], message: str) -> None:
    res = probe(*args)
    assert res.returncode == 2 and message in res.stderr, res
    assert NativeExecutor(LiveHost()).run("kubecis probe " + " ".join(args) + "; echo rc=$?").output.endswith(
        "rc=2\n")
