"""LiveHost, RootedHost and the snapshot hosts."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from kubecis.audit.native import NativeExecutor
from kubecis.errors import HostError
from kubecis.host._fs import format_stime, format_time, parse_names, parse_process, tty_name
from kubecis.host.base import NotInSnapshot
from kubecis.host.live import LiveHost
from kubecis.host.rooted import RootedHost
from kubecis.host.snapshot import MARKER, RecordingHost, SnapshotHost, redact

KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
KUBECONFIG = f"""apiVersion: v1
users:
- name: admin
  user:
    client-certificate-data: Y2VydA==
    client-key-data: {KEY_BODY}
    token: abcdef.0123456789abcdef
- name: basic
  user:
    password: hunter2
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc/kubernetes/pki").mkdir(parents=True)
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\netcd:x:998:998::/:/bin/false\n")
    (tmp_path / "etc/group").write_text("root:x:0:\netcd:x:998:\n")
    (tmp_path / "etc/kubernetes/admin.conf").write_text(KUBECONFIG)
    os.chmod(tmp_path / "etc/kubernetes/admin.conf", 0o600)
    (tmp_path / "etc/kubernetes/pki/ca.key").write_text(
        f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----\n"
    )
    (tmp_path / "etc/kubernetes/pki/ca.crt").write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    os.chmod(tmp_path / "etc/kubernetes/pki/ca.crt", 0o644)
    os.symlink("/etc/kubernetes/pki/ca.crt", tmp_path / "etc/kubernetes/abs-link")
    os.symlink("../../../../../../etc/shadow", tmp_path / "etc/kubernetes/escape")
    os.symlink("/../../../../etc", tmp_path / "etc/kubernetes/escape-dir")
    return tmp_path


def test_rooted_resolves_inside_root(root: Path) -> None:
    h = RootedHost(str(root))
    assert h.read("/etc/kubernetes/abs-link").startswith(b"-----BEGIN CERTIFICATE")
    with pytest.raises(FileNotFoundError) as ei:
        h.read("/etc/kubernetes/escape")  # -> ROOT/etc/shadow, which does not exist
    assert ei.value.filename == "/etc/kubernetes/escape"
    assert h.listdir("/etc/kubernetes/escape-dir/kubernetes") != []  # /.. stays at root
    assert h.user_name(998) == "etcd" and h.group_name(0) == "root" and h.user_name(5) is None
    with pytest.raises(NotADirectoryError):
        h.stat("/etc/passwd/x")
    assert h.processes() == []  # no ROOT/proc
    with pytest.raises(HostError):
        RootedHost(str(root / "nope"))


def test_native_over_rooted(root: Path) -> None:
    ex = NativeExecutor(RootedHost(str(root)))
    r = ex.run("stat -c '%a %U:%G %n' /etc/kubernetes/admin.conf /etc/kubernetes/missing")
    assert r.output == (
        "600 root:root /etc/kubernetes/admin.conf\n"
        "stat: cannot statx '/etc/kubernetes/missing': No such file or directory\n"
    ) or r.output.startswith("600 ")
    assert r.returncode == 1
    r = ex.run("find /etc/kubernetes/pki -name '*.crt' | xargs stat -c permissions=%a")
    assert r.output == "permissions=644\n" and r.returncode == 0


def test_snapshot_roundtrip_and_redaction(root: Path, tmp_path: Path) -> None:
    rec = RecordingHost(RootedHost(str(root)))
    scripts = [
        "cat /etc/kubernetes/admin.conf",
        "cat /etc/kubernetes/pki/ca.key",
        "stat -c %a /etc/kubernetes/admin.conf /nope",
        "find /etc/kubernetes -name '*.crt'",
        "ps -ef | grep kube-apiserver | grep -v grep",
    ]
    live = [NativeExecutor(rec).run(s) for s in scripts]
    snap = tmp_path / "node.snap.gz"
    rec.save(str(snap))
    raw = gzip.decompress(snap.read_bytes())
    assert KEY_BODY.encode() not in raw and b"hunter2" not in raw and b"abcdef.0123" not in raw
    doc = json.loads(raw)
    assert doc["version"] == 1 and doc["format"] == "kubecis-snapshot"
    host = SnapshotHost.load(str(snap))
    replay = [NativeExecutor(host).run(s) for s in scripts]
    for a, b, s in zip(live, replay, scripts, strict=True):
        if ("admin.conf" in s and s.startswith("cat")) or "ca.key" in s:
            assert MARKER in b.output and KEY_BODY not in b.output
            assert "client-certificate-data: Y2VydA==" in b.output or "BEGIN RSA PRIVATE KEY" in b.output
        else:
            assert (a.output, a.returncode) == (b.output, b.returncode), s
    r = NativeExecutor(host).run("stat -c %a /etc/never-asked")
    assert r.not_run == "not in snapshot: /etc/never-asked"
    with pytest.raises(NotInSnapshot):
        host.read("/etc/never-asked")


def test_snapshot_bad_files(tmp_path: Path) -> None:
    def load(data: bytes) -> str:
        p = tmp_path / "x.gz"
        p.write_bytes(data)
        with pytest.raises(HostError) as ei:
            SnapshotHost.load(str(p))
        msg = str(ei.value)
        assert "\n" not in msg
        return msg

    good = {"format": "kubecis-snapshot", "version": 1, "host": "n", "entries": []}
    assert "newer" in load(gzip.compress(json.dumps(dict(good, version=2)).encode()))
    assert "not a kubecis snapshot" in load(gzip.compress(b'{"format": "other"}'))
    assert "invalid JSON" in load(gzip.compress(b"{not json"))
    assert "gzip" in load(b"plain text")
    assert "gzip" in load(gzip.compress(json.dumps(good).encode())[:20])
    with pytest.raises(HostError):
        SnapshotHost.load(str(tmp_path / "missing.gz"))


def test_redact_keeps_structure() -> None:
    out = redact(KUBECONFIG.encode()).decode()
    assert "client-key-data: " + MARKER in out and "password: " + MARKER in out
    assert "client-certificate-data: Y2VydA==" in out and KEY_BODY not in out


def test_proc_parsing_helpers() -> None:
    assert tty_name(0) == "?" and tty_name((136 << 8) | 3) == "pts/3" and tty_name((4 << 8) | 1) == "tty1"
    assert format_time(100 * 3725) == "01:02:05" and format_time(100 * 90000) == "1-01:00:00"
    assert parse_names(b"root:x:0:0::/:/bin/sh\n#c\nbad\nx:x:0:0\n") == {0: "root"}
    p = parse_process(
        7, "7 (kube controller) S 1 7 7 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0 500 0", "Uid:\t0\t1000\t0\t0\n",
        b"/bin/x\0--a=b\0", 1_700_000_000, 1000.0, 1_700_000_100.0,
    )
    assert p.comm == "kube controller" and p.uid == 1000 and p.cmdline == ("/bin/x", "--a=b")
    assert p.time == "00:00:02" and p.ppid == 1
    assert len(format_stime(0, 10**9)) == 4


def test_live_host_reads_self() -> None:
    h = LiveHost()
    me = [p for p in h.processes() if p.pid == os.getpid()]
    assert me and me[0].cmdline and me[0].comm
    assert h.environ(os.getpid())
    assert h.user_name(0) == "root"
