"""A control-plane node in memory (FakeHost) whose kube-apiserver names configuration files, and the verdicts the
bundled checks give on it: discovery, substitution, the native interpreter, the probe and the check's tests, end to
end."""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass

from kubecis.audit.native import NativeExecutor
from kubecis.benchmark import bundled
from kubecis.benchmark.config import Config
from kubecis.benchmark.variables import substitute
from kubecis.discovery import discover
from kubecis.host.base import Host
from kubecis.results.runner import run_check
from tests.fakes import FakeHost

ENC = "/etc/kubernetes/enc/enc.yaml"
AUDIT = "/etc/kubernetes/audit-policy.yaml"
ADMISSION = "/etc/kubernetes/admission/admission.yaml"
# cis-2.0 (1.9+ numbering) ids of the checks that read these files
CHECKS = {"1.2.9": "master", "1.2.27": "master", "1.2.28": "master", "1.2.29": "master", "3.2.1": "controlplane",
          "3.2.2": "controlplane"}


@dataclass(frozen=True)
class Verdict:
    state: str
    actual: str
    reason: str


@functools.cache
def _config(bench: str) -> Config:
    return Config.load(bundled.materialise()).merged_with(bench)


def node(flags: dict[str, str], files: dict[str, str] | None = None) -> FakeHost:
    """A kubeadm-like control plane: the API server runs with ``flags`` (``--name=value``); ``files`` by path."""
    host = FakeHost(files={p: textwrap.dedent(t).encode() for p, t in (files or {}).items()})
    host.add_process(["kube-apiserver", "--advertise-address=10.0.0.10", *(f"--{k}={v}" for k, v in flags.items())])
    host.add_process(["kube-controller-manager", "--kubeconfig=/etc/kubernetes/controller-manager.conf"])
    host.add_process(["kube-scheduler", "--kubeconfig=/etc/kubernetes/scheduler.conf"])
    return host


def verdicts(host: Host, bench: str = "cis-2.0", ids: tuple[str, ...] = tuple(CHECKS)) -> dict[str, Verdict]:
    s = bundled.get_set(bench)
    out: dict[str, Verdict] = {}
    ex = NativeExecutor(host)
    for target in ("master", "controlplane"):
        section = _config(bench).section(target)
        assert section is not None
        controls = substitute(s.controls[target], discover(section, host))
        for c in controls.checks():
            if c.id in ids and CHECKS.get(c.id, target) == target:
                r = run_check(c, ex)
                out[c.id] = Verdict(r.state.value, r.actual_value, r.reason)
    return out


def states(host: Host, bench: str = "cis-2.0", ids: tuple[str, ...] = tuple(CHECKS)) -> dict[str, str]:
    return {k: v.state for k, v in verdicts(host, bench, ids).items()}
