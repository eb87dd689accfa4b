"""The node of kube-bench's integration test: kind v0.11.1, image kindest/node:v1.21.1, cluster
"kube-bench", control-plane node as seen by the kube-bench Job (hack/kind.yaml, hostPID).

What each piece is derived from (cis-1.20 checks + verdicts in Expected_output.data):
- static pods: kubeadm v1.21 flags plus kind's ClusterConfiguration extraArgs
  (apiserver ``--runtime-config=``, controller-manager ``--enable-hostpath-provisioner=true``);
  no ``--kubelet-certificate-authority`` (1.2.5 FAIL), no ``--profiling=false`` (1.2.20/1.3.2/1.4.1
  FAIL), no audit flags (1.2.21-24 FAIL), ``--insecure-port=0`` (1.2.18 PASS), admission plugins
  NodeRestriction only (1.2.15 FAIL, 1.2.16 PASS).
- /var/lib/etcd root:root 0700 (1.1.11 PASS, 1.1.12 FAIL).
- kubeadm file modes: manifests and kubeconfigs 0600, certs 0644, keys 0600, kubelet config 0644.
- kubelet: run by systemd from /etc/systemd/system/kubelet.service + drop-in 10-kubeadm.conf
  (kube-bench's first ``svc`` candidate), flags from /var/lib/kubelet/kubeadm-flags.env;
  /var/lib/kubelet/config.yaml = kubeadm v1.21 defaults + kind's KubeletConfiguration: no
  protectKernelDefaults (4.2.6 FAIL), no readOnlyPort (4.2.4 PASS), streamingConnectionIdleTimeout
  0s (4.2.5 PASS: "0s" != "0"), no eventRecordQPS/tlsCertFile/tlsCipherSuites (4.2.9/10/13 WARN).
- no kube-proxy kubeconfig on the host (4.1.3/4.1.4 WARN); kube-proxy runs (DaemonSet, hostPID).
- version detection: ``/usr/bin/kubelet --version`` -> "Kubernetes v1.21.1" -> cis-1.20; the host's
  kubectl (if any) is hidden so it cannot answer first.
- users: the Job did not mount /etc/passwd, so ``stat -c %U:%G`` resolved names with the container's
  own files; root is the only owner that appears, which the host resolves identically.

Fidelity (checked with kb_reference.py: all 123 verdicts of Expected_output.data match):
- kube-bench ran audits with the Alpine image's busybox /bin/sh; here /bin/sh is dash.  No cis-1.20
  audit uses a construct on which they differ ([[ ]], echo -e, arithmetic, functions), and both
  images use GNU procps/findutils/coreutils, so no verdict or printed line depends on it.
- Audit outputs that embed ``ps -ef`` (PIDs, STIME, TIME) differ from the real cluster's, but the
  text output never prints audit output; a JSON golden would differ in actual_value there.
- 1.1.7/1.1.8 audits leave ``*etcd*`` unquoted (nested single quotes), so the outer shell globs it
  against the working directory: run from a directory without *etcd* names (the Job ran in
  /opt/kube-bench; run_in_node defaults to /).
- kube-bench learnt v1.21.1 from the in-cluster API (service-account token); here the in-cluster
  path is masked and the version comes from ``kubelet --version`` (same benchmark, cis-1.20).
- Certificates, keys and kubeconfig credentials are placeholders; no cis-1.20 check parses them.
"""

from __future__ import annotations

from .node import Binary, Dir, File, NodeSpec, Process
from .nodes import (
    PKI,
    apiserver_flags,
    argv_from_flags,
    controller_manager_flags,
    dump_yaml,
    etcd_flags,
    kubeconfig,
    kubelet_config,
    pki_files,
    scheduler_flags,
    set_flags,
    static_pod,
)

KIND_VERSION = "1.21"
KIND_GIT_VERSION = "v1.21.1"
CLUSTER = "kube-bench"
NODE = f"{CLUSTER}-control-plane"
IP = "172.18.0.2"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"

KIND_KUBELET_UNIT = """\
# kubelet unit as shipped in kindest/node images (started only once kubeadm wrote its config)
[Unit]
Description=kubelet: The Kubernetes Node Agent
ConditionPathExists=/var/lib/kubelet/config.yaml

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=1s

[Install]
WantedBy=multi-user.target
"""

KIND_KUBEADM_DROPIN = """\
# kubeadm drop-in for the kubelet (kindest/node)
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_EXTRA_ARGS \
$KUBELET_KUBEADM_ARGS
"""

KUBEADM_ARGS = (
    "--container-runtime=remote",
    "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
    "--fail-swap-on=false",
    f"--node-ip={IP}",
    "--node-labels=",
    "--pod-infra-container-image=k8s.gcr.io/pause:3.5",
    f"--provider-id=kind://docker/{CLUSTER}/{NODE}",
)


def kind_v1_21_1() -> NodeSpec:
    v = KIND_VERSION
    api = set_flags(apiserver_flags(v, ip=IP, service_cidr=SERVICE_CIDR), runtime_config="")
    cm = set_flags(
        controller_manager_flags(v, cluster_name=CLUSTER, service_cidr=SERVICE_CIDR, pod_cidr=POD_CIDR),
        enable_hostpath_provisioner="true",
    )
    sched = scheduler_flags(v)
    etcd = etcd_flags(v, name=NODE, ip=IP)
    argv = {
        "kube-apiserver": argv_from_flags("kube-apiserver", api),
        "kube-controller-manager": argv_from_flags("kube-controller-manager", cm),
        "kube-scheduler": argv_from_flags("kube-scheduler", sched),
        "etcd": argv_from_flags("etcd", etcd),
    }
    kubelet_argv = (
        "/usr/bin/kubelet",
        "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
        "--kubeconfig=/etc/kubernetes/kubelet.conf",
        "--config=/var/lib/kubelet/config.yaml",
        *KUBEADM_ARGS,
    )
    kcfg = kubelet_config(
        v,
        cgroupDriver="cgroupfs",
        cgroupRoot="/kubelet",
        failSwapOn=False,
        imageGCHighThresholdPercent=100,
        evictionHard={"imagefs.available": "0%", "nodefs.available": "0%", "nodefs.inodesFree": "0%"},
    )
    k8s_mounts = {"ca-certs": "/etc/ssl/certs", "k8s-certs": PKI}
    server = f"https://{NODE}:6443"
    reg = "k8s.gcr.io"
    files = [
        File(
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            static_pod(
                "kube-apiserver", argv["kube-apiserver"], f"{reg}/kube-apiserver:{KIND_GIT_VERSION}", k8s_mounts
            ),
            0o600,
        ),
        File(
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            static_pod(
                "kube-controller-manager",
                argv["kube-controller-manager"],
                f"{reg}/kube-controller-manager:{KIND_GIT_VERSION}",
                {**k8s_mounts, "kubeconfig": "/etc/kubernetes/controller-manager.conf"},
            ),
            0o600,
        ),
        File(
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
            static_pod(
                "kube-scheduler",
                argv["kube-scheduler"],
                f"{reg}/kube-scheduler:{KIND_GIT_VERSION}",
                {"kubeconfig": "/etc/kubernetes/scheduler.conf"},
            ),
            0o600,
        ),
        File(
            "/etc/kubernetes/manifests/etcd.yaml",
            static_pod(
                "etcd",
                argv["etcd"],
                f"{reg}/etcd:3.4.13-0",
                {"etcd-certs": f"{PKI}/etcd", "etcd-data": "/var/lib/etcd"},
            ),
            0o600,
        ),
        File("/etc/kubernetes/admin.conf", kubeconfig("kubernetes-admin", server, cluster=CLUSTER), 0o600),
        File(
            "/etc/kubernetes/controller-manager.conf",
            kubeconfig("system:kube-controller-manager", server, cluster=CLUSTER),
            0o600,
        ),
        File("/etc/kubernetes/scheduler.conf", kubeconfig("system:kube-scheduler", server, cluster=CLUSTER), 0o600),
        File("/etc/kubernetes/kubelet.conf", kubeconfig(f"system:node:{NODE}", server, cluster=CLUSTER), 0o600),
        File("/var/lib/kubelet/config.yaml", dump_yaml(kcfg), 0o644),
        File("/var/lib/kubelet/kubeadm-flags.env", f'KUBELET_KUBEADM_ARGS="{" ".join(KUBEADM_ARGS)}"\n', 0o644),
        File("/var/lib/kubelet/pki/kubelet.crt", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 0o644),
        File(
            "/var/lib/kubelet/pki/kubelet.key",
            "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",
            0o600,
        ),
        File("/etc/systemd/system/kubelet.service", KIND_KUBELET_UNIT, 0o644),
        File("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", KIND_KUBEADM_DROPIN, 0o644),
        *pki_files(),
    ]
    return NodeSpec(
        name="kind-v0.11.1-kindest-node-v1.21.1",
        description="kube-bench integration node: kind v0.11.1, kindest/node:v1.21.1, cis-1.20",
        files=tuple(files),
        dirs=(Dir("/var/lib/etcd", 0o700), Dir("/var/lib/etcd/member", 0o700)),
        processes=(
            Process("etcd", argv["etcd"]),
            Process("kube-apiserver", argv["kube-apiserver"]),
            Process("kube-controller-manager", argv["kube-controller-manager"]),
            Process("kube-scheduler", argv["kube-scheduler"]),
            Process("kubelet", kubelet_argv, exe="/usr/bin/kubelet"),
            Process(
                "kube-proxy",
                (
                    "/usr/local/bin/kube-proxy",
                    "--config=/var/lib/kube-proxy/config.conf",
                    f"--hostname-override={NODE}",
                ),
            ),
        ),
        binaries=(Binary("/usr/bin/kubelet", f"Kubernetes {KIND_GIT_VERSION}\n", daemon=True),),
        hidden=("/usr/bin/kubectl", "/usr/local/bin/kubectl"),
    )
