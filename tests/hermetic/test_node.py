"""Self-tests of the hermetic node library (node.py)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from .node import (
    Binary,
    Dir,
    File,
    Group,
    NodeSetupError,
    NodeSpec,
    Process,
    User,
    hermetic,
    overlay_roots,
    run_in_node,
    run_shell_in_node,
    skip_unless_hermetic,
    standin_binary,
)

pytestmark = hermetic

APISERVER_ARGV = (
    "kube-apiserver",
    "--advertise-address=10.0.0.10",
    "--authorization-mode=Node,RBAC",
    "--enable-admission-plugins=NodeRestriction",
)
CM_ARGV = ("kube-controller-manager", "--bind-address=127.0.0.1", "--profiling=false")
ETCD_ENV = {"ETCD_CERT_FILE": "/etc/kubernetes/pki/etcd/server.crt", "ETCD_CLIENT_CERT_AUTH": "true"}

SPEC = NodeSpec(
    name="self-test",
    files=(
        File("/etc/kubernetes/manifests/kube-apiserver.yaml", "kind: Pod\n", 0o600),
        File("/etc/kubernetes/pki/ca.crt", "cert\n", 0o644),
        File("/var/lib/kubelet/config.yaml", "readOnlyPort: 0\n", 0o640, "root", "etcd"),
        File("/etc/kubernetes/odd owner.conf", "x\n", 0o604, "1234", "4321"),
    ),
    dirs=(Dir("/var/lib/etcd", 0o700, "etcd", "etcd"),),
    users=(User("etcd", 991, 991, "/var/lib/etcd"),),
    groups=(Group("etcd", 991),),
    processes=(
        Process("kube-apiserver", APISERVER_ARGV),
        Process("kube-controller-manager", CM_ARGV),
        Process("etcd", ("etcd", "--data-dir=/var/lib/etcd"), ETCD_ENV),
        Process("kubelet", ("/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"), exe="/usr/bin/kubelet"),
    ),
    binaries=(
        Binary("/usr/bin/kubelet", "Kubernetes v1.21.1\n", daemon=True),
        Binary("/usr/local/bin/kubectl", "Client Version: v1.33.0\n", '{"serverVersion": {"minor": "33"}}\n'),
    ),
    hidden=("/usr/bin/kubectl",),
)


@pytest.fixture(autouse=True)
def _need_hermetic() -> None:
    skip_unless_hermetic()


def sh(script: str, spec: NodeSpec = SPEC) -> str:
    res = run_shell_in_node(spec, script)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_processes_visible_to_ps_with_exact_argv() -> None:
    out = sh(
        "ps -C kube-apiserver -o cmd --no-headers; echo --; ps -C kube-controller-manager -o cmd --no-headers;"
        " echo --; ps -C kube-controller -o cmd --no-headers; echo --; ps -C kubelet -o cmd --no-headers"
    )
    api, cm, cm_short, kubelet = out.split("--\n")
    assert api == " ".join(APISERVER_ARGV) + "\n"
    assert cm == " ".join(CM_ARGV) + "\n"
    assert cm_short == cm  # the kernel truncates comm to 15 characters: "kube-controller"
    assert kubelet == "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n"


def test_process_table_holds_only_the_node() -> None:
    res = run_in_node(SPEC, ["ps", "-e", "-o", "pid=,comm="])
    rows = [line.split() for line in res.stdout.splitlines()]
    assert rows[0] == ["1", "ps"]  # the command itself is PID 1
    assert sorted(r[1] for r in rows[1:]) == sorted(["kube-apiserver", "kube-controller", "etcd", "kubelet"])


def test_process_environment() -> None:
    out = sh("cat /proc/$(ps -C etcd -o pid= | tr -d ' ')/environ | tr '\\0' '\\n'")
    assert out.splitlines() == [f"{k}={v}" for k, v in ETCD_ENV.items()]


def test_file_modes_and_owners() -> None:
    out = sh(
        "stat -c '%n %a %U:%G' /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/pki/ca.crt "
        "/var/lib/kubelet/config.yaml /var/lib/etcd '/etc/kubernetes/odd owner.conf'; cat /var/lib/kubelet/config.yaml"
    )
    assert out.splitlines() == [
        "/etc/kubernetes/manifests/kube-apiserver.yaml 600 root:root",
        "/etc/kubernetes/pki/ca.crt 644 root:root",
        "/var/lib/kubelet/config.yaml 640 root:etcd",
        "/var/lib/etcd 700 etcd:etcd",
        "/etc/kubernetes/odd owner.conf 604 UNKNOWN:UNKNOWN",
        "readOnlyPort: 0",
    ]


def test_users_and_groups_resolve() -> None:
    out = sh("id etcd; getent group etcd; stat -c %u:%g /var/lib/etcd")
    assert out.splitlines() == ["uid=991(etcd) gid=991(etcd) groups=991(etcd)", "etcd:x:991:", "991:991"]


def test_version_stand_ins_on_path() -> None:
    out = sh("kubelet --version; command -v kubectl; kubectl version -o json; kubectl version")
    assert out.splitlines() == [
        "Kubernetes v1.21.1",
        "/usr/local/bin/kubectl",
        '{"serverVersion": {"minor": "33"}}',
        "Client Version: v1.33.0",
    ]
    res = run_shell_in_node(SPEC, "kubectl get pods")
    assert res.returncode == 1
    assert "stand-in only answers version queries" in res.stderr


def test_hidden_host_file_is_absent_inside() -> None:
    res = run_shell_in_node(SPEC.replace(binaries=()), "test -e /usr/bin/kubectl && echo present || echo absent")
    assert res.stdout == "absent\n"


def test_command_exit_status_env_and_cwd() -> None:
    res = run_in_node(
        SPEC,
        ["/bin/sh", "-c", 'pwd; echo "$FOO"; exit 7'],
        env={"FOO": "bar", "PATH": "/usr/bin:/bin"},
        cwd="/etc/kubernetes",
    )
    assert (res.returncode, res.stdout) == (7, "/etc/kubernetes\nbar\n")


def _host_snapshot() -> dict[str, str]:
    snap: dict[str, str] = {}
    for path in (
        "/etc/passwd",
        "/etc/group",
        "/usr/bin/kubectl",
        "/usr/bin/kubelet",
        "/usr/local/bin/kubectl",
        "/etc/kubernetes",
        "/var/lib/kubelet",
        "/var/lib/etcd",
        "/usr/local/bin/kube-apiserver",
    ):
        p = Path(path)
        if p.is_file():
            snap[path] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            snap[path] = "dir" if p.is_dir() else "absent"
    return snap


def _marked(spec: NodeSpec) -> tuple[NodeSpec, str]:
    """The spec with a marker argument unique to this call on every stand-in's command line, and the marker: a
    leftover of this node is told apart from the stand-ins of other hermetic runs on the same machine."""
    marker = uuid.uuid4().hex
    procs = tuple(dataclasses.replace(p, argv=(*p.argv, f"--kubecis-test-marker={marker}")) for p in spec.processes)
    return dataclasses.replace(spec, name=f"{spec.name}-{marker}", processes=procs), marker


def _standin_pids(marker: str) -> list[int]:
    """Host processes that are stand-ins of the node whose command lines carry ``marker``."""
    marker = f"--kubecis-test-marker={marker}"
    exe = str(standin_binary())
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                comm = Path(f"/proc/{entry}/comm").read_text().strip()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            standin = comm in ("kube-apiserver", "kube-controller", "etcd", "kubelet") or comm == Path(exe).name
            if standin and marker.encode() in cmdline:
                pids.append(int(entry))
    return pids


def test_nothing_leaks_to_the_host() -> None:
    spec, marker = _marked(SPEC)
    before = _host_snapshot()
    mounts_before = Path("/proc/self/mountinfo").read_text()
    out = sh(f"echo 'evil:x:0:0::/:/bin/sh' >> /etc/passwd; rm -f /etc/group; touch /etc/kubernetes/new; "
             f"ps -eo args | grep -c -- {marker}", spec)
    assert int(out) >= len(spec.processes)  # the stand-ins ran, marked
    assert _host_snapshot() == before
    assert Path("/proc/self/mountinfo").read_text() == mounts_before
    assert _standin_pids(marker) == []
    assert list(Path(tempfile.gettempdir()).glob(f"kubecis-node-{spec.name}-*")) == []  # its job dir is gone


def test_timeout_kills_the_whole_namespace() -> None:
    spec, marker = _marked(SPEC)
    with pytest.raises(subprocess.TimeoutExpired):
        run_shell_in_node(spec, "sleep 60", timeout=2)
    for _ in range(100):
        if not _standin_pids(marker):
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert _standin_pids(marker) == []


def test_setup_errors_are_reported() -> None:
    bad = SPEC.with_files(File("/etc/kubernetes/x", "", 0o600, "no-such-user", "root"))
    with pytest.raises(NodeSetupError, match="no-such-user"):
        run_shell_in_node(bad, "true")


def test_overlay_roots_pick_deepest_existing_ancestors(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "var" / "lib").mkdir(parents=True)
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    roots = overlay_roots(
        ["/etc/kubernetes/pki/ca.crt", "/var/lib/kubelet/config.yaml", "/var/lib/etcd", "/usr/bin/kubelet"],
        host_root=str(tmp_path),
    )
    assert roots == ["/etc", "/usr/bin", "/var/lib"]
    with pytest.raises(ValueError, match="only existing ancestor"):
        overlay_roots(["/nonexistent-top/x"], host_root=str(tmp_path))
