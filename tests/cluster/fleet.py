"""The example fleet: hermetic kubeadm nodes for the cluster tests and `kubecis demo --cluster`.

* ``cp-1``: a kubeadm control plane with typical weaknesses (tests/hermetic/nodes.py kubeadm_misconfigured);
* ``worker-hardened``: a kubeadm worker with the CIS remediations applied (from kubeadm_hardened);
* ``worker-misconfigured``: a kubeadm worker with the kubelet weaknesses (from kubeadm_misconfigured).

A worker is its control-plane spec without the control-plane processes, static pod manifests, control-plane
kubeconfigs and etcd data.
"""

from __future__ import annotations

from tests.hermetic.node import NodeSpec
from tests.hermetic.nodes import kubeadm_hardened, kubeadm_misconfigured

CONTROL_PLANE_PROCS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
CONTROL_PLANE_FILES = ("/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf",
                       "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf",
                       "/etc/kubernetes/tokens.csv")


def worker(spec: NodeSpec, name: str) -> NodeSpec:
    files = tuple(f for f in spec.files
                  if not f.path.startswith("/etc/kubernetes/manifests/") and f.path not in CONTROL_PLANE_FILES
                  and not (f.path.startswith("/etc/kubernetes/pki/") and "/ca.crt" not in f.path))
    return spec.without_processes(*CONTROL_PLANE_PROCS).replace(
        name=name, files=files, dirs=tuple(d for d in spec.dirs if not d.path.startswith("/var/lib/etcd")))


def control_plane() -> NodeSpec:
    return kubeadm_misconfigured().replace(name="cp-1")


def worker_hardened() -> NodeSpec:
    return worker(kubeadm_hardened(), "worker-hardened")


def worker_misconfigured() -> NodeSpec:
    return worker(kubeadm_misconfigured(), "worker-misconfigured")


FLEET = {"cp-1": control_plane, "worker-hardened": worker_hardened, "worker-misconfigured": worker_misconfigured}
