"""A k3s server node, for the k3s benchmark sets.

k3s runs every control-plane component inside one `k3s server` process and logs their arguments to
the journal ("Running kube-apiserver --..."), which is what the k3s checks read; its files live under
/var/lib/rancher/k3s and /etc/rancher/k3s. The journal is a real journal file written by
systemd-journal-remote (tests/audit/journal_fixtures.py), so building the node needs that tool.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.audit.journal_fixtures import APISERVER, KUBELET, MID, _Clock, journal_remote, k3s_server_boot, write_journal

from .node import DEFAULT_MASKS, Dir, File, NodeSpec, Process
from .nodes import kubeconfig, pem

K = "/var/lib/rancher/k3s"
TLS = f"{K}/server/tls"
CRED = f"{K}/server/cred"
AGENT = f"{K}/agent"

ETCD_CONFIG = f"""\
advertise-client-urls: https://10.0.0.10:2379
client-transport-security:
  cert-file: {TLS}/etcd/server-client.crt
  client-cert-auth: true
  key-file: {TLS}/etcd/server-client.key
  trusted-ca-file: {TLS}/etcd/server-ca.crt
data-dir: {K}/server/db/etcd
name: k3s-server-1
peer-transport-security:
  cert-file: {TLS}/etcd/peer-server-client.crt
  client-cert-auth: true
  key-file: {TLS}/etcd/peer-server-client.key
  trusted-ca-file: {TLS}/etcd/peer-ca.crt
"""


def available() -> tuple[bool, str]:
    if journal_remote() is None:
        return False, "systemd-journal-remote is not installed (Debian package systemd-journal-remote)"
    return True, ""


def k3s_server(*, apiserver: str = APISERVER, kubelet: str = KUBELET, file_mode: int = 0o600,
               name: str = "k3s-server") -> NodeSpec:
    with tempfile.TemporaryDirectory() as tmp:
        clock = _Clock(1_732_480_000_000_000, "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", "k3s-server-1")
        journal = write_journal(Path(tmp) / "system.journal", k3s_server_boot(clock, apiserver, kubelet))
    server = "https://127.0.0.1:6443"
    files = [
        File(f"/var/log/journal/{MID}/system.journal", journal, 0o640),
        File("/etc/machine-id", MID + "\n", 0o444),
        File("/etc/rancher/k3s/config.yaml", "protect-kernel-defaults: true\nsecrets-encryption: true\n", 0o600),
        File("/etc/rancher/k3s/k3s.yaml", kubeconfig("default", server), 0o600),
        File(f"{K}/server/db/etcd/config", ETCD_CONFIG, 0o600),
        File(f"{CRED}/admin.kubeconfig", kubeconfig("system:admin", server), file_mode),
        File(f"{CRED}/controller.kubeconfig", kubeconfig("system:kube-controller-manager", server), file_mode),
        File(f"{CRED}/scheduler.kubeconfig", kubeconfig("system:kube-scheduler", server), file_mode),
        File(f"{CRED}/encryption-config.json", '{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.'
             'k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey",'
             '"secret":"c2VjcmV0"}]}},{"identity":{}}]}]}', 0o600),
        File(f"{AGENT}/kubelet.kubeconfig", kubeconfig("system:node:k3s-server-1", server), file_mode),
        File(f"{AGENT}/kubeproxy.kubeconfig", kubeconfig("system:kube-proxy", server), file_mode),
        File(f"{AGENT}/client-ca.crt", pem("CERTIFICATE", "k3s-agent-client-ca"), 0o644),
        File(f"{AGENT}/serving-kubelet.crt", pem("CERTIFICATE", "k3s-serving-kubelet"), 0o644),
        File(f"{AGENT}/serving-kubelet.key", pem("EC PRIVATE KEY", "k3s-serving-kubelet"), 0o600),
        File(f"{K}/server/logs/audit.log", "", 0o600),
    ]
    for n in ("client-ca", "server-ca", "request-header-ca", "serving-kube-apiserver", "client-kube-apiserver",
              "etcd/server-ca", "etcd/peer-ca", "etcd/client", "etcd/server-client", "etcd/peer-server-client"):
        files.append(File(f"{TLS}/{n}.crt", pem("CERTIFICATE", n), 0o644))
        files.append(File(f"{TLS}/{n}.key", pem("EC PRIVATE KEY", n), 0o600))
    files.append(File(f"{TLS}/service.key", pem("RSA PRIVATE KEY", "service"), 0o600))
    files.append(File(f"{TLS}/service.current.key", pem("RSA PRIVATE KEY", "service.current"), 0o600))
    return NodeSpec(
        name=name,
        description="k3s server node (v1.29), embedded etcd",
        files=tuple(files),
        dirs=(Dir(f"{K}/server/db/etcd", 0o700), Dir(f"{K}/server/manifests", 0o755), Dir("/var/lib/cni")),
        processes=(
            Process("k3s-server", ("/usr/local/bin/k3s", "server")),
            Process("containerd", ("containerd", "-c", f"{AGENT}/etc/containerd/config.toml", "-a",
                                   "/run/k3s/containerd/containerd.sock", "--state", "/run/k3s/containerd",
                                   "--root", f"{AGENT}/containerd")),
        ),
        masks=(*DEFAULT_MASKS, "/var/log/journal", "/run/log/journal"),
    )


def k3s_misconfigured() -> NodeSpec:
    """Profiling on and anonymous auth for the API server, read-only port on the kubelet, 644 kubeconfigs."""
    return k3s_server(
        apiserver=APISERVER.replace("--profiling=false", "--profiling=true") + " --anonymous-auth=true",
        kubelet=KUBELET.replace("--read-only-port=0", "--read-only-port=10255"),
        file_mode=0o644,
        name="k3s-server-misconfigured",
    )
