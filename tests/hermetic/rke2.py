"""An RKE2 server node (v1.27-style layout), for the rke2 benchmark sets.

RKE2 runs the control plane as static pods from /var/lib/rancher/rke2/agent/pod-manifests, keeps
credentials under server/cred and server/tls, etcd's config at server/db/etcd/config, and starts the
kubelet itself with flags (kubeconfig and client CA under agent/). Flags follow RKE2's CIS-hardened
defaults (`profile: cis`); :func:`rke2_misconfigured` undoes a few of them.
"""

from __future__ import annotations

from .node import Dir, File, Group, NodeSpec, Process, User
from .nodes import argv_from_flags, dump_yaml, kubeconfig, pem, set_flags, static_pod

R = "/var/lib/rancher/rke2"
TLS = f"{R}/server/tls"
CRED = f"{R}/server/cred"
AGENT = f"{R}/agent"
MANIFESTS = f"{AGENT}/pod-manifests"
IMAGE = "index.docker.io/rancher/hardened-kubernetes:v1.27.10-rke2r1-build20240117"

Flags = dict[str, str]


def apiserver() -> Flags:
    return dict(sorted({
        "admission-control-config-file": f"{R}/server/psa.yaml",
        "advertise-address": "10.0.0.10",
        "allow-privileged": "true",
        "anonymous-auth": "false",
        "api-audiences": "https://kubernetes.default.svc.cluster.local,rke2",
        "audit-log-maxage": "30",
        "audit-log-maxbackup": "10",
        "audit-log-maxsize": "100",
        "audit-log-path": f"{R}/server/logs/audit.log",
        "audit-policy-file": "/etc/rancher/rke2/audit-policy.yaml",
        "authorization-mode": "Node,RBAC",
        "bind-address": "0.0.0.0",
        "client-ca-file": f"{TLS}/client-ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "encryption-provider-config": f"{CRED}/encryption-config.json",
        "etcd-cafile": f"{TLS}/etcd/server-ca.crt",
        "etcd-certfile": f"{TLS}/etcd/client.crt",
        "etcd-keyfile": f"{TLS}/etcd/client.key",
        "etcd-servers": "https://127.0.0.1:2379",
        "kubelet-certificate-authority": f"{TLS}/server-ca.crt",
        "kubelet-client-certificate": f"{TLS}/client-kube-apiserver.crt",
        "kubelet-client-key": f"{TLS}/client-kube-apiserver.key",
        "profiling": "false",
        "request-timeout": "60s",
        "secure-port": "6443",
        "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
        "service-account-key-file": f"{TLS}/service.key",
        "service-account-lookup": "true",
        "service-account-signing-key-file": f"{TLS}/service.current.key",
        "service-cluster-ip-range": "10.43.0.0/16",
        "tls-cert-file": f"{TLS}/serving-kube-apiserver.crt",
        "tls-cipher-suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"
                             "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "tls-private-key-file": f"{TLS}/serving-kube-apiserver.key",
    }.items()))


def controller_manager() -> Flags:
    return dict(sorted({
        "allocate-node-cidrs": "true",
        "bind-address": "127.0.0.1",
        "cluster-cidr": "10.42.0.0/16",
        "cluster-signing-kube-apiserver-client-cert-file": f"{TLS}/client-ca.nochain.crt",
        "feature-gates": "JobTrackingWithFinalizers=true",
        "kubeconfig": f"{CRED}/controller.kubeconfig",
        "profiling": "false",
        "root-ca-file": f"{TLS}/server-ca.crt",
        "secure-port": "10257",
        "service-account-private-key-file": f"{TLS}/service.current.key",
        "terminated-pod-gc-threshold": "1000",
        "use-service-account-credentials": "true",
    }.items()))


def scheduler() -> Flags:
    return {
        "authentication-kubeconfig": f"{CRED}/scheduler.kubeconfig",
        "authorization-kubeconfig": f"{CRED}/scheduler.kubeconfig",
        "bind-address": "127.0.0.1",
        "kubeconfig": f"{CRED}/scheduler.kubeconfig",
        "profiling": "false",
        "secure-port": "10259",
    }


def kubelet() -> Flags:
    return {
        "address": "0.0.0.0",
        "anonymous-auth": "false",
        "authentication-token-webhook": "true",
        "authorization-mode": "Webhook",
        "cgroup-driver": "systemd",
        "client-ca-file": f"{AGENT}/client-ca.crt",
        "cloud-provider": "external",
        "cluster-dns": "10.43.0.10",
        "cluster-domain": "cluster.local",
        "container-runtime-endpoint": "unix:///run/k3s/containerd/containerd.sock",
        "event-qps": "0",
        "eviction-hard": "imagefs.available<5%,nodefs.available<5%",
        "hostname-override": "rke2-server-1",
        "kubeconfig": f"{AGENT}/kubelet.kubeconfig",
        "make-iptables-util-chains": "true",
        "node-ip": "10.0.0.10",
        "pod-manifest-path": MANIFESTS,
        "protect-kernel-defaults": "true",
        "read-only-port": "0",
        "resolv-conf": "/etc/resolv.conf",
        "rotate-certificates": "true",
        "serialize-image-pulls": "false",
        "streaming-connection-idle-timeout": "5m",
        "tls-cert-file": f"{AGENT}/serving-kubelet.crt",
        "tls-private-key-file": f"{AGENT}/serving-kubelet.key",
    }


ETCD_CONFIG = f"""\
advertise-client-urls: https://10.0.0.10:2379
client-transport-security:
  cert-file: {TLS}/etcd/server-client.crt
  client-cert-auth: true
  key-file: {TLS}/etcd/server-client.key
  trusted-ca-file: {TLS}/etcd/server-ca.crt
data-dir: {R}/server/db/etcd
election-timeout: 5000
heartbeat-interval: 500
listen-client-urls: https://127.0.0.1:2379,https://10.0.0.10:2379
name: rke2-server-1-2b1c3d4e
peer-transport-security:
  cert-file: {TLS}/etcd/peer-server-client.crt
  client-cert-auth: true
  key-file: {TLS}/etcd/peer-server-client.key
  trusted-ca-file: {TLS}/etcd/peer-ca.crt
snapshot-count: 10000
"""


def _tls_files() -> list[File]:
    files: list[File] = []
    for name in ("client-ca", "server-ca", "request-header-ca", "serving-kube-apiserver", "client-kube-apiserver",
                 "client-admin", "client-controller", "client-scheduler", "client-kube-proxy",
                 "client-ca.nochain", "etcd/server-ca", "etcd/peer-ca", "etcd/client", "etcd/server-client",
                 "etcd/peer-server-client"):
        files.append(File(f"{TLS}/{name}.crt", pem("CERTIFICATE", name), 0o644))
        files.append(File(f"{TLS}/{name}.key", pem("EC PRIVATE KEY", name), 0o600))
    files.append(File(f"{TLS}/service.key", pem("RSA PRIVATE KEY", "service"), 0o600))
    files.append(File(f"{TLS}/service.current.key", pem("RSA PRIVATE KEY", "service.current"), 0o600))
    return files


def rke2_server(*, api: Flags | None = None, cm: Flags | None = None, sched: Flags | None = None,
                kubelet_flags: Flags | None = None, manifest_mode: int = 0o600, etcd_owner: str = "etcd",
                name: str = "rke2-server") -> NodeSpec:
    api = api or apiserver()
    cm = cm or controller_manager()
    sched = sched or scheduler()
    kflags = kubelet_flags or kubelet()
    api_argv = argv_from_flags("kube-apiserver", api)
    cm_argv = argv_from_flags("kube-controller-manager", cm)
    sched_argv = argv_from_flags("kube-scheduler", sched)
    etcd_argv = ("etcd", f"--config-file={R}/server/db/etcd/config")
    server = "https://127.0.0.1:6443"
    files = [
        File(f"{MANIFESTS}/kube-apiserver.yaml", static_pod("kube-apiserver", api_argv, IMAGE, {}), manifest_mode),
        File(f"{MANIFESTS}/kube-controller-manager.yaml",
             static_pod("kube-controller-manager", cm_argv, IMAGE, {}), manifest_mode),
        File(f"{MANIFESTS}/kube-scheduler.yaml", static_pod("kube-scheduler", sched_argv, IMAGE, {}), manifest_mode),
        File(f"{MANIFESTS}/etcd.yaml", static_pod("etcd", etcd_argv, "rancher/hardened-etcd:v3.5.9", {}), 0o600),
        File(f"{R}/server/db/etcd/config", ETCD_CONFIG, 0o600),
        File(f"{CRED}/admin.kubeconfig", kubeconfig("system:admin", server), 0o600),
        File(f"{CRED}/controller.kubeconfig", kubeconfig("system:kube-controller-manager", server), 0o600),
        File(f"{CRED}/scheduler.kubeconfig", kubeconfig("system:kube-scheduler", server), 0o600),
        File(f"{CRED}/encryption-config.json", '{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.'
             'k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey",'
             '"secret":"c2VjcmV0"}]}},{"identity":{}}]}]}', 0o600),
        File(f"{AGENT}/kubelet.kubeconfig", kubeconfig("system:node:rke2-server-1", server), 0o600),
        File(f"{AGENT}/kubeproxy.kubeconfig", kubeconfig("system:kube-proxy", server), 0o600),
        File(f"{AGENT}/client-ca.crt", pem("CERTIFICATE", "agent-client-ca"), 0o644),
        File(f"{AGENT}/server.crt", pem("CERTIFICATE", "agent-server"), 0o644),
        File(f"{AGENT}/serving-kubelet.crt", pem("CERTIFICATE", "serving-kubelet"), 0o644),
        File(f"{AGENT}/serving-kubelet.key", pem("EC PRIVATE KEY", "serving-kubelet"), 0o600),
        File(f"{R}/server/psa.yaml", dump_yaml({"apiVersion": "apiserver.config.k8s.io/v1",
                                                 "kind": "AdmissionConfiguration", "plugins": []}), 0o600),
        File("/etc/rancher/rke2/audit-policy.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
             "- level: Metadata\n", 0o600),
        File("/etc/rancher/rke2/config.yaml", "profile: cis\n", 0o600),
        File("/usr/local/lib/systemd/system/rke2-server.service", "[Service]\nExecStart=/usr/local/bin/rke2 server\n",
             0o644),
        *_tls_files(),
    ]
    dirs = [
        Dir(f"{R}/server/db/etcd", 0o700, etcd_owner, etcd_owner),
        Dir(f"{R}/server/logs", 0o750),
        Dir(f"{AGENT}/etc/kubelet.conf.d", 0o755),
        Dir("/var/lib/cni", 0o755),
        Dir("/etc/cni/net.d", 0o755),
    ]
    processes = (
        Process("rke2", ("/usr/local/bin/rke2", "server")),
        Process("etcd", etcd_argv),
        Process("kube-apiserver", api_argv),
        Process("kube-controller-manager", cm_argv),
        Process("kube-scheduler", sched_argv),
        Process("kubelet", argv_from_flags("kubelet", kflags)),
        Process("kube-proxy", ("kube-proxy", "--cluster-cidr=10.42.0.0/16", "--conntrack-max-per-core=0",
                               "--hostname-override=rke2-server-1", f"--kubeconfig={AGENT}/kubeproxy.kubeconfig",
                               "--proxy-mode=iptables")),
    )
    return NodeSpec(
        name=name,
        description="RKE2 server node, CIS profile",
        files=tuple(files),
        dirs=tuple(dirs),
        users=(User("etcd", 52034, 52034),),
        groups=(Group("etcd", 52034),),
        processes=processes,
    )


def rke2_misconfigured() -> NodeSpec:
    """An RKE2 server with the CIS profile partly undone."""
    return rke2_server(
        api=set_flags(apiserver(), profiling="true", anonymous_auth=None, audit_log_path=None,
                      kubelet_certificate_authority=None),
        cm=set_flags(controller_manager(), profiling=None, terminated_pod_gc_threshold=None),
        sched=set_flags(scheduler(), profiling="true"),
        kubelet_flags=set_flags(kubelet(), read_only_port="10255", protect_kernel_defaults=None,
                                anonymous_auth="true"),
        manifest_mode=0o644,
        etcd_owner="root",
        name="rke2-server-misconfigured",
    )
