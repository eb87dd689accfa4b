"""A throw-away kubeadm-like node inside a private mount+PID namespace.

Run as root via ``unshare -m -p -f --mount-proc python hermetic_node.py IN.json OUT.json``.
It overlays /etc, /usr/local/bin and /var/lib (writes stay in the namespace),
writes kubeadm-style files with chosen modes/owners, starts a tiny C ``pause``
program under the real component names with kubeadm flags, then runs every
script from IN.json with the real ``/bin/sh`` (script on stdin, like kube-bench)
and with ``NativeExecutor(LiveHost())``, and writes both results to OUT.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}

PAUSE_C = r"""
#include <unistd.h>
int main(void) { for (;;) pause(); return 0; }
"""

PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n"
PEM_CRT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAV2gAwIBAgIUJ\n-----END CERTIFICATE-----\n"

APISERVER = [
    "--advertise-address=10.0.0.10", "--allow-privileged=true", "--authorization-mode=Node,RBAC",
    "--client-ca-file=/etc/kubernetes/pki/ca.crt", "--enable-admission-plugins=NodeRestriction",
    "--enable-bootstrap-token-auth=true", "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
    "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
    "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key", "--etcd-servers=https://127.0.0.1:2379",
    "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
    "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key", "--profiling=false",
    "--encryption-provider-config=/etc/kubernetes/enc/enc.yaml",
    "--secure-port=6443", "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
    "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key", "--service-cluster-ip-range=10.96.0.0/12",
    "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt", "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    "--audit-log-path=/var/log/apiserver/audit.log", "--audit-log-maxage=30",
]
CONTROLLER = [
    "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
    "--kubeconfig=/etc/kubernetes/controller-manager.conf", "--leader-elect=true",
    "--root-ca-file=/etc/kubernetes/pki/ca.crt", "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
    "--use-service-account-credentials=true", "--profiling=false",
    "--feature-gates=RotateKubeletServerCertificate=true", "--terminated-pod-gc-threshold=10",
]
SCHEDULER = ["--bind-address=127.0.0.1", "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"]
ETCD = [
    "--advertise-client-urls=https://10.0.0.10:2379", "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
    "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--key-file=/etc/kubernetes/pki/etcd/server.key",
    "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt", "--peer-client-cert-auth=true",
    "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key", "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
]
KUBELET = [
    "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf", "--kubeconfig=/etc/kubernetes/kubelet.conf",
    "--config=/var/lib/kubelet/config.yaml", "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
    "--client-ca-file=/etc/kubernetes/pki/ca.crt",
]
PROXY = ["--config=/var/lib/kube-proxy/config.conf", "--hostname-override=node1"]

KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTg==
    server: https://10.0.0.10:6443
  name: kubernetes
users:
- name: admin
  user:
    client-certificate-data: LS0tLS1CRUdJTg==
    client-key-data: c2VjcmV0LWtleQ==
"""
KUBELET_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
kind: KubeletConfiguration
readOnlyPort: 0
rotateCertificates: true
"""
DROPIN = """[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \\
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS
"""
ENC = """apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
    - secrets
    providers:
    - aescbc:
        keys:
        - name: key1
          secret: c2VjcmV0IGlzIHNlY3VyZQ==
    - identity: {}
"""


def manifest(name: str, flags: list[str]) -> str:
    lines = "\n".join(f"    - {f}" for f in flags)
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\nspec:\n"
            f"  containers:\n  - command:\n    - {name}\n{lines}\n    image: registry.k8s.io/{name}:v1.30.0\n")


def write(path: str, text: str, mode: int, uid: int = 0, gid: int = 0) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.chown(path, uid, gid)


def overlay(target: str, work: str) -> None:
    up = os.path.join(work, target.strip("/").replace("/", "_"))
    os.makedirs(up + "/u")
    os.makedirs(up + "/w")
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={target},upperdir={up}/u,workdir={up}/w", target], check=True)


def setup(work: str) -> list[subprocess.Popen[bytes]]:
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", work], check=True)
    for d in ("/etc", "/usr/local/bin", "/var/lib"):
        overlay(d, work)
    with open("/etc/passwd", "a") as f:
        f.write("etcd:x:998:998:etcd user:/var/lib/etcd:/usr/sbin/nologin\n"
                "averyverylongusername:x:1500:1500::/nonexistent:/usr/sbin/nologin\n")
    with open("/etc/group", "a") as f:
        f.write("etcd:x:998:\n")
    # kubeadm-like files
    k = "/etc/kubernetes"
    for name, flags in (("kube-apiserver", APISERVER), ("kube-controller-manager", CONTROLLER),
                        ("kube-scheduler", SCHEDULER), ("etcd", ETCD)):
        write(f"{k}/manifests/{name}.yaml", manifest(name, flags), 0o600)
    for conf in ("admin.conf", "super-admin.conf", "scheduler.conf", "controller-manager.conf", "kubelet.conf"):
        write(f"{k}/{conf}", KUBECONFIG, 0o600)
    os.chmod(f"{k}/super-admin.conf", 0o644)
    for base in ("ca", "apiserver", "apiserver-kubelet-client", "front-proxy-ca", "apiserver-etcd-client",
                 "etcd/ca", "etcd/server", "etcd/peer"):
        write(f"{k}/pki/{base}.crt", PEM_CRT, 0o644)
        write(f"{k}/pki/{base}.key", PEM_KEY, 0o600)
    write(f"{k}/pki/sa.key", PEM_KEY, 0o600)
    write(f"{k}/pki/sa.pub", "-----BEGIN PUBLIC KEY-----\nMFw=\n-----END PUBLIC KEY-----\n", 0o644)
    os.chmod(f"{k}/pki/front-proxy-ca.crt", 0o664)  # one non-compliant cert
    os.chown(f"{k}/pki/etcd/peer.key", 1234, 1234)  # owner without a name
    write(f"{k}/enc/enc.yaml", ENC, 0o600)
    write("/var/lib/kubelet/config.yaml", KUBELET_CONFIG, 0o644)
    write("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", DROPIN, 0o644)
    write("/var/lib/kube-proxy/config.conf", "kind: KubeProxyConfiguration\n", 0o644)
    os.makedirs("/var/lib/etcd/member/snap", exist_ok=True)
    os.chmod("/var/lib/etcd", 0o700)
    os.chown("/var/lib/etcd", 998, 998)
    write("/var/lib/cni/networks/k8s-pod-network/10.244.0.2", "abc\n", 0o644)
    write("/var/lib/cni/networks/k8s-pod-network/lock", "", 0o600)
    write("/etc/cni/net.d/10-calico.conflist", "{}\n", 0o644, 1500, 0)
    os.symlink("/etc/kubernetes/pki/ca.crt", f"{k}/pki/ca-link.crt")
    # the stand-in binary
    src = os.path.join(work, "pause.c")
    with open(src, "w") as f:
        f.write(PAUSE_C)
    subprocess.run(["gcc", "-O2", "-o", "/usr/local/bin/pause-standin", src], check=True)
    procs: list[subprocess.Popen[bytes]] = []
    etcd_env = dict(ENV, ETCD_NAME="node1", ETCD_CLIENT_CERT_AUTH="true", ETCD_AUTO_TLS="false")
    for name, flags, env in (
        ("kube-apiserver", APISERVER, ENV), ("kube-controller-manager", CONTROLLER, ENV),
        ("kube-scheduler", SCHEDULER, ENV), ("etcd", ETCD, etcd_env), ("kubelet", KUBELET, ENV),
        ("kube-proxy", PROXY, ENV),
    ):
        path = f"/usr/local/bin/{name}"
        subprocess.run(["cp", "/usr/local/bin/pause-standin", path], check=True)
        procs.append(subprocess.Popen([path, *flags], env=env, stdin=subprocess.DEVNULL))
    time.sleep(0.2)
    return procs


def run_shell(script: str) -> dict[str, object]:
    p = subprocess.run(["/bin/sh"], input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=ENV, cwd="/")
    return {"output": p.stdout.decode("utf-8", "replace"), "returncode": p.returncode}


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        scripts: list[str] = json.load(f)
    work = tempfile.mkdtemp(prefix="kubecis-node-")
    procs = setup(work)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src"))
    from kubecis.audit.native import NativeExecutor
    from kubecis.host.live import LiveHost

    native = NativeExecutor(LiveHost(), env=ENV, cwd="/")
    results = []
    for s in scripts:
        n = native.run(s)
        sh = run_shell(s)
        results.append({"script": s, "shell": sh,
                        "native": {"output": n.output, "returncode": n.returncode, "not_run": n.not_run}})
    for p in procs:
        p.kill()
    with open(dst, "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
