"""Real systemd journal files for the journalctl tests, written by ``systemd-journal-remote``.

No journald is needed: ``systemd-journal-remote --output=FILE -`` turns journal *export format*
(``FIELD=value`` lines, a blank line between entries, binary-safe ``FIELD\\n<le64 size><bytes>\\n``
for values with newlines or control bytes) into a ``.journal`` file. By default it compresses
fields over 512 bytes with the build's algorithm (ZSTD on Debian 12); ``compress=False`` writes
them plain.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

Fields = Mapping[str, str | bytes]


def journal_remote() -> str | None:
    for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"):
        if os.access(p, os.X_OK):
            return p
    return shutil.which("systemd-journal-remote")


def export_format(entries: Sequence[Fields]) -> bytes:
    out = bytearray()
    for e in entries:
        for k, v in e.items():
            b = v.encode() if isinstance(v, str) else v
            if any(c < 0x20 and c != 0x09 for c in b) or (k == "MESSAGE" and b"\n" in b):
                out += k.encode() + b"\n" + struct.pack("<Q", len(b)) + b + b"\n"
            else:
                out += k.encode() + b"=" + b + b"\n"
        out += b"\n"
    return bytes(out)


def write_journal(path: Path, entries: Sequence[Fields], compress: bool = True, compact: bool = True) -> bytes:
    """Write ``entries`` as a journal file at ``path`` and return its bytes.

    ``compact=False`` writes the pre-252 layout (64-bit entry items and arrays, no keyed hash)."""
    tool = journal_remote()
    assert tool is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    subprocess.run(
        [tool, f"--output={path}", f"--compress={'yes' if compress else 'no'}", "-"],
        input=export_format(entries), check=True, capture_output=True,
        env={**os.environ, "SYSTEMD_JOURNAL_COMPACT": "1" if compact else "0",
             "SYSTEMD_JOURNAL_KEYED_HASH": "1" if compact else "0"},
    )
    return path.read_bytes()


MID = "8c1b5e2f6a7d4c3b9e0f1a2b3c4d5e6f"
OTHER_MID = "0123456789abcdef0123456789abcdef"
BOOT0 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
BOOT1 = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
BOOT2 = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"

APISERVER = (
    "--advertise-address=10.0.0.10 --advertise-port=6443 --allow-privileged=true --anonymous-auth=false "
    "--api-audiences=https://kubernetes.default.svc.cluster.local,k3s --authorization-mode=Node,RBAC "
    "--bind-address=127.0.0.1 --cert-dir=/var/lib/rancher/k3s/server/tls/temporary-certs "
    "--client-ca-file=/var/lib/rancher/k3s/server/tls/client-ca.crt --egress-selector-config-file="
    "/var/lib/rancher/k3s/server/etc/egress-selector-config.yaml --enable-admission-plugins=NodeRestriction "
    "--enable-aggregator-routing=true --enable-bootstrap-token-auth=true "
    "--encryption-provider-config=/var/lib/rancher/k3s/server/cred/encryption-config.json "
    "--etcd-cafile=/var/lib/rancher/k3s/server/tls/etcd/server-ca.crt "
    "--etcd-certfile=/var/lib/rancher/k3s/server/tls/etcd/client.crt "
    "--etcd-keyfile=/var/lib/rancher/k3s/server/tls/etcd/client.key --etcd-servers=https://127.0.0.1:2379 "
    "--kubelet-certificate-authority=/var/lib/rancher/k3s/server/tls/server-ca.crt "
    "--kubelet-client-certificate=/var/lib/rancher/k3s/server/tls/client-kube-apiserver.crt "
    "--kubelet-client-key=/var/lib/rancher/k3s/server/tls/client-kube-apiserver.key --profiling=false "
    "--proxy-client-cert-file=/var/lib/rancher/k3s/server/tls/client-auth-proxy.crt "
    "--requestheader-client-ca-file=/var/lib/rancher/k3s/server/tls/request-header-ca.crt "
    "--secure-port=6444 --service-account-issuer=https://kubernetes.default.svc.cluster.local "
    "--service-account-key-file=/var/lib/rancher/k3s/server/tls/service.key "
    "--service-account-lookup=true --service-cluster-ip-range=10.43.0.0/16 "
    "--tls-cert-file=/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.crt "
    "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "
    "--tls-private-key-file=/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.key"
)
CONTROLLER = (
    "--allocate-node-cidrs=true --bind-address=127.0.0.1 --cluster-cidr=10.42.0.0/16 "
    "--feature-gates=JobTrackingWithFinalizers=true --profiling=false "
    "--root-ca-file=/var/lib/rancher/k3s/server/tls/server-ca.crt --secure-port=10257 "
    "--service-account-private-key-file=/var/lib/rancher/k3s/server/tls/service.current.key "
    "--terminated-pod-gc-threshold=10 --use-service-account-credentials=true"
)
SCHEDULER = "--bind-address=127.0.0.1 --kubeconfig=/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig " \
    "--profiling=false --secure-port=10259"
KUBELET = (
    "--address=0.0.0.0 --anonymous-auth=false --authentication-token-webhook=true --authorization-mode=Webhook "
    "--client-ca-file=/var/lib/rancher/k3s/agent/client-ca.crt --make-iptables-util-chains=true "
    "--protect-kernel-defaults=true --read-only-port=0 --streaming-connection-idle-timeout=5m "
    "--tls-cert-file=/var/lib/rancher/k3s/agent/serving-kubelet.crt "
    "--tls-private-key-file=/var/lib/rancher/k3s/agent/serving-kubelet.key"
)
PROXY = "--cluster-cidr=10.42.0.0/16 --conntrack-max-per-core=0 --hostname-override=node1 " \
    "--kubeconfig=/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig --proxy-mode=iptables"


class _Clock:
    def __init__(self, realtime: int, boot: str, hostname: str) -> None:
        self.realtime = realtime
        self.monotonic = 5_000_000
        self.boot = boot
        self.hostname = hostname
        self.machine = MID

    def entry(self, message: str | bytes, unit: str = "k3s.service", ident: str | None = "k3s", pid: str = "812",
              comm: str = "k3s-server", **extra: str | bytes) -> dict[str, str | bytes]:
        self.realtime += 731_017
        self.monotonic += 731_017
        e: dict[str, str | bytes] = {
            "__REALTIME_TIMESTAMP": str(self.realtime),
            "__MONOTONIC_TIMESTAMP": str(self.monotonic),
            "_BOOT_ID": self.boot,
            "_MACHINE_ID": self.machine,
            "_HOSTNAME": self.hostname,
            "PRIORITY": "6",
            "_TRANSPORT": "stdout",
            "_UID": "0",
            "_GID": "0",
            "_COMM": comm,
            "_EXE": "/usr/local/bin/k3s",
            "_SYSTEMD_CGROUP": f"/system.slice/{unit}",
            "_SYSTEMD_UNIT": unit,
            "_PID": pid,
            "MESSAGE": message,
        }
        if ident is not None:
            e["SYSLOG_IDENTIFIER"] = ident
        e.update(extra)
        return e

    def systemd(self, message: str, unit: str = "k3s.service") -> dict[str, str | bytes]:
        return self.entry(message, unit="init.scope", ident="systemd", pid="1", comm="systemd", UNIT=unit,
                          CODE_FILE="src/core/job.c", JOB_TYPE="start")


def k3s_server_boot(clock: _Clock, apiserver: str, kubelet: str) -> list[dict[str, str | bytes]]:
    c = clock
    return [
        c.systemd("Starting Lightweight Kubernetes..."),
        c.entry('time="2024-11-24T20:26:40Z" level=info msg="Starting k3s v1.29.6+k3s1 (83ae095a)"'),
        c.entry('time="2024-11-24T20:26:40Z" level=info msg="Managed etcd cluster initializing"'),
        c.entry("Running containerd -c /var/lib/rancher/k3s/agent/etc/containerd/config.toml",
                unit="containerd.service", ident="containerd", pid="640", comm="containerd"),
        c.entry(f'time="2024-11-24T20:26:41Z" level=info msg="Running kube-apiserver {apiserver}"'),
        c.entry('time="2024-11-24T20:26:41Z" level=info msg="Tunnel server egress proxy mode: agent"'),
        c.entry(f'time="2024-11-24T20:26:42Z" level=info msg="Running kube-scheduler {SCHEDULER}"'),
        c.entry(f'time="2024-11-24T20:26:42Z" level=info msg="Running kube-controller-manager {CONTROLLER}"'),
        c.entry("Running kubelet --fake (unrelated unit)", unit="other.service", ident="other", pid="77"),
        c.entry(f'time="2024-11-24T20:26:43Z" level=info msg="Running kubelet {kubelet}"'),
        c.entry(f'time="2024-11-24T20:26:43Z" level=info msg="Running kube-proxy {PROXY}"'),
        c.systemd("Started Lightweight Kubernetes."),
        c.entry("I1124 20:26:44.1 1 event.go:389] Event(v1.ObjectReference{Kind:\"Node\"}): type: 'Normal'",
                ident=None, comm="k3s-server"),
    ]


def node_journals(tmp: Path) -> dict[str, bytes]:
    """Node path → journal file bytes: local machine (two files, one plain), volatile, another machine."""
    files: dict[str, bytes] = {}
    old = _Clock(1_732_300_000_000_000, BOOT0, "node1")
    rotated = "system@6c1f5e2a9b8d4e7f8a1b2c3d4e5f6a7b-0000000000000001-0006272b2f1e0a3c.journal"
    files[f"/var/log/journal/{MID}/{rotated}"] = write_journal(
        tmp / "old.journal",
        k3s_server_boot(old, "--advertise-address=10.0.0.10 --anonymous-auth=true --profiling=true", KUBELET),
        compress=False, compact=False,
    )
    b1 = _Clock(1_732_480_000_000_000, BOOT1, "node1")
    entries = k3s_server_boot(b1, APISERVER, KUBELET)
    b2 = _Clock(1_732_490_000_000_000, BOOT2, "node1")
    entries += k3s_server_boot(b2, APISERVER.replace("--profiling=false ", ""),
                               KUBELET.replace("--read-only-port=0", "--read-only-port=10255"))
    entries += [
        b2.entry("Running kubelet --agent-side=true " + KUBELET, unit="k3s-agent.service", comm="k3s-agent"),
        b2.entry("multi\nline\n\nmessage\n"),
        b2.entry("tab\there \x1b[1mbold\x1b[0m end"),
        b2.entry(b"binary \x01 data"),
        b2.entry(""),
        b2.entry("x" * 400, ident="y" * 300),
        b2.entry("no pid", pid="", SYSLOG_PID="4242"),
        b2.entry("from source time", _SOURCE_REALTIME_TIMESTAMP="1732491234567890"),
        b2.entry("coredump of k3s", unit="systemd-coredump@0.service", ident="systemd-coredump", pid="999",
                 MESSAGE_ID="fc2e22bc6ee647b6b90729ab34a250b1", COREDUMP_UNIT="k3s.service"),
        b2.entry("about k3s from an authorized daemon", unit="foo.service", ident="foo", pid="55",
                 OBJECT_SYSTEMD_UNIT="k3s.service"),
        b2.entry("about k3s but not uid 0", unit="foo.service", ident="foo", pid="56", _UID="1000",
                 OBJECT_SYSTEMD_UNIT="k3s.service"),
        b2.entry(f'time="2024-11-24T23:13:20Z" level=info msg="Running kube-apiserver {APISERVER} --token=s3cr3t"'),
    ]
    files[f"/var/log/journal/{MID}/system.journal"] = write_journal(tmp / "system.journal", entries)
    vol = _Clock(1_732_490_500_000_000, BOOT2, "node1")
    files[f"/run/log/journal/{MID}/system.journal"] = write_journal(
        tmp / "volatile.journal", [vol.entry("volatile k3s entry")], compress=False
    )
    other = _Clock(1_732_499_000_000_000, "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3", "node2")
    other.machine = OTHER_MID
    files[f"/var/log/journal/{OTHER_MID}/system.journal"] = write_journal(
        tmp / "other.journal",
        [other.entry(f'level=info msg="Running kube-apiserver --node2 {APISERVER}"'),
         other.entry('level=info msg="Running kubelet --node2=true"', unit="k3s-agent.service")],
        compact=False,
    )
    return files


def recompress(data: bytes, kind: str, compress: Callable[[bytes], bytes]) -> bytes:
    """An uncompressed journal file with every data payload over 512 bytes compressed in place.

    Simulates a journald built for XZ or LZ4 (systemd 252 only writes its build's algorithm): the
    object keeps its offset and hash, shrinks (the gap is never read) and gets the object and header
    compression flags."""
    flag = {"xz": 1, "lz4": 2}[kind]
    buf = bytearray(data)
    incompat, = struct.unpack_from("<I", buf, 12)
    assert not incompat & (1 | 2 | 8), "start from --compress=no"
    compact = bool(incompat & 16)
    header_size, _arena, = struct.unpack_from("<QQ", buf, 88)
    tail, = struct.unpack_from("<Q", buf, 136)
    off = header_size
    changed = 0
    while off <= tail:
        typ, flags, size = struct.unpack_from("<BB6xQ", buf, off)
        if size == 0:
            break
        start = off + (72 if compact else 64)
        if typ == 1 and flags == 0 and size - (start - off) > 512:
            packed = compress(bytes(buf[start : off + size]))
            if len(packed) < size - (start - off):
                buf[start : start + len(packed)] = packed
                struct.pack_into("<BB6xQ", buf, off, typ, flag, start - off + len(packed))
                changed += 1
        off += (size + 7) & ~7
    assert changed
    struct.pack_into("<I", buf, 12, incompat | flag)
    return bytes(buf)
