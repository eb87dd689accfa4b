"""Evaluating the policies checks over a large cluster dump: wall time and peak RSS, in one run.

    python benchmarks/policies_scale.py [--pods 50000] [--rbac 5000] [--keep DIR]

Generates `kubectl get -A -o json` output (4-space indent, like kubectl) for a cluster of PODS pods in 500
namespaces (a tenth of them privileged, with hostPath volumes or secrets in environment variables; each with the
status, managed fields and volumes a real pod has) and RBAC objects (Roles, RoleBindings, ClusterRoles,
ClusterRoleBindings in equal parts, some with wildcards or secret access), then measures, each in a fresh process:

(1) baseline: reading the dump with the standard library (``json.load``), nothing evaluated;
(2) ``kubecis run --objects DUMP --targets policies --benchmark cis-1.12 --json``: every section 5 check, with
    the evidence, natively (the dump is read once, streamed, and kept compressed with its projections);
(3) ``kubecis probe --objects DUMP privileged-containers``: one probe, as `--executor shell` would run it.

Figures: wall time and peak RSS (ru_maxrss of the child), and ratios against the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KUBECIS = Path(sys.executable).parent / "kubecis"
NAMESPACES = 500


def pod(i: int) -> dict[str, Any]:
    ns = f"team-{i % NAMESPACES}"
    name = f"web-{i // NAMESPACES}-{i % 7}abcd"
    container: dict[str, Any] = {
        "name": "app", "image": f"registry.example.com/team/app:{i % 13}.0", "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
        "env": [{"name": "MODE", "value": "production"}],
        "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                          "readOnly": True}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    volumes: list[dict[str, Any]] = [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}]
    if i % 10 == 0:
        container["securityContext"] = {"privileged": True}
    if i % 10 == 1:
        volumes.append({"name": "logs", "hostPath": {"path": "/var/log", "type": ""}})
    if i % 10 == 2:
        container["env"].append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns, "uid": f"0000{i:08d}-aaaa-bbbb-cccc-dddddddddddd",
            "resourceVersion": str(100000 + i), "creationTimestamp": "2025-01-01T00:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "6d4b75cb6d"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"web-{i % 97}",
                                 "uid": "x", "controller": True, "blockOwnerDeletion": True}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                               "time": "2025-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                                            "f:spec": {"f:containers": {'k:{"name":"app"}': {".": {}}}}}}],
        },
        "spec": {"containers": [container], "volumes": volumes, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                 "serviceAccountName": "default", "serviceAccount": "default", "nodeName": f"node-{i % 40}",
                 "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                 "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30,
                 "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                  "effect": "NoExecute", "tolerationSeconds": 300}]},
        "status": {"phase": "Running", "hostIP": "10.0.0.1", "podIP": f"10.1.{i // 250 % 250}.{i % 250}",
                   "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}
                                  for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                   "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "started": True,
                                          "image": container["image"], "imageID": "sha256:" + "ab" * 32,
                                          "containerID": "containerd://" + "cd" * 32,
                                          "state": {"running": {"startedAt": "2025-01-01T00:00:01Z"}}}],
                   "qosClass": "Burstable", "startTime": "2025-01-01T00:00:00Z"},
    }


def rbac(i: int, n: int) -> dict[str, Any]:
    api = "rbac.authorization.k8s.io/v1"
    quarter = n // 4
    kind = ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")[min(i // max(quarter, 1), 3)]
    meta: dict[str, Any] = {"name": f"{kind.lower()}-{i}"}
    if kind in ("Role", "RoleBinding"):
        meta["namespace"] = f"team-{i % NAMESPACES}"
    rules = [{"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": ["get", "list", "watch"]}]
    if i % 25 == 0:
        rules.append({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    if i % 25 == 1:
        rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]})
    if kind in ("Role", "ClusterRole"):
        return {"apiVersion": api, "kind": kind, "metadata": meta, "rules": rules}
    role_kind = "Role" if kind == "RoleBinding" and i % 2 else "ClusterRole"
    target = i - quarter if role_kind == "Role" else 2 * quarter + (i - quarter) % quarter
    return {"apiVersion": api, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                        "name": f"{role_kind.lower()}-{target}"},
            "subjects": [{"kind": "User", "name": f"user-{i}"},
                         {"kind": "ServiceAccount", "name": "default", "namespace": f"team-{i % NAMESPACES}"}]}


def write_dump(path: Path, pods: int, rbac_n: int) -> None:
    """Written item by item (the generator itself stays small)."""
    with path.open("w") as f:
        f.write('{\n    "apiVersion": "v1",\n    "items": [\n')
        first = True

        def emit(obj: dict[str, Any]) -> None:
            nonlocal first
            text = json.dumps(obj, indent=4)
            f.write(("" if first else ",\n") + "\n".join("        " + line for line in text.splitlines()))
            first = False

        for n in ("default", "kube-system", *(f"team-{k}" for k in range(NAMESPACES))):
            emit({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}})
            emit({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": n}})
        for i in range(pods):
            emit(pod(i))
        for i in range(rbac_n):
            emit(rbac(i, rbac_n))
        f.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')


def measure(cmd: list[str], work: Path) -> tuple[float, float, bytes]:
    """(wall seconds, peak RSS MiB, stdout) of one child process (its own ru_maxrss, from wait4)."""
    out_path, err_path = work / "stdout", work / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed: {err_path.read_text()[-500:]}")
    return wall, usage.ru_maxrss / 1024, out_path.read_bytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=50_000)
    ap.add_argument("--rbac", type=int, default=5_000)
    ap.add_argument("--keep", type=Path, help="directory to keep the generated dump in")
    ns = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kubecis-policies-scale-"))
    try:
        dump = (ns.keep or work) / "cluster.json"
        dump.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        write_dump(dump, ns.pods, ns.rbac)
        print(f"dump: {ns.pods} pods, {ns.rbac} RBAC objects, {dump.stat().st_size / 1e6:.0f} MB "
              f"(generated in {time.perf_counter() - t:.1f} s)")
        rows = []
        # each measurement in its own process, so that ru_maxrss is that process's own peak
        base = measure([sys.executable, "-c", f"import json; json.load(open({str(dump)!r}))"], work)
        rows.append(("baseline: json.load of the dump (nothing evaluated)", base))
        run = measure([str(KUBECIS), "run", "--objects", str(dump), "--targets", "policies", "--benchmark",
                       "cis-1.12", "--json"], work)
        doc = json.loads(run[2])
        results = {c["test_number"]: c for ctl in doc["Controls"] for g in ctl["tests"] or [] for c in g["results"]}
        rows.append(("kubecis run --objects (34 policies checks, cis-1.12)", run))
        probe = measure([str(KUBECIS), "probe", "--objects", str(dump), "privileged-containers"], work)
        rows.append(("kubecis probe --objects privileged-containers", probe))
        for label, (wall, rss, _) in rows:
            print(f"{label:58s} {wall:7.1f} s ({wall / base[0]:4.2f}x)  peak RSS {rss:7.0f} MiB "
                  f"({rss / base[1]:4.2f}x)")
        priv = results["5.2.2"]["actual_value"].splitlines()[0]
        print(f"5.2.2 says: {priv} (expected {len(range(0, ns.pods, 10))} pods)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
