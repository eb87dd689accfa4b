"""Native audits see the environment /bin/sh would start with: the host's (live, recorded, or none for --root)."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.host.live import LiveHost
from kubecis.host.rooted import RootedHost
from kubecis.host.snapshot import MARKER, RecordingHost, SnapshotHost
from tests.realtools import needs_real

SCRIPTS = [
    'echo "pod=$KUBECIS_T_POD"',
    'echo "${KUBECIS_T_POD:-unset} ${KUBECIS_T_NONE:-unset} ${#KUBECIS_T_POD}"',
    'unset KUBECIS_T_POD; echo "[$KUBECIS_T_POD]"',
    'f() { local KUBECIS_T_POD=inner; echo $KUBECIS_T_POD; }; f; echo $KUBECIS_T_POD',
    "KUBECIS_T_POD=mine; echo $KUBECIS_T_POD",
    "(unset KUBECIS_T_POD); echo $KUBECIS_T_POD",
    'x="a:b"; for w in $x; do echo "<$w>"; done',
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECIS_T_POD", "kube-bench-x7k2p")
    monkeypatch.delenv("KUBECIS_T_NONE", raising=False)
    monkeypatch.setenv("IFS", ":")  # dash ignores an inherited IFS


@needs_real("sh")
@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("script", SCRIPTS)
def test_live_native_sees_what_sh_sees(script: str) -> None:
    real = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True)
    res = NativeExecutor(LiveHost()).run(script)
    assert not res.not_run, res.not_run
    assert (res.output, res.returncode) == (real.stdout + real.stderr, real.returncode)


@pytest.mark.usefixtures("env")
def test_rooted_host_has_no_environment(tmp_path: Path) -> None:
    res = NativeExecutor(RootedHost(str(tmp_path))).run('echo "pod=$KUBECIS_T_POD"')
    assert res.output == "pod=\n"


@pytest.mark.usefixtures("env")
def test_recorded_environment_replays(tmp_path: Path) -> None:
    rec = RecordingHost(LiveHost())
    live = NativeExecutor(rec).run(SCRIPTS[1])
    snap = tmp_path / "env.snap"
    rec.save(str(snap))
    replay = NativeExecutor(SnapshotHost.load(str(snap))).run(SCRIPTS[1])
    assert replay == live and live.output == "kube-bench-x7k2p unset 16\n"


def test_secret_looking_variables_are_not_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECIS_T_API_TOKEN", "s3cr3t-value")
    rec = RecordingHost(LiveHost())
    assert NativeExecutor(rec).run("echo $KUBECIS_T_API_TOKEN").output == "s3cr3t-value\n"
    snap = tmp_path / "env.snap"
    rec.save(str(snap))
    assert b"s3cr3t" not in gzip.decompress(snap.read_bytes())
    assert NativeExecutor(SnapshotHost.load(str(snap))).run("echo $KUBECIS_T_API_TOKEN").output == f"{MARKER}\n"
