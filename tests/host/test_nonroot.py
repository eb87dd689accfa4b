"""Non-root runs and facts that cannot be established: their own reason, never a silent FAIL, never an abort.

* An owner whose name cannot be looked up (``/etc/passwd`` unreadable, or no entry for the uid): native
  ``stat -c %U:%G`` prints ``UNKNOWN`` as GNU stat does, and the check is WARN naming the uid and why.
* A path that cannot be stat'ed during discovery (a directory the user may not search): only the checks
  using that variable are WARN ("$kubeletconf undetermined: cannot stat ...: Permission denied").

The end-to-end tests run ``kubecis run --root`` as user nobody (setpriv), since root reads anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubecis.audit.native import NativeExecutor, unsupported_reason
from kubecis.benchmark.model import Check, Compare, TestItem, Tests
from kubecis.host.rooted import RootedHost
from kubecis.host.snapshot import RecordingHost, SnapshotHost
from kubecis.results.model import State
from kubecis.results.runner import run_check
from tests.hermetic.nodes import kubeadm_defaults
from tests.host.rootfs import write_root

REPO = Path(__file__).resolve().parents[2]
NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\n")
    (tmp_path / "f").write_text("x")
    return tmp_path


def _ownership_check() -> Check:
    item = TestItem(flag="root:root", compare=Compare(op="eq", value="root:root"), set=True)
    return Check(id="1.1.1", text="owned by root", audit="stat -c %U:%G /f", tests=Tests(items=(item,)),
                 scored=True)


def test_owner_without_name_is_its_own_reason(tree: Path) -> None:
    os.chown(tree / "f", 4321, 0)
    host = RootedHost(str(tree))
    res = NativeExecutor(host).run("stat -c '%U:%G %u' /f")
    assert res.output == "UNKNOWN:root 4321\n" and res.returncode == 0  # what GNU stat prints
    assert res.not_run == "cannot resolve owner uid 4321: no user with that id in /etc/passwd"
    r = run_check(_ownership_check(), NativeExecutor(host))
    assert (r.state, r.reason) == (State.WARN, res.not_run)


@pytest.mark.parametrize("how", ["missing", "directory"])
def test_unreadable_passwd_is_its_own_reason(tree: Path, how: str) -> None:
    os.unlink(tree / "etc/passwd")
    if how == "directory":
        (tree / "etc/passwd").mkdir()
    host = RootedHost(str(tree))
    res = NativeExecutor(host).run("stat -c %U:%G /f /etc")
    why = "No such file or directory" if how == "missing" else "Is a directory"
    assert res.output == "UNKNOWN:root\nUNKNOWN:root\n"
    assert res.not_run == f"cannot resolve owner uid 0: cannot read /etc/passwd: {why}"  # once per uid
    r = run_check(_ownership_check(), NativeExecutor(host))
    assert r.state == State.WARN and r.reason == res.not_run
    # names that resolve, and audits that print no name, are unaffected
    assert NativeExecutor(host).run("stat -c %G:%u:%a /f").not_run == ""
    # static coverage (a dry run on an empty host) is not confused by it
    assert unsupported_reason("stat -c %U:%G /etc/kubernetes/admin.conf") is None


def test_reason_replays_from_a_snapshot(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    os.unlink(tree / "etc/passwd")
    rec = RecordingHost(RootedHost(str(tree)))
    live = NativeExecutor(rec).run("/bin/sh -c 'stat -c %U:%G /f'")
    snap = tmp_path_factory.mktemp("snap") / "n.snap.gz"
    rec.save(str(snap))
    replay = NativeExecutor(SnapshotHost.load(str(snap))).run("/bin/sh -c 'stat -c %U:%G /f'")
    assert live.not_run.startswith("cannot resolve owner uid 0: cannot read /etc/passwd")
    assert replay == live


# --- as user nobody ------------------------------------------------------------------------------------------


def _nobody(tmp: Path) -> list[str]:
    """setpriv to nobody, if this machine can run kubecis as nobody at all."""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to nobody")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    cmd = [setpriv, *NOBODY, sys.executable, "-c", "import kubecis.cli.main, yaml"]
    cp = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp), cwd=str(tmp))
    if cp.returncode != 0:
        pytest.skip(f"nobody cannot run this Python: {cp.stderr.strip()[-200:]}")
    return [setpriv, *NOBODY]


def _env(tmp: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "PYTHONPATH": str(REPO / "src"),
            "XDG_CACHE_HOME": str(tmp / "cache")}


@pytest.fixture
def node() -> Iterator[Path]:
    """A kubeadm-like --root tree in a directory nobody can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="kubecis-nonroot-"))
    try:
        base.chmod(0o755)
        write_root(kubeadm_defaults(), base / "node")
        (base / "home").mkdir(mode=0o777)
        (base / "home").chmod(0o777)
        yield base
    finally:
        shutil.rmtree(base)


def _run_as_nobody(base: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    home = base / "home"
    cmd = [*_nobody(home), sys.executable, "-m", "kubecis", "run", "--root", str(base / "node"),
           "--benchmark", "cis-1.10", "--json"]
    cp = subprocess.run(cmd, capture_output=True, text=True, env=_env(home), cwd=str(home), timeout=300)
    return cp, (json.loads(cp.stdout) if cp.stdout.strip() else {})


def _results(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["test_number"]: r for c in doc["Controls"] for g in c["tests"] for r in g["results"]}


def test_nonroot_unreadable_passwd_and_unsearchable_dir(node: Path) -> None:
    root = node / "node"
    for f in ("etc/passwd", "etc/group"):
        (root / f).chmod(0o600)
    (root / "var/lib/kubelet").chmod(0o700)
    cp, doc = _run_as_nobody(node)
    assert cp.returncode == 0, cp.stderr[-2000:]  # one unsearchable path no longer stops the run
    assert "Traceback" not in cp.stderr
    res = _results(doc)
    owner = [r for r in res.values() if "%U" in r["audit"] and r["scored"]]
    assert len(owner) >= 10
    for r in owner:
        if "$kubeletconf" in r["audit"] or "$proxykubeconfig" in r["audit"]:
            continue
        assert r["status"] == "WARN", r
        assert "cannot resolve owner uid 0: cannot read /etc/passwd: Permission denied" in r["reason"], r
    kubelet = [r for r in res.values() if "$kubeletconf" in r["audit"] + r.get("audit_config", "")]
    assert kubelet
    for r in kubelet:
        assert r["status"] == "WARN"
        assert r["reason"] == "$kubeletconf undetermined: cannot stat /var/lib/kubelet/config.yaml: Permission denied"
    # no check FAILs on a fact that was not there
    assert not [r for r in res.values() if r["status"] == "FAIL" and "UNKNOWN" in r.get("actual_value", "")]
    # the rest of the run was evaluated as usual
    assert doc["Totals"]["total_pass"] >= 30
    assert res["1.2.1"]["status"] in ("PASS", "WARN") and res["1.2.6"]["status"] in ("PASS", "FAIL")


def test_nonroot_readable_node_matches_root(node: Path) -> None:
    """Where nothing is hidden from nobody, the verdicts are the same as root's."""
    root = node / "node"
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames:
            (Path(dirpath) / n).chmod(0o755)
        for n in filenames:
            p = Path(dirpath) / n
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | 0o444)
    cp, doc = _run_as_nobody(node)
    assert cp.returncode == 0, cp.stderr[-2000:]
    env = dict(_env(node / "home"), HOME=str(node / "home"))
    as_root = subprocess.run([sys.executable, "-m", "kubecis", "run", "--root", str(root), "--benchmark", "cis-1.10",
                              "--json"], capture_output=True, text=True, env=env, timeout=300)
    want = {k: (r["status"], r.get("reason", "")) for k, r in _results(json.loads(as_root.stdout)).items()}
    got = {k: (r["status"], r.get("reason", "")) for k, r in _results(doc).items()}
    assert got == want
