"""The Namespace and Jobs of a scan, with the least privilege derived from the checks they run.

For each node, one Job pinned to it (``nodeName``) runs ``kubecis snapshot record --output -`` with that
node's benchmark and targets. The pod gets exactly what those checks read:

* ``hostPID`` only when they read the process table (a component's binary is discovered with ``ps``, or an
  audit runs ``ps``/``pgrep``/``pidof`` or reads ``/proc``);
* read-only ``hostPath`` mounts of only the directories they read (every candidate and default path of the
  targets' components, and absolute paths named in their audits), each at its node path, plus the node's
  ``/etc/passwd`` and ``/etc/group`` (owner names); the agent records only paths under these
  (``--only-paths``), so a file the pod cannot see is reported as not recorded, never as absent;
* no capabilities (``drop: [ALL]``), no privilege escalation, a read-only root file system, seccomp
  ``RuntimeDefault``, no service account token, resource requests and limits, a toleration for every taint,
  ``ttlSecondsAfterFinished``, no retries (``backoffLimit: 0``) and a deadline.

The agent runs as user 0 with every capability dropped: root without ``CAP_DAC_OVERRIDE`` or
``CAP_DAC_READ_SEARCH`` still reads what root owns (kubeadm's 0600 files, ``/var/lib/etcd``), but nothing
it does not own with permissions that exclude it, and cannot write anything (read-only mounts and root file
system). A non-root user could not read the 0600 files the benchmark inspects at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kubecis.benchmark.config import FILE_KINDS, Config
from kubecis.benchmark.loader import load_controls
from kubecis.benchmark.variables import nominal_discovery, substitute

NODE_FILES = ("/etc/passwd", "/etc/group")  # owner and group names, mounted as files
# Absolute paths in audits under these roots are node paths the checks read.
_PATH = re.compile(r"(?<![\w$/.-])(/(?:etc|var|lib|lib64|usr|opt|srv|run|home|root|data)(?:/[^\s'\"`;|&()<>{},]*)?)")
_PROC_AUDIT = re.compile(r"(?:^|[\s;|&(`$])(?:/bin/|/usr/bin/)?(?:ps|pgrep|pidof)(?=\s|$)|/proc/")
_NEVER_MOUNT = ("/proc", "/sys", "/dev", "/run/secrets", "/var/run/secrets")
_JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")
# Candidate paths kube-bench's shared config lists for other distributions: mounted only for their benchmarks
# (a container runtime creates a missing hostPath directory, empty, on the node: never for paths that
# cannot matter there).
_DISTRIBUTION_PATHS = {
    "/var/lib/rancher/k3s": ("k3s-",),
    "/var/lib/rancher/rke2": ("rke2-",),
    "/var/snap": ("cis-1.24-microk8s", "microk8s"),
    "/etc/origin": ("rh-", "ocp-"),
    "/home/kubernetes": ("gke-",),
    "/system": (),
}
LABEL_SCAN = "kubecis.io/scan"
LABEL_NODE = "kubecis.io/node"
ANNOTATION_NODE = "kubecis.io/node-name"
DEFAULT_IMAGE = "ghcr.io/kubecis/kubecis:latest"
TTL_SECONDS = 600
RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}


@dataclass(frozen=True, slots=True)
class Requirements:
    """What the checks of one (benchmark, targets) read on a node, and why."""

    host_pid: bool
    directories: tuple[str, ...]
    reasons: tuple[str, ...] = field(default=())
    absent: tuple[str, ...] = ()  # other distributions' paths: not mounted, answered "no such file"

    @property
    def only_paths(self) -> tuple[str, ...]:
        """The agent's ``--only-paths``: the mounted directories, the name files, ``/proc`` with hostPID."""
        return (*self.directories, *NODE_FILES, *(("/proc",) if self.host_pid else ()))


def _mount_dir(path: str, is_dir: bool) -> str | None:
    """The directory to mount for a node path: the path itself for a directory, else its parent; a glob or
    variable cuts the path at the component holding it."""
    parts = [p for p in path.split("/") if p]
    cut = next((i for i, p in enumerate(parts) if any(c in p for c in "*?[$")), None)
    if cut is not None:
        parts, is_dir = parts[:cut], True
    if not is_dir and parts:
        parts = parts[:-1]
    if not parts:
        return None
    out = "/" + "/".join(parts)
    if any(out == n or out.startswith(n + "/") for n in _NEVER_MOUNT) or out in ("/etc", "/usr", "/var", "/lib"):
        return None
    return out


def _for_benchmark(path: str, benchmark: str) -> bool:
    for root, prefixes in _DISTRIBUTION_PATHS.items():
        if path == root or path.startswith(root + "/"):
            return benchmark.startswith(prefixes) if prefixes else False
    return True


def collapse(dirs: Iterable[str]) -> tuple[str, ...]:
    """Sorted, without any directory already covered by an ancestor in the set."""
    out: list[str] = []
    for d in sorted(set(dirs)):
        if not any(d == k or d.startswith(k.rstrip("/") + "/") for k in out):
            out.append(d)
    return tuple(out)


@cache
def _requirements(config_dir: str, benchmark: str, targets: tuple[str, ...]) -> Requirements:
    config = Config.load(Path(config_dir)).merged_with(benchmark)
    dirs: set[str] = set()
    pid_reasons: list[str] = []
    other: list[str] = []
    for t in targets:
        section = config.section(t)
        if section is None:
            continue
        for comp in section.components:
            if comp.bins:
                pid_reasons.append(f"{t}: the {comp.name} binary is discovered in the process table")
            for kind in FILE_KINDS:
                for p in (*comp.candidates.get(kind, ()), *((comp.defaults[kind],) if kind in comp.defaults else ())):
                    if p.startswith("/"):
                        d = _mount_dir(p, kind == "datadir")
                        if d:
                            dirs.add(d)
        path = config.config_dir / benchmark / f"{t}.yaml"
        if not path.is_file():
            continue
        controls = substitute(load_controls(path, t).controls, nominal_discovery(section))
        for g in controls.groups:
            for c in g.checks:
                for script in (c.audit, c.audit_env, c.audit_config):
                    if not script:
                        continue
                    if _PROC_AUDIT.search(script) and not any(r.startswith(f"{t}: check {c.id}") for r in pid_reasons):
                        pid_reasons.append(f"{t}: check {c.id} reads processes")
                    if "journalctl" in script:
                        dirs.update(_JOURNAL_DIRS)
                    for m in _PATH.finditer(script):
                        p = m.group(1).rstrip(".")
                        if p in NODE_FILES:
                            continue
                        d = _mount_dir(p, p.endswith("/"))
                        if d:
                            dirs.add(d)
    dirs = {d for d in dirs if _for_benchmark(d, benchmark)}
    out = collapse(dirs)
    other.append(f"mounted read-only: {', '.join(out) or 'nothing'}; files {', '.join(NODE_FILES)}")
    absent = tuple(sorted(r for r in _DISTRIBUTION_PATHS if not _for_benchmark(r, benchmark)))
    return Requirements(bool(pid_reasons), out, tuple(
        ([f"hostPID: {pid_reasons[0]}" + (f" (and {len(pid_reasons) - 1} more)" if len(pid_reasons) > 1 else "")]
         if pid_reasons else ["hostPID: not needed (no check reads processes)"]) + other), absent)


def requirements(config_dir: Path, benchmark: str, targets: Iterable[str]) -> Requirements:
    return _requirements(str(config_dir), benchmark, tuple(targets))


# ---- objects ------------------------------------------------------------------------------------------------

def namespace_object(name: str, scan_id: str) -> dict[str, Any]:
    """The scan's namespace. hostPID and hostPath need the ``privileged`` Pod Security level, so it is set
    here (on this namespace only, which the scan removes)."""
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {
            LABEL_SCAN: scan_id,
            "app.kubernetes.io/managed-by": "kubecis",
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "privileged",
            "pod-security.kubernetes.io/audit": "privileged",
        }},
    }


def job_name(node: str) -> str:
    """A DNS-1123 label for the node's Job: a readable prefix plus a hash of the full node name."""
    digest = hashlib.sha256(node.encode()).hexdigest()[:8]
    prefix = re.sub(r"[^a-z0-9-]+", "-", node.lower()).strip("-")[:40].strip("-")
    return f"kubecis-{prefix}-{digest}" if prefix else f"kubecis-{digest}"


def node_label(node: str) -> str:
    return hashlib.sha256(node.encode()).hexdigest()[:16]


def _volume_name(path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:40].strip("-")
    return f"host-{slug}-{hashlib.sha256(path.encode()).hexdigest()[:6]}"


def agent_command(benchmark: str, targets: Iterable[str], req: Requirements) -> list[str]:
    return ["kubecis", "snapshot", "record", "--output", "-", "--benchmark", benchmark,
            "--targets", ",".join(targets), "--only-paths", ",".join(req.only_paths),
            "--absent-paths", ",".join(req.absent)]


def job_object(*, node: str, namespace: str, scan_id: str, image: str, benchmark: str, targets: list[str],
               req: Requirements, timeout: float, pull_policy: str = "IfNotPresent") -> dict[str, Any]:
    """The Job that records ``node`` (every least-privilege property is asserted by tests)."""
    labels = {LABEL_SCAN: scan_id, LABEL_NODE: node_label(node), "app.kubernetes.io/managed-by": "kubecis"}
    mounts = [{"name": _volume_name(d), "mountPath": d, "readOnly": True} for d in req.directories]
    volumes: list[dict[str, Any]] = [{"name": _volume_name(d), "hostPath": {"path": d}} for d in req.directories]
    for f in NODE_FILES:
        mounts.append({"name": _volume_name(f), "mountPath": f, "readOnly": True})
        volumes.append({"name": _volume_name(f), "hostPath": {"path": f, "type": "File"}})
    deadline = max(1, int(timeout + 0.999))
    container = {
        "name": "kubecis",
        "image": image,
        "imagePullPolicy": pull_policy,
        "command": agent_command(benchmark, targets, req),
        "env": [{"name": "KUBECIS_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "resources": {k: dict(v) for k, v in RESOURCES.items()},
        "securityContext": {
            "runAsUser": 0,
            "runAsGroup": 0,
            "runAsNonRoot": False,
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": mounts,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    pod_spec: dict[str, Any] = {
        "nodeName": node,
        "restartPolicy": "Never",
        "hostPID": req.host_pid,
        "hostNetwork": False,
        "hostIPC": False,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": [{"operator": "Exists"}],
        "containers": [container],
        "volumes": volumes,
    }
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": job_name(node), "namespace": namespace, "labels": labels,
                     "annotations": {ANNOTATION_NODE: node, "kubecis.io/benchmark": benchmark,
                                     "kubecis.io/targets": ",".join(targets)}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline,
            "ttlSecondsAfterFinished": TTL_SECONDS,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def to_yaml(objects: Iterable[dict[str, Any]]) -> str:
    """Multi-document YAML (for ``cluster manifests``)."""
    import yaml

    return "".join("---\n" + yaml.safe_dump(o, sort_keys=False, default_flow_style=False) for o in objects)
