"""Node specs for hermetic tests: kubeadm control-plane nodes (default, hardened, misconfigured, a
kubelet using a non-candidate ``--config``) and the kind v0.11.1 / kindest/node:v1.21.1 node of
kube-bench's integration test (see kind.py).

Static pod flags are the ones kubeadm itself generates for the given Kubernetes version (kubeadm's
``cmd/kubeadm/app/phases/controlplane`` and ``etcd`` defaults), in kubeadm's sorted order.  Certificates
and keys are placeholders: no shipped check parses them.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .node import Binary, Dir, File, Group, NodeSpec, Process, User

Flags = dict[str, str]

NODE_NAME = "cp-1"
NODE_IP = "10.0.0.10"
PKI = "/etc/kubernetes/pki"


def _minor(k8s_version: str) -> int:
    return int(k8s_version.split(".")[1])


def argv_from_flags(binary: str, flags: Mapping[str, str]) -> tuple[str, ...]:
    return (binary, *(f"--{k}={v}" for k, v in flags.items()))


def set_flags(flags: Flags, **changes: str | None) -> Flags:
    """Copy of ``flags`` with changes applied (``_`` in names becomes ``-``; None removes) and
    re-sorted like kubeadm sorts them."""
    out = dict(flags)
    for key, value in changes.items():
        name = key.replace("_", "-")
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------------------
# kubeadm component flags


def apiserver_flags(k8s_version: str, *, ip: str = NODE_IP, service_cidr: str = "10.96.0.0/12") -> Flags:
    flags: Flags = {
        "advertise-address": ip,
        "allow-privileged": "true",
        "authorization-mode": "Node,RBAC",
        "client-ca-file": f"{PKI}/ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "enable-bootstrap-token-auth": "true",
        "etcd-cafile": f"{PKI}/etcd/ca.crt",
        "etcd-certfile": f"{PKI}/apiserver-etcd-client.crt",
        "etcd-keyfile": f"{PKI}/apiserver-etcd-client.key",
        "etcd-servers": "https://127.0.0.1:2379",
        "kubelet-client-certificate": f"{PKI}/apiserver-kubelet-client.crt",
        "kubelet-client-key": f"{PKI}/apiserver-kubelet-client.key",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": f"{PKI}/front-proxy-client.crt",
        "proxy-client-key-file": f"{PKI}/front-proxy-client.key",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": "6443",
        "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
        "service-account-key-file": f"{PKI}/sa.pub",
        "service-account-signing-key-file": f"{PKI}/sa.key",
        "service-cluster-ip-range": service_cidr,
        "tls-cert-file": f"{PKI}/apiserver.crt",
        "tls-private-key-file": f"{PKI}/apiserver.key",
    }
    if _minor(k8s_version) < 24:  # kubeadm stopped passing --insecure-port=0 in v1.24
        flags["insecure-port"] = "0"
    return dict(sorted(flags.items()))


def controller_manager_flags(
    k8s_version: str,
    *,
    cluster_name: str = "kubernetes",
    service_cidr: str = "10.96.0.0/12",
    pod_cidr: str | None = "10.244.0.0/16",
) -> Flags:
    flags: Flags = {
        "authentication-kubeconfig": "/etc/kubernetes/controller-manager.conf",
        "authorization-kubeconfig": "/etc/kubernetes/controller-manager.conf",
        "bind-address": "127.0.0.1",
        "client-ca-file": f"{PKI}/ca.crt",
        "cluster-name": cluster_name,
        "cluster-signing-cert-file": f"{PKI}/ca.crt",
        "cluster-signing-key-file": f"{PKI}/ca.key",
        "controllers": "*,bootstrapsigner,tokencleaner",
        "kubeconfig": "/etc/kubernetes/controller-manager.conf",
        "leader-elect": "true",
        "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
        "root-ca-file": f"{PKI}/ca.crt",
        "service-account-private-key-file": f"{PKI}/sa.key",
        "service-cluster-ip-range": service_cidr,
        "use-service-account-credentials": "true",
    }
    if pod_cidr is not None:
        flags["allocate-node-cidrs"] = "true"
        flags["cluster-cidr"] = pod_cidr
    if _minor(k8s_version) < 22:  # kubeadm passed --port=0 (insecure port off) until v1.22
        flags["port"] = "0"
    return dict(sorted(flags.items()))


def scheduler_flags(k8s_version: str) -> Flags:
    flags: Flags = {
        "authentication-kubeconfig": "/etc/kubernetes/scheduler.conf",
        "authorization-kubeconfig": "/etc/kubernetes/scheduler.conf",
        "bind-address": "127.0.0.1",
        "kubeconfig": "/etc/kubernetes/scheduler.conf",
        "leader-elect": "true",
    }
    if _minor(k8s_version) < 22:
        flags["port"] = "0"
    return dict(sorted(flags.items()))


def etcd_flags(k8s_version: str, *, name: str = NODE_NAME, ip: str = NODE_IP) -> Flags:
    flags: Flags = {
        "advertise-client-urls": f"https://{ip}:2379",
        "cert-file": f"{PKI}/etcd/server.crt",
        "client-cert-auth": "true",
        "data-dir": "/var/lib/etcd",
        "initial-advertise-peer-urls": f"https://{ip}:2380",
        "initial-cluster": f"{name}=https://{ip}:2380",
        "key-file": f"{PKI}/etcd/server.key",
        "listen-client-urls": f"https://127.0.0.1:2379,https://{ip}:2379",
        "listen-metrics-urls": "http://127.0.0.1:2381",
        "listen-peer-urls": f"https://{ip}:2380",
        "name": name,
        "peer-cert-file": f"{PKI}/etcd/peer.crt",
        "peer-client-cert-auth": "true",
        "peer-key-file": f"{PKI}/etcd/peer.key",
        "peer-trusted-ca-file": f"{PKI}/etcd/ca.crt",
        "snapshot-count": "10000",
        "trusted-ca-file": f"{PKI}/etcd/ca.crt",
    }
    if _minor(k8s_version) >= 22:  # kubeadm v1.22+ (etcd 3.5) adds these
        flags["experimental-initial-corrupt-check"] = "true"
        flags["experimental-watch-progress-notify-interval"] = "5s"
    return dict(sorted(flags.items()))


def kubelet_config(k8s_version: str, *, cgroup_driver: str = "systemd", **overrides: Any) -> dict[str, Any]:
    """/var/lib/kubelet/config.yaml as ``kubeadm init`` writes it (defaulted, sorted keys)."""
    cfg: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"cacheTTL": "0s", "enabled": True},
            "x509": {"clientCAFile": f"{PKI}/ca.crt"},
        },
        "authorization": {
            "mode": "Webhook",
            "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"},
        },
        "cgroupDriver": cgroup_driver,
        "clusterDNS": ["10.96.0.10"],
        "clusterDomain": "cluster.local",
        "cpuManagerReconcilePeriod": "0s",
        "evictionPressureTransitionPeriod": "0s",
        "fileCheckFrequency": "0s",
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "httpCheckFrequency": "0s",
        "imageMinimumGCAge": "0s",
        "kind": "KubeletConfiguration",
        "logging": {},
        "nodeStatusReportFrequency": "0s",
        "nodeStatusUpdateFrequency": "0s",
        "rotateCertificates": True,
        "runtimeRequestTimeout": "0s",
        "shutdownGracePeriod": "0s",
        "shutdownGracePeriodCriticalPods": "0s",
        "staticPodPath": "/etc/kubernetes/manifests",
        "streamingConnectionIdleTimeout": "0s",
        "syncFrequency": "0s",
        "volumeStatsAggPeriod": "0s",
    }
    if _minor(k8s_version) >= 27:
        cfg["containerRuntimeEndpoint"] = ""
        cfg["imageMaximumGCAge"] = "0s"
        cfg["memorySwap"] = {}
        cfg["logging"] = {
            "flushFrequency": 0,
            "options": {"json": {"infoBufferSize": "0"}},
            "verbosity": 0,
        }
    if _minor(k8s_version) >= 31:
        cfg["crashLoopBackOff"] = {}
        cfg["logging"]["options"]["text"] = {"infoBufferSize": "0"}
    for key, value in overrides.items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    return dict(sorted(cfg.items()))


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


# ---------------------------------------------------------------------------------------------
# Files


def pem(kind: str, label: str) -> str:
    body = base64.b64encode(f"kubecis hermetic placeholder {kind} {label}".encode() * 3).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n"


PKI_PAIRS = (
    "ca",
    "apiserver",
    "apiserver-kubelet-client",
    "apiserver-etcd-client",
    "front-proxy-ca",
    "front-proxy-client",
    "etcd/ca",
    "etcd/server",
    "etcd/peer",
    "etcd/healthcheck-client",
)


def pki_files() -> list[File]:
    """kubeadm's PKI: certificates 0644, private keys 0600, all root:root."""
    files: list[File] = []
    for name in PKI_PAIRS:
        files.append(File(f"{PKI}/{name}.crt", pem("CERTIFICATE", name), 0o644))
        files.append(File(f"{PKI}/{name}.key", pem("RSA PRIVATE KEY", name), 0o600))
    files.append(File(f"{PKI}/sa.key", pem("RSA PRIVATE KEY", "sa"), 0o600))
    files.append(File(f"{PKI}/sa.pub", pem("PUBLIC KEY", "sa"), 0o644))
    return files


def kubeconfig(user: str, server: str, *, cluster: str = "kubernetes") -> str:
    ca = base64.b64encode(pem("CERTIFICATE", "ca").encode()).decode()
    crt = base64.b64encode(pem("CERTIFICATE", user).encode()).decode()
    key = base64.b64encode(pem("RSA PRIVATE KEY", user).encode()).decode()
    return dump_yaml(
        {
            "apiVersion": "v1",
            "clusters": [{"cluster": {"certificate-authority-data": ca, "server": server}, "name": cluster}],
            "contexts": [{"context": {"cluster": cluster, "user": user}, "name": f"{user}@{cluster}"}],
            "current-context": f"{user}@{cluster}",
            "kind": "Config",
            "preferences": {},
            "users": [{"name": user, "user": {"client-certificate-data": crt, "client-key-data": key}}],
        }
    )


def static_pod(component: str, argv: tuple[str, ...], image: str, mounts: Mapping[str, str]) -> str:
    """A static pod manifest shaped like kubeadm's (command = the process argv)."""
    volumes = [{"hostPath": {"path": path, "type": "DirectoryOrCreate"}, "name": name} for name, path in mounts.items()]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "creationTimestamp": None,
            "labels": {"component": component, "tier": "control-plane"},
            "name": component,
            "namespace": "kube-system",
        },
        "spec": {
            "containers": [
                {
                    "command": list(argv),
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "name": component,
                    "resources": {"requests": {"cpu": "250m"}},
                    "volumeMounts": [
                        {"mountPath": path, "name": name, "readOnly": name != "etcd-data"}
                        for name, path in mounts.items()
                    ],
                }
            ],
            "hostNetwork": True,
            "priority": 2000001000,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": volumes,
        },
        "status": {},
    }
    return dump_yaml(pod)


KUBEADM_DROPIN = """\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the \
KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, \
the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS \
should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS \
$KUBELET_EXTRA_ARGS
"""

KUBELET_UNIT = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""


def version_json(git_version: str) -> str:
    major, minor = git_version.lstrip("v").split(".")[:2]
    info = {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "2021-05-12T14:00:00Z",
        "goVersion": "go1.16.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }
    return json.dumps({"clientVersion": info, "serverVersion": info}, indent=2) + "\n"


# ---------------------------------------------------------------------------------------------
# kubeadm nodes


@dataclass
class KubeadmParts:
    """Mutable description of a kubeadm node, turned into a NodeSpec by :meth:`build`."""

    k8s_version: str
    apiserver: Flags
    controller_manager: Flags
    scheduler: Flags
    etcd: Flags
    kubelet_config: dict[str, Any]
    kubelet_extra_args: tuple[str, ...] = ()
    kubelet_config_path: str = "/var/lib/kubelet/config.yaml"
    etcd_owner: tuple[str, str] = ("root", "root")
    name: str = "kubeadm"
    description: str = ""

    @property
    def patch(self) -> str:
        return f"v{self.k8s_version}.0" if self.k8s_version.count(".") == 1 else f"v{self.k8s_version}"

    def kubelet_argv(self) -> tuple[str, ...]:
        return (
            "/usr/bin/kubelet",
            "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
            "--kubeconfig=/etc/kubernetes/kubelet.conf",
            f"--config={self.kubelet_config_path}",
            "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
            *self.kubelet_extra_args,
        )

    def build(self) -> NodeSpec:
        v = self.patch
        registry = "registry.k8s.io"
        procs = {
            "kube-apiserver": argv_from_flags("kube-apiserver", self.apiserver),
            "kube-controller-manager": argv_from_flags("kube-controller-manager", self.controller_manager),
            "kube-scheduler": argv_from_flags("kube-scheduler", self.scheduler),
            "etcd": argv_from_flags("etcd", self.etcd),
        }
        k8s_mounts = {"ca-certs": "/etc/ssl/certs", "k8s-certs": PKI}
        files = [
            File(
                "/etc/kubernetes/manifests/kube-apiserver.yaml",
                static_pod("kube-apiserver", procs["kube-apiserver"], f"{registry}/kube-apiserver:{v}", k8s_mounts),
                0o600,
            ),
            File(
                "/etc/kubernetes/manifests/kube-controller-manager.yaml",
                static_pod(
                    "kube-controller-manager",
                    procs["kube-controller-manager"],
                    f"{registry}/kube-controller-manager:{v}",
                    {**k8s_mounts, "kubeconfig": "/etc/kubernetes/controller-manager.conf"},
                ),
                0o600,
            ),
            File(
                "/etc/kubernetes/manifests/kube-scheduler.yaml",
                static_pod(
                    "kube-scheduler",
                    procs["kube-scheduler"],
                    f"{registry}/kube-scheduler:{v}",
                    {"kubeconfig": "/etc/kubernetes/scheduler.conf"},
                ),
                0o600,
            ),
            File(
                "/etc/kubernetes/manifests/etcd.yaml",
                static_pod(
                    "etcd",
                    procs["etcd"],
                    f"{registry}/etcd:3.5.21-0",
                    {"etcd-certs": f"{PKI}/etcd", "etcd-data": "/var/lib/etcd"},
                ),
                0o600,
            ),
            File("/etc/kubernetes/admin.conf", kubeconfig("kubernetes-admin", f"https://{NODE_IP}:6443"), 0o600),
            File(
                "/etc/kubernetes/super-admin.conf",
                kubeconfig("kubernetes-super-admin", f"https://{NODE_IP}:6443"),
                0o600,
            ),
            File(
                "/etc/kubernetes/controller-manager.conf",
                kubeconfig("system:kube-controller-manager", f"https://{NODE_IP}:6443"),
                0o600,
            ),
            File(
                "/etc/kubernetes/scheduler.conf", kubeconfig("system:kube-scheduler", f"https://{NODE_IP}:6443"), 0o600
            ),
            File(
                "/etc/kubernetes/kubelet.conf", kubeconfig(f"system:node:{NODE_NAME}", f"https://{NODE_IP}:6443"), 0o600
            ),
            File(self.kubelet_config_path, dump_yaml(self.kubelet_config), 0o644),
            File(
                "/var/lib/kubelet/kubeadm-flags.env",
                'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock"\n',
                0o644,
            ),
            File("/var/lib/kubelet/pki/kubelet.crt", pem("CERTIFICATE", "kubelet"), 0o644),
            File("/var/lib/kubelet/pki/kubelet.key", pem("RSA PRIVATE KEY", "kubelet"), 0o600),
            # pkgs.k8s.io debs: unit in /usr/lib/systemd/system (found by kube-bench as
            # /lib/systemd/system/kubelet.service through the usrmerge symlink), drop-in beside it.
            File("/lib/systemd/system/kubelet.service", KUBELET_UNIT, 0o644),
            File("/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", KUBEADM_DROPIN, 0o644),
            *pki_files(),
        ]
        owner, group = self.etcd_owner
        spec = NodeSpec(
            name=self.name,
            description=self.description,
            files=tuple(files),
            dirs=(Dir("/var/lib/etcd", 0o700, owner, group), Dir("/var/lib/etcd/member", 0o700, owner, group)),
            users=(User("etcd", 991, 991, "/var/lib/etcd", "/usr/sbin/nologin", "etcd user"),),
            groups=(Group("etcd", 991),),
            processes=(
                Process("kube-apiserver", procs["kube-apiserver"]),
                Process("kube-controller-manager", procs["kube-controller-manager"]),
                Process("kube-scheduler", procs["kube-scheduler"]),
                Process("etcd", procs["etcd"]),
                Process("kubelet", self.kubelet_argv(), exe="/usr/bin/kubelet"),
                Process(
                    "kube-proxy",
                    (
                        "/usr/local/bin/kube-proxy",
                        "--config=/var/lib/kube-proxy/config.conf",
                        f"--hostname-override={NODE_NAME}",
                    ),
                ),
            ),
            binaries=(
                Binary("/usr/bin/kubelet", f"Kubernetes {v}\n", daemon=True),
                Binary("/usr/bin/kubectl", f"Client Version: {v}\n", version_json(v)),
                Binary("/usr/bin/kubeadm", f'kubeadm version: &version.Info{{GitVersion:"{v}"}}\n'),
            ),
        )
        return spec


def kubeadm_parts(k8s_version: str = "1.33") -> KubeadmParts:
    return KubeadmParts(
        k8s_version=k8s_version,
        apiserver=apiserver_flags(k8s_version),
        controller_manager=controller_manager_flags(k8s_version),
        scheduler=scheduler_flags(k8s_version),
        etcd=etcd_flags(k8s_version),
        kubelet_config=kubelet_config(k8s_version),
    )


def kubeadm_defaults(k8s_version: str = "1.33") -> NodeSpec:
    """A control-plane node exactly as ``kubeadm init --pod-network-cidr=10.244.0.0/16`` leaves it."""
    parts = kubeadm_parts(k8s_version)
    parts.name = f"kubeadm-{k8s_version}-defaults"
    parts.description = "kubeadm init defaults"
    return parts.build()


# 32-byte AES keys, distinctive so that a test can search a snapshot for them (they must never be in one)
ENCRYPTION_KEYS = tuple(base64.b64encode(f"kubecis-hermetic-aescbc-key-{n:04d}".encode()).decode() for n in (1, 2))
ENCRYPTION_CONFIG = f"""\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: {ENCRYPTION_KEYS[0]}
      - identity: {{}}
"""
# The issue-16 trap: Secrets are written in plaintext (identity first) while the last entry, the only one a
# `grep -A1 providers: | tail -n 1` reads, starts with aescbc.
ENCRYPTION_CONFIG_IDENTITY_FIRST = f"""\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - identity: {{}}
      - aescbc:
          keys:
            - name: key1
              secret: {ENCRYPTION_KEYS[0]}
  - resources:
      - configmaps
    providers:
      - aescbc:
          keys:
            - name: key2
              secret: {ENCRYPTION_KEYS[1]}
      - identity: {{}}
"""

ADMISSION_CONFIG = """\
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: EventRateLimit
    path: /etc/kubernetes/admission/eventratelimit.yaml
"""

EVENT_RATE_LIMIT = """\
apiVersion: eventratelimit.admission.k8s.io/v1alpha1
kind: Configuration
limits:
  - type: Server
    qps: 5000
    burst: 20000
"""

AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
"""

STRONG_CIPHERS = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,"
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
)


def kubeadm_hardened(k8s_version: str = "1.33") -> NodeSpec:
    """kubeadm node with the usual CIS remediations applied (profiling off, audit logging,
    kubelet CA, admission plugins, encryption at rest, strong ciphers, etcd:etcd data dir,
    0600 kubelet files, hardened kubelet config)."""
    p = kubeadm_parts(k8s_version)
    p.name = f"kubeadm-{k8s_version}-hardened"
    p.description = "kubeadm with CIS remediations"
    p.apiserver = set_flags(
        p.apiserver,
        anonymous_auth="false",
        profiling="false",
        audit_log_path="/var/log/kubernetes/audit/audit.log",
        audit_log_maxage="30",
        audit_log_maxbackup="10",
        audit_log_maxsize="100",
        audit_policy_file="/etc/kubernetes/audit-policy.yaml",
        kubelet_certificate_authority=f"{PKI}/ca.crt",
        enable_admission_plugins="NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
        admission_control_config_file="/etc/kubernetes/admission/admission-config.yaml",
        encryption_provider_config="/etc/kubernetes/enc/encryption-config.yaml",
        tls_cipher_suites=STRONG_CIPHERS,
        service_account_extend_token_expiration="false",
        request_timeout="300s",
    )
    p.controller_manager = set_flags(p.controller_manager, profiling="false", terminated_pod_gc_threshold="10")
    p.scheduler = set_flags(p.scheduler, profiling="false")
    p.etcd_owner = ("etcd", "etcd")
    p.kubelet_config = kubelet_config(
        k8s_version,
        readOnlyPort=0,
        protectKernelDefaults=True,
        makeIPTablesUtilChains=True,
        eventRecordQPS=5,
        streamingConnectionIdleTimeout="5m0s",
        tlsCertFile="/var/lib/kubelet/pki/kubelet.crt",
        tlsPrivateKeyFile="/var/lib/kubelet/pki/kubelet.key",
        tlsCipherSuites=STRONG_CIPHERS.split(","),
        podPidsLimit=4096,
        seccompDefault=True,
        featureGates={"RotateKubeletServerCertificate": True},
        serverTLSBootstrap=True,
    )
    spec = p.build()
    return spec.with_files(
        File("/etc/kubernetes/enc/encryption-config.yaml", ENCRYPTION_CONFIG, 0o600),
        File("/etc/kubernetes/admission/admission-config.yaml", ADMISSION_CONFIG, 0o600),
        File("/etc/kubernetes/admission/eventratelimit.yaml", EVENT_RATE_LIMIT, 0o600),
        File("/etc/kubernetes/audit-policy.yaml", AUDIT_POLICY, 0o600),
        dataclass_replace(spec.file(p.kubelet_config_path), mode=0o600),
        dataclass_replace(spec.file("/lib/systemd/system/kubelet.service"), mode=0o600),
        dataclass_replace(spec.file("/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"), mode=0o600),
    )


# The audit policy and admission configuration of the traps node: a catch-all None before the rule for Secrets,
# and EventRateLimit enabled with an admission configuration that configures only PodSecurity.
AUDIT_POLICY_NONE_FIRST = """\
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
  - level: Metadata
"""
ADMISSION_CONFIG_WITHOUT_EVENT_RATE_LIMIT = """\
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: PodSecurity
    configuration:
      apiVersion: pod-security.admission.config.k8s.io/v1
      kind: PodSecurityConfiguration
      defaults:
        enforce: baseline
"""


def kubeadm_config_traps(k8s_version: str = "1.33") -> NodeSpec:
    """The hardened node whose configuration files look right to a grep and are not: Secrets encrypted with identity
    first (configmaps' later entry starts with aescbc), an audit policy whose first rule is a catch-all None, and an
    admission configuration without EventRateLimit while the plugin is enabled. The API server names each file."""
    spec = kubeadm_hardened(k8s_version)
    spec = spec.replace(name=f"kubeadm-{k8s_version}-config-traps",
                        description="hardened flags, configuration files that only look right")
    return spec.with_files(
        File("/etc/kubernetes/enc/encryption-config.yaml", ENCRYPTION_CONFIG_IDENTITY_FIRST, 0o600),
        File("/etc/kubernetes/admission/admission-config.yaml", ADMISSION_CONFIG_WITHOUT_EVENT_RATE_LIMIT, 0o600),
        File("/etc/kubernetes/audit-policy.yaml", AUDIT_POLICY_NONE_FIRST, 0o600),
    )


def dataclass_replace(f: File, **changes: Any) -> File:
    return dataclasses.replace(f, **changes)


@dataclass(frozen=True)
class Weakness:
    description: str
    fails: tuple[str, ...]
    """cis-1.12 check ids that must not pass because of it."""
    state: str = "FAIL"
    """Expected kube-bench state of those checks: FAIL (scored) or WARN (unscored)."""


WEAKNESSES: tuple[Weakness, ...] = (
    Weakness("kube-apiserver --anonymous-auth=true", ("1.2.1",), "WARN"),
    Weakness("kube-apiserver --token-auth-file set", ("1.2.2",)),
    Weakness("kube-apiserver --authorization-mode=AlwaysAllow", ("1.2.6", "1.2.7", "1.2.8")),
    Weakness("kube-apiserver admission plugin AlwaysAdmit enabled", ("1.2.10",)),
    Weakness("kube-apiserver --disable-admission-plugins=ServiceAccount", ("1.2.12",)),
    Weakness("kube-apiserver --profiling=true", ("1.2.15",)),
    Weakness("kube-apiserver --service-account-lookup=false", ("1.2.21",)),
    Weakness("kube-apiserver manifest mode 0666", ("1.1.1",)),
    Weakness("kube-scheduler manifest owned by kube:kube", ("1.1.6",)),
    Weakness("admin.conf mode 0644", ("1.1.13",)),
    Weakness("apiserver.key mode 0644", ("1.1.21",), "WARN"),
    Weakness("etcd data dir mode 0755", ("1.1.11",)),
    Weakness("kube-controller-manager --use-service-account-credentials=false", ("1.3.3",)),
    Weakness("kube-controller-manager --bind-address=0.0.0.0", ("1.3.7",)),
    Weakness("kube-scheduler --bind-address=0.0.0.0", ("1.4.2",)),
    Weakness("etcd --client-cert-auth=false", ("2.2",)),
    Weakness("etcd --auto-tls=true", ("2.3",)),
    Weakness("etcd --peer-auto-tls=true", ("2.6",)),
    Weakness("kubelet.conf mode 0666", ("4.1.5",)),
    Weakness("kubelet config: authentication.anonymous.enabled true", ("4.2.1",)),
    Weakness("kubelet config: authorization.mode AlwaysAllow", ("4.2.2",)),
    Weakness("kubelet config: readOnlyPort 10255", ("4.2.4",), "WARN"),
    Weakness("kubelet config: streamingConnectionIdleTimeout 0", ("4.2.5",), "WARN"),
    Weakness("kubelet config: makeIPTablesUtilChains false", ("4.2.6",)),
    Weakness("kubelet --hostname-override on the command line", ("4.2.7",), "WARN"),
    Weakness("kubelet config: rotateCertificates false", ("4.2.10",)),
)


def kubeadm_misconfigured(k8s_version: str = "1.33") -> NodeSpec:
    """kubeadm node with the deliberate weaknesses listed in :data:`WEAKNESSES`."""
    p = kubeadm_parts(k8s_version)
    p.name = f"kubeadm-{k8s_version}-misconfigured"
    p.description = "kubeadm with deliberate weaknesses (see WEAKNESSES)"
    p.apiserver = set_flags(
        p.apiserver,
        anonymous_auth="true",
        token_auth_file="/etc/kubernetes/tokens.csv",
        authorization_mode="AlwaysAllow",
        enable_admission_plugins="NodeRestriction,AlwaysAdmit",
        disable_admission_plugins="ServiceAccount",
        profiling="true",
        service_account_lookup="false",
    )
    p.controller_manager = set_flags(
        p.controller_manager, use_service_account_credentials="false", bind_address="0.0.0.0"
    )
    p.scheduler = set_flags(p.scheduler, bind_address="0.0.0.0")
    p.etcd = set_flags(p.etcd, client_cert_auth="false", auto_tls="true", peer_auto_tls="true")
    p.kubelet_config = kubelet_config(
        k8s_version,
        authentication={
            "anonymous": {"enabled": True},
            "webhook": {"cacheTTL": "0s", "enabled": True},
            "x509": {"clientCAFile": f"{PKI}/ca.crt"},
        },
        authorization={"mode": "AlwaysAllow"},
        readOnlyPort=10255,
        streamingConnectionIdleTimeout=0,
        makeIPTablesUtilChains=False,
        rotateCertificates=False,
    )
    p.kubelet_extra_args = (f"--hostname-override={NODE_NAME}",)
    spec = p.build()
    spec = spec.chmod("/etc/kubernetes/manifests/kube-apiserver.yaml", 0o666)
    spec = spec.chmod("/etc/kubernetes/admin.conf", 0o644)
    spec = spec.chmod(f"{PKI}/apiserver.key", 0o644)
    spec = spec.chmod("/etc/kubernetes/kubelet.conf", 0o666)
    spec = spec.chown("/etc/kubernetes/manifests/kube-scheduler.yaml", "kube", "kube")
    spec = spec.with_dirs(Dir("/var/lib/etcd", 0o755))
    return (
        spec.with_users(User("kube", 1000, 1000, "/home/kube", "/bin/bash"))
        .with_groups(Group("kube", 1000))
        .with_files(File("/etc/kubernetes/tokens.csv", "token1,admin,1\n", 0o600))
    )


def kubeadm_custom_kubelet_config(k8s_version: str = "1.33") -> NodeSpec:
    """kube-bench issue #1256: the kubelet runs with ``--config=/etc/kubelet/custom.yaml`` (not a
    kube-bench candidate path) holding hardened values, while the stale
    /var/lib/kubelet/config.yaml holds weaker ones.  kube-bench reads the stale file, so its kubelet
    4.2.x verdicts are false positives; a tool honouring the running ``--config`` must not be fooled."""
    p = kubeadm_parts(k8s_version)
    p.name = f"kubeadm-{k8s_version}-custom-kubelet-config"
    p.description = "kubelet --config points to a non-candidate path (kube-bench #1256)"
    p.kubelet_config_path = "/etc/kubelet/custom.yaml"
    p.kubelet_config = kubelet_config(
        k8s_version,
        readOnlyPort=0,
        makeIPTablesUtilChains=True,
        streamingConnectionIdleTimeout="5m0s",
        tlsCertFile="/var/lib/kubelet/pki/kubelet.crt",
        tlsPrivateKeyFile="/var/lib/kubelet/pki/kubelet.key",
    )
    spec = p.build()
    stale = kubelet_config(
        k8s_version,
        authentication={"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
        authorization={"mode": "AlwaysAllow"},
        readOnlyPort=10255,
        rotateCertificates=False,
    )
    return spec.with_files(File("/var/lib/kubelet/config.yaml", dump_yaml(stale), 0o644))
